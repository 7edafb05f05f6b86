import { NotFoundError, streams } from '@mlp/contracts';
import type { EventStore } from '@mlp/eventstore';
import { aliasKey, ServedModels, type VersionInfo } from '../models/served-models';

/**
 * `name`, `name@alias` or `name:version` → the registered version, read from
 * the model's stream with serving's own registry view (ServedModels): an
 * alias resolves to the version it holds now; `name` alone means its
 * `production` alias. The version need not be served by this instance.
 */
export async function resolveBatchModel(store: EventStore, ref: string): Promise<{ info: VersionInfo; alias: string | null }> {
  const m = /^([^@:]+)(?:@(.+)|:(\d+))?$/.exec(ref);
  if (!m) throw new NotFoundError(`'${ref}' names no model`, { code: 'MODEL_NOT_FOUND' });
  const [, name, aliasPart, versionPart] = m;
  const view = new ServedModels();
  for (const event of await store.readStream(streams.model(name))) view.apply(event);
  let version = versionPart === undefined ? undefined : Number(versionPart);
  const alias = versionPart === undefined ? (aliasPart ?? 'production') : null;
  if (alias !== null) {
    version = view.desired('*').get(aliasKey(name, alias))?.version;
    if (version === undefined) throw new NotFoundError(`model '${name}' has no alias '${alias}'${aliasPart ? '' : ' (name model@alias or model:version)'}`, { code: 'MODEL_NOT_FOUND' });
  }
  const info = view.version(name, version!);
  if (!info) throw new NotFoundError(`model '${name}' has no version ${version}`, { code: 'VERSION_NOT_FOUND' });
  return { info, alias };
}
