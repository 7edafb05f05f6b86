import { parseArgs } from 'node:util';
import type { AliasHistoryEntry, DeploymentView, ModelVersionView, RegisteredModelView } from '@mlp/contracts';
import { call, UsageError } from '../api';
import { formatNumber, printJson, printTable } from '../output';
import { printDeployment } from './deploy';

const USAGE = `usage: mlp models [--tag key=value]... [--json]
       mlp models <name> [--json]
       mlp models create <name> [--description text] [--tag key=value]... [--json]
       mlp models versions <name> [--tag key=value]... [--metric 'accuracy>=0.9']... [--alias a] [--json]
       mlp models register <name> --run <run-id> [--description text] [--tag key=value]... [--json]
       mlp models history <name> [--alias production] [--json]
       mlp models policy <name> [--registration blessed-only|every-run|manual] [--approval alias]... [--json]
       mlp promote <model> <version> --alias <a> [--canary <percent>] [--reason text] [--expected-revision n] [--json]
       mlp approve <model> <version> --alias <a> [--reason text] [--json]
       mlp rollback <model> [--alias production] [--reason text] [--json]`;

const enc = encodeURIComponent;

function parse<O extends Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>>(args: string[], options: O) {
  try {
    return parseArgs({ args, allowPositionals: true, options });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${USAGE}`);
  }
}

function keyValues(values: string[] | undefined, flag: string, sep = '='): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of values ?? []) {
    const at = t.indexOf(sep);
    if (at <= 0) throw new UsageError(`${flag} must be key${sep}value, got '${t}'`);
    out[t.slice(0, at)] = t.slice(at + 1);
  }
  return out;
}

const formatTags = (tags: Record<string, string>) =>
  Object.entries(tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
const formatAliases = (aliases: Record<string, number> | undefined) =>
  Object.entries(aliases ?? {})
    .map(([a, v]) => `${a}→v${v}`)
    .join(',');

/** `mlp models …`: registered models, versions, registration by hand, alias history, policies. */
export async function models(args: string[], json: boolean): Promise<void> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'create':
      return create(rest, json);
    case 'versions':
      return versions(rest, json);
    case 'register':
      return register(rest, json);
    case 'history':
      return history(rest, json);
    case 'policy':
      return policy(rest, json);
    default:
      return show(args, json);
  }
}

async function show(args: string[], json: boolean): Promise<void> {
  const { positionals, values } = parse(args, { tag: { type: 'string', multiple: true } });
  if (positionals.length > 1) throw new UsageError(USAGE);
  if (positionals[0]) {
    const model = await call<RegisteredModelView>('registry', 'GET', `/models/${enc(positionals[0])}`);
    if (json) return printJson(model);
    printTable([{ ...model, tags: formatTags(model.tags), aliases: formatAliases(model.aliases), policy: model.policy ? `${model.policy.registration}${model.policy.approvalRequiredFor.length ? `; approval for ${model.policy.approvalRequiredFor.join(',')}` : ''}` : '' }], [
      'name',
      'description',
      'latestVersion',
      'aliases',
      'policy',
      'tags',
      'revision',
      'updatedAt',
    ]);
    return;
  }
  const query = Object.entries(keyValues(values.tag, '--tag'))
    .map(([k, v]) => `tag=${enc(`${k}:${v}`)}`)
    .join('&');
  const { models: list } = await call<{ models: RegisteredModelView[] }>('registry', 'GET', `/models${query ? `?${query}` : ''}`);
  if (json) return printJson(list);
  printTable(list.map((m) => ({ ...m, tags: formatTags(m.tags), aliases: formatAliases(m.aliases) })), ['name', 'latestVersion', 'aliases', 'description', 'tags', 'updatedAt']);
}

async function create(args: string[], json: boolean): Promise<void> {
  const { positionals, values } = parse(args, { description: { type: 'string' }, tag: { type: 'string', multiple: true } });
  if (positionals.length !== 1) throw new UsageError('usage: mlp models create <name> [--description text] [--tag key=value]...');
  const model = await call<RegisteredModelView>('registry', 'POST', '/models', { name: positionals[0], description: values.description, tags: keyValues(values.tag, '--tag') });
  if (json) return printJson(model);
  console.log(`created registered model '${model.name}'`);
}

function versionRows(list: ModelVersionView[]) {
  return list.map((v) => ({
    version: v.version,
    status: v.status,
    aliases: v.aliases.join(','),
    source: v.source,
    blessed: v.blessed === null ? '' : v.blessed ? 'yes' : 'no',
    metrics: Object.entries(v.metrics)
      .slice(0, 4)
      .map(([k, m]) => `${k}=${formatNumber(m)}`)
      .join(' '),
    runId: v.runId,
    tags: formatTags(v.tags),
    createdAt: v.createdAt,
  }));
}

async function versions(args: string[], json: boolean): Promise<void> {
  const { positionals, values } = parse(args, { tag: { type: 'string', multiple: true }, metric: { type: 'string', multiple: true }, alias: { type: 'string' } });
  if (positionals.length !== 1) throw new UsageError(`usage: mlp models versions <name> [--tag key=value]... [--metric 'accuracy>=0.9']... [--alias a]`);
  const query = [
    ...Object.entries(keyValues(values.tag, '--tag')).map(([k, v]) => `tag=${enc(`${k}:${v}`)}`),
    ...(values.metric ?? []).map((m) => `metric=${enc(m)}`),
    ...(values.alias ? [`alias=${enc(values.alias)}`] : []),
  ].join('&');
  const { versions: list } = await call<{ versions: ModelVersionView[] }>('registry', 'GET', `/models/${enc(positionals[0])}/versions${query ? `?${query}` : ''}`);
  if (json) return printJson(list);
  printTable(versionRows(list), ['version', 'status', 'aliases', 'source', 'blessed', 'metrics', 'runId', 'tags', 'createdAt'], { right: ['version'] });
}

async function register(args: string[], json: boolean): Promise<void> {
  const { positionals, values } = parse(args, { run: { type: 'string' }, description: { type: 'string' }, tag: { type: 'string', multiple: true } });
  if (positionals.length !== 1 || !values.run) throw new UsageError('usage: mlp models register <name> --run <run-id> [--description text] [--tag key=value]...');
  const v = await call<ModelVersionView>('registry', 'POST', `/models/${enc(positionals[0])}/versions`, { runId: values.run, description: values.description, tags: keyValues(values.tag, '--tag') });
  if (json) return printJson(v);
  console.log(`registered run ${v.runId} as version ${v.version} of '${v.name}'`);
  printTable(versionRows([v]), ['version', 'status', 'source', 'blessed', 'metrics', 'runId'], { right: ['version'] });
}

async function history(args: string[], json: boolean): Promise<void> {
  const { positionals, values } = parse(args, { alias: { type: 'string' } });
  if (positionals.length !== 1) throw new UsageError('usage: mlp models history <name> [--alias production]');
  const alias = values.alias ?? 'production';
  const h = await call<{ current: number | null; history: AliasHistoryEntry[] }>('registry', 'GET', `/models/${enc(positionals[0])}/aliases/${enc(alias)}/history`);
  if (json) return printJson(h);
  console.log(`${positionals[0]}@${alias}: ${h.current === null ? 'not assigned now' : `version ${h.current}`}`);
  printTable(
    h.history.map((e) => ({ ...e, to: e.to ?? 'now', ended: e.ended ? `${e.ended.kind} by ${e.ended.actor}${e.ended.reason ? `: ${e.ended.reason}` : ''}` : '' })),
    ['version', 'from', 'to', 'kind', 'actor', 'reason', 'ended'],
    { right: ['version'] },
  );
}

async function policy(args: string[], json: boolean): Promise<void> {
  const { positionals, values } = parse(args, { registration: { type: 'string' }, approval: { type: 'string', multiple: true } });
  if (positionals.length !== 1) throw new UsageError('usage: mlp models policy <name> [--registration blessed-only|every-run|manual] [--approval alias]...');
  const path = `/models/${enc(positionals[0])}/policy`;
  const p =
    values.registration || values.approval
      ? await call<object>('registry', 'PUT', path, { registration: values.registration ?? 'blessed-only', approvalRequiredFor: values.approval ?? [] })
      : await call<object>('registry', 'GET', path);
  if (json) return printJson(p);
  console.log(JSON.stringify(p));
}

interface AliasChange {
  name: string;
  alias: string;
  version: number | null;
  previousVersion: number | null;
  kind: string;
  reason: string;
  actor: string;
  revision: number;
}

function version(v: string | undefined, usage: string): number {
  const n = Number(v);
  if (!v || !Number.isInteger(n) || n <= 0) throw new UsageError(usage);
  return n;
}

/** `mlp promote <model> <version> --alias <a>`: assign or move an alias (an approval may be needed first). */
export async function promote(args: string[], json: boolean): Promise<void> {
  const usage = 'usage: mlp promote <model> <version> --alias <a> [--canary <percent>] [--reason text] [--expected-revision n]';
  const { positionals, values } = parse(args, { alias: { type: 'string' }, reason: { type: 'string' }, 'expected-revision': { type: 'string' }, canary: { type: 'string' } });
  if (positionals.length !== 2 || !values.alias) throw new UsageError(usage);
  if (values.canary !== undefined) {
    // Through a canary rollout on serving: the alias moves when the rollout is promoted (mlp deploy promote, or its policy).
    const weight = Number(values.canary);
    if (values.canary.trim() === '' || !Number.isInteger(weight)) throw new UsageError(`--canary must be a whole percent, got '${values.canary}'\n${usage}`);
    const body = { model: positionals[0], version: version(positionals[1], usage), strategy: 'canary', weight, alias: values.alias, ...(values.reason !== undefined ? { reason: values.reason } : {}) };
    return printDeployment(await call<DeploymentView>('serving', 'POST', '/deployments', body), json);
  }
  const expected = values['expected-revision'];
  const change = await call<AliasChange>('registry', 'PUT', `/models/${enc(positionals[0])}/aliases/${enc(values.alias)}`, {
    version: version(positionals[1], usage),
    reason: values.reason,
    ...(expected !== undefined ? { expectedRevision: Number(expected) } : {}),
  });
  if (json) return printJson(change);
  if (change.kind === 'unchanged') console.log(`${change.name}@${change.alias} already points to version ${change.version}`);
  else console.log(`${change.name}@${change.alias} → version ${change.version}${change.previousVersion !== null ? ` (was ${change.previousVersion})` : ''}`);
}

/** `mlp approve <model> <version> --alias <a>`: the caller approves the version for the alias. */
export async function approve(args: string[], json: boolean): Promise<void> {
  const usage = 'usage: mlp approve <model> <version> --alias <a> [--reason text]';
  const { positionals, values } = parse(args, { alias: { type: 'string' }, reason: { type: 'string' } });
  if (positionals.length !== 2 || !values.alias) throw new UsageError(usage);
  const v = await call<ModelVersionView>('registry', 'POST', `/models/${enc(positionals[0])}/versions/${version(positionals[1], usage)}/approvals`, { alias: values.alias, reason: values.reason });
  if (json) return printJson(v);
  const mine = v.approvals.filter((a) => a.alias === values.alias);
  console.log(`version ${v.version} of '${v.name}' approved for ${values.alias} by ${mine.map((a) => a.approvedBy).join(', ')}`);
}

/** `mlp rollback <model> [--alias production]`: back to the previous holder, recorded as a rollback. */
export async function rollback(args: string[], json: boolean): Promise<void> {
  const { positionals, values } = parse(args, { alias: { type: 'string' }, reason: { type: 'string' } });
  if (positionals.length !== 1) throw new UsageError('usage: mlp rollback <model> [--alias production] [--reason text]');
  const alias = values.alias ?? 'production';
  const change = await call<AliasChange>('registry', 'POST', `/models/${enc(positionals[0])}/aliases/${enc(alias)}/rollback`, { reason: values.reason });
  if (json) return printJson(change);
  console.log(`${change.name}@${change.alias} rolled back to version ${change.version} (from ${change.previousVersion ?? 'none'})`);
}
