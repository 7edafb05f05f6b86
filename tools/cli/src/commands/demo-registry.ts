import { streams, type CreatedApiKey, type ModelVersionView } from '@mlp/contracts';
import { call, callTextGet } from '../api';
import { awaitEvent, headPosition, shortId } from './demo-events';

const enc = encodeURIComponent;

/** The two actors of the registry step, each a named API key made for it (so the actor is the same kind in both modes). */
export const demoActors = { approver: 'demo-reviewer', assigner: 'demo' } as const;

/**
 * The registry step of the demo: the trained run's version (registered by the
 * registry's process manager when the run was blessed, else by hand), approved
 * for `production` by one actor, then `production` assigned to it by another.
 * Each actor is an API key made for this step (`mlp keys create`) and revoked
 * after it: with auth on (distributed) a request's actor is its key's, and
 * with auth off (embedded) a presented key still names it, so both modes
 * record `apikey:<id>`. The printed actors are read back from the recorded
 * events, never assumed.
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
  const mark = await headPosition(env);
  const approver = await call<CreatedApiKey>('registry', 'POST', '/auth/keys', { name: demoActors.approver, scopes: ['write'] }, env);
  const assigner = await call<CreatedApiKey>('registry', 'POST', '/auth/keys', { name: demoActors.assigner, scopes: ['write'] }, env);
  try {
    await call('registry', 'POST', `/models/${enc(model)}/versions/${v}/approvals`, { alias: 'production', reason: 'reviewed the holdout and fairness slices' }, { ...env, MLP_API_KEY: approver.token });
    await call('registry', 'PUT', `/models/${enc(model)}/aliases/production`, { version: v, reason: 'npm start demo' }, { ...env, MLP_API_KEY: assigner.token });
  } finally {
    for (const key of [approver, assigner]) await call('registry', 'DELETE', `/auth/keys/${key.id}`, undefined, env).catch(() => undefined);
  }
  const stream = streams.model(model);
  const approved = await awaitEvent<{ version: number; alias: string; approvedBy: string }>('ModelVersionApproved', { stream, after: mark, where: (e) => e.data.version === v, timeoutMs: 30_000 }, env);
  const assigned = await awaitEvent<{ version: number; alias: string; previousVersion: number | null }>('ModelAliasAssigned', { stream, after: mark, where: (e) => e.data.alias === 'production', timeoutMs: 30_000 }, env);
  const names = new Map([approver, assigner].map((k) => [`apikey:${k.id}`, k.name]));
  const who = (actor: string) => `${actor}${names.has(actor) ? ` (key '${names.get(actor)}')` : ''}`;
  const previous = assigned.data.previousVersion;
  const lines = [
    `registered run ${shortId(runId)} as '${model}' version ${v} ${how}`,
    `approved version ${v} for production by ${who(approved.data.approvedBy)} (mlp approve ${model} ${v} --alias production)`,
    `production → version ${assigned.data.version} by ${who(assigned.actor)}${previous !== null && previous !== assigned.data.version ? ` (was ${previous})` : ''}`,
  ];
  return { version: v, lines, json: { model, version: v, production: assigned.data.version, approvedBy: approved.data.approvedBy, assignedBy: assigned.actor } };
}

/** The lineage tree of the version `production` holds now, as the registry renders it. */
export async function demoLineage(model: string, env: NodeJS.ProcessEnv = process.env): Promise<{ version: number; lines: string[] }> {
  const view = await call<{ aliases: Record<string, number> }>('registry', 'GET', `/models/${enc(model)}`, undefined, env);
  const version = view.aliases.production;
  if (version === undefined) throw new Error(`demo failed: '${model}' has no production version`);
  const tree = await callTextGet('registry', `/lineage/models/${enc(model)}/versions/${version}?format=tree`, env);
  return { version, lines: [`lineage of ${model} version ${version}, production (mlp lineage model ${model} ${version}):`, ...tree.trimEnd().split('\n').map((l) => `  ${l}`)] };
}
