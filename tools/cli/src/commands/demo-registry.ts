import type { ModelVersionView } from '@mlp/contracts';
import { call, callTextGet } from '../api';

/**
 * The registry step of the demo: the trained run's version (registered by the registry's process manager when
 * the run was blessed, else by hand), `production` assigned to it, and its lineage tree.
 */
export async function demoRegistry(model: string, runId: string, blessed: boolean): Promise<{ lines: string[]; json: Record<string, unknown> }> {
  const enc = encodeURIComponent;
  let version: ModelVersionView | undefined;
  for (let i = 0; i < 100 && !version && blessed; i++) {
    const found = await call<{ versions: ModelVersionView[] }>('registry', 'GET', `/versions?model=${enc(model)}&runId=${enc(runId)}`).catch(() => ({ versions: [] }));
    version = found.versions[0];
    if (!version) await new Promise((r) => setTimeout(r, 100));
  }
  const how = version ? 'by its registration policy' : 'by hand (the run was not blessed)';
  version ??= await call<ModelVersionView>('registry', 'POST', `/models/${enc(model)}/versions`, { runId, description: 'registered by the demo' });
  const change = await call<{ version: number; previousVersion: number | null }>('registry', 'PUT', `/models/${enc(model)}/aliases/production`, { version: version.version, reason: 'npm start demo' });
  const tree = await callTextGet('registry', `/lineage/models/${enc(model)}/versions/${version.version}?format=tree`);
  const lines = [
    `registered run ${runId} as '${model}' version ${version.version} ${how}`,
    `production → version ${change.version}${change.previousVersion !== null && change.previousVersion !== change.version ? ` (was ${change.previousVersion}; undo with: npx mlp rollback ${model})` : ''}`,
    `lineage (npx mlp lineage model ${model} ${version.version}):`,
    ...tree.trimEnd().split('\n').map((l) => `  ${l}`),
  ];
  return { lines, json: { model, version: version.version, production: change.version, lineage: `/lineage/models/${model}/versions/${version.version}` } };
}
