import { ValidationError } from '@mlp/contracts';
import type { ArtifactStore } from './artifact-store';
import { FsArtifactStore } from './fs/fs-artifact-store';
import { fsOptionsFromUrl } from './fs/fs-store-url';
import { redactUrl } from './redact-url';
import { S3ArtifactStore } from './s3/s3-artifact-store';
import { s3OptionsFromUrl } from './s3/s3-store-url';

type StoreFactory = (url: string, env: NodeJS.ProcessEnv) => ArtifactStore;

/** URL scheme → adapter. Adding a backend is one line here. */
const factories: Record<string, StoreFactory> = {
  file: (url) => new FsArtifactStore(fsOptionsFromUrl(url)),
  s3: (url, env) => new S3ArtifactStore(s3OptionsFromUrl(url, env)),
};

/** The URL schemes createArtifactStore understands. */
export const artifactStoreSchemes: readonly string[] = Object.keys(factories);

/**
 * Builds the artifact store an `ARTIFACTS_URL` names: `file:///abs/path`,
 * `file://./relative`, or `s3://bucket[/prefix]` (endpoint and keys from `env`,
 * see s3-store-url.ts). Checks the configuration; connects on first use.
 */
export function createArtifactStore(url: string, env: NodeJS.ProcessEnv = process.env): ArtifactStore {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  const factory = scheme === undefined ? undefined : factories[scheme];
  if (!factory) {
    const known = artifactStoreSchemes.map((s) => `${s}://`).join(', ');
    const message = `unknown artifact store URL ${JSON.stringify(redactUrl(url))}: known schemes are ${known}`;
    throw new ValidationError(message, [{ path: 'url', message: `known schemes: ${known}` }]);
  }
  return factory(url, env);
}
