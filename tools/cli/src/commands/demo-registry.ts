import type { ModelVersionView } from '@mlp/contracts';
import { call, callTextGet } from '../api';
import { shortId } from './demo-events';

const enc = encodeURIComponent;

/**
 * The registry step of the demo: the trained run's version (registered by the
 * registry's process manager when the run was blessed, else by hand), approved
 * for `production` by a second actor (`reviewer`), then `production` assigned
 * to it by the demo.
 */
export async function demoRegistry(model: string, runId: string, blessed: boolean, env: NodeJS.ProcessEnv = process.env): Promise<{ version: number; lines: string[]; json: Record<string, unknown> }> {
  let version: ModelVersionView | undefined;
  for (let i = 0; i < 100 && !version && blessed; i++) {
    const found = await call<{ versions: ModelVersionView[] }>('registry', 'GET', `/versions?model=${enc(model)}&runId=${enc(runId)}`, undefined, env).catch(() => ({ versions: [] }));
    version = found.versions[0];
    if (!version) await new Promise((r) => setTimeout(r, 100));
  }
  const how = version ? 'by its registration policy (blessed runs)' : 'by hand (the run was not blessed)';
  version ??= await call<ModelVersionView>('registry', 'POST', `/models/${enc(model)}/versions`, { runId, description: 'registered by the demo' }, env);
  const v = version.version;
  await call<ModelVersionView>('registry', 'POST', `/models/${enc(model)}/versions/${v}/approvals`, { alias: 'production', reason: 'reviewed the holdout and fairness slices' }, { ...env, MLP_ACTOR: 'reviewer' });
  const change = await call<{ version: number; previousVersion: number | null }>('registry', 'PUT', `/models/${enc(model)}/aliases/production`, { version: v, reason: 'npm start demo' }, { ...env, MLP_ACTOR: 'demo' });
  const lines = [
    `registered run ${shortId(runId)} as '${model}' version ${v} ${how}`,
    `approved version ${v} for production by 'reviewer' (mlp approve ${model} ${v} --alias production)`,
    `production → version ${change.version} by 'demo'${change.previousVersion !== null && change.previousVersion !== change.version ? ` (was ${change.previousVersion})` : ''}`,
  ];
  return { version: v, lines, json: { model, version: v, production: change.version } };
}

/** The lineage tree of the version `production` holds now, as the registry renders it. */
export async function demoLineage(model: string, env: NodeJS.ProcessEnv = process.env): Promise<{ version: number; lines: string[] }> {
  const view = await call<{ aliases: Record<string, number> }>('registry', 'GET', `/models/${enc(model)}`, undefined, env);
  const version = view.aliases.production;
  if (version === undefined) throw new Error(`demo failed: '${model}' has no production version`);
  const tree = await callTextGet('registry', `/lineage/models/${enc(model)}/versions/${version}?format=tree`, env);
  return { version, lines: [`lineage of ${model} version ${version}, production (mlp lineage model ${model} ${version}):`, ...tree.trimEnd().split('\n').map((l) => `  ${l}`)] };
}
