import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { parseOrThrow, startDeploymentSchema, type DeploymentView } from '@mlp/contracts';
import { call, UsageError } from '../api';
import { printJson, printTable } from '../output';

const USAGE = `usage: mlp deploy <model> --version <v> [--spec rollout.yaml] --strategy blue-green|canary|ab|shadow [--weight <percent>] [--alias production]
         [--auto [--min-requests n] [--max-error-rate x] [--max-p99-ms n]] [--steps 10,25,50 --every <seconds>]
         [--sticky-header x-mlp-key | --sticky-field <input>] [--reason text] [--json]
       mlp deploy shift <model> --weight <percent> [--reason text] [--json]
       mlp deploy promote|rollback <model> [--reason text] [--json]
       mlp deployments <model> [--json]`;

const enc = encodeURIComponent;

const options = {
  version: { type: 'string' },
  strategy: { type: 'string' },
  weight: { type: 'string' },
  alias: { type: 'string' },
  auto: { type: 'boolean' },
  'min-requests': { type: 'string' },
  'max-error-rate': { type: 'string' },
  'max-p99-ms': { type: 'string' },
  steps: { type: 'string' },
  every: { type: 'string' },
  'sticky-header': { type: 'string' },
  'sticky-field': { type: 'string' },
  reason: { type: 'string' },
  spec: { type: 'string' },
} as const;

type Values = ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: typeof options }>>['values'];

function parse(args: string[]) {
  try {
    return parseArgs({ args, allowPositionals: true, options });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${USAGE}`);
  }
}

/** A number flag as given (the server validates ranges and names the field); a non-number is a usage error. */
function num(values: Values, flag: keyof Values): number | undefined {
  const raw = values[flag];
  if (raw === undefined || typeof raw !== 'string') return undefined;
  const n = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(n)) throw new UsageError(`--${flag} must be a number, got '${raw}'`);
  return n;
}

/**
 * The POST /deployments body for `mlp deploy <model> …`: a rollout spec
 * (YAML: strategy, weight, alias, auto, policy, schedule, sticky; see
 * examples/deployments) with the flags on top, validated here with the
 * API's schema so a bad spec is reported field by field before any call.
 */
export function startRequest(model: string, values: Values, spec: Record<string, unknown> = {}): Record<string, unknown> {
  if (values.version === undefined) throw new UsageError(`--version is required\n${USAGE}`);
  if (values.strategy === undefined && spec.strategy === undefined) throw new UsageError(`--strategy (or strategy in --spec) is required\n${USAGE}`);
  if (values['sticky-header'] !== undefined && values['sticky-field'] !== undefined) throw new UsageError('give --sticky-header or --sticky-field, not both');
  const policy = Object.fromEntries(
    Object.entries({ minRequests: num(values, 'min-requests'), maxErrorRate: num(values, 'max-error-rate'), maxP99Ms: num(values, 'max-p99-ms') }).filter(([, v]) => v !== undefined),
  );
  if (Object.keys(policy).length > 0 && !values.auto && spec.auto !== true) throw new UsageError('--min-requests, --max-error-rate and --max-p99-ms tune --auto: add --auto');
  if ((values.steps === undefined) !== (values.every === undefined)) throw new UsageError('--steps and --every go together');
  const steps = values.steps?.split(',').map((s) => {
    const n = Number(s.trim());
    if (!Number.isInteger(n)) throw new UsageError(`--steps must be comma-separated percents, got '${values.steps}'`);
    return n;
  });
  const specPolicy = typeof spec.policy === 'object' && spec.policy !== null ? (spec.policy as Record<string, unknown>) : undefined;
  const body = {
    ...spec,
    model,
    version: num(values, 'version'),
    ...(values.strategy !== undefined ? { strategy: values.strategy } : {}),
    ...(values.weight !== undefined ? { weight: num(values, 'weight') } : {}),
    ...(values.alias !== undefined ? { alias: values.alias } : {}),
    ...(values.auto ? { auto: true } : {}),
    ...(Object.keys(policy).length > 0 ? { policy: { ...specPolicy, ...policy } } : {}),
    ...(steps ? { schedule: { steps, everySeconds: num(values, 'every') } } : {}),
    ...(values['sticky-header'] !== undefined ? { sticky: { header: values['sticky-header'].toLowerCase() } } : {}),
    ...(values['sticky-field'] !== undefined ? { sticky: { field: values['sticky-field'] } } : {}),
    ...(values.reason !== undefined ? { reason: values.reason } : {}),
  };
  parseOrThrow(startDeploymentSchema, body, values.spec ?? 'rollout');
  return body;
}

/** A rollout spec file: a YAML (or JSON) mapping. */
export function readSpec(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (err) {
    throw new UsageError(`${path} is not YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError(`${path} must be a mapping (strategy, weight, auto, policy, schedule, sticky)`);
  return parsed as Record<string, unknown>;
}

/** The split in force and the history, as printed by `mlp deployments` and after each `mlp deploy`. */
export function formatDeployment(view: DeploymentView): { headline: string[]; history: Record<string, unknown>[] } {
  const headline: string[] = [];
  const a = view.active;
  if (!a) {
    headline.push(view.stableVersion === null ? `${view.model}: no rollout yet` : `${view.model}: no active rollout; v${view.stableVersion} takes all traffic`);
  } else {
    const split = view.split.map((s) => `${s.arm} v${s.version} ${s.weight}%`).join(' | ');
    headline.push(`${view.model}@${a.alias}: ${a.strategy} rollout ${a.deploymentId} (v${a.stableVersion} → v${a.candidateVersion}), started ${a.startedAt}`);
    headline.push(`  split: ${split}`);
    if (view.mirror) headline.push(`  shadow: ${view.mirror.percent}% of requests mirrored to v${view.mirror.version} (answers in telemetry only)`);
    if (a.sticky) headline.push(`  sticky by ${'header' in a.sticky ? `header ${a.sticky.header}` : `field ${a.sticky.field}`}`);
    if (a.policy) headline.push(`  auto: after ${a.policy.minRequests} candidate requests, promote if error rate ≤ ${a.policy.maxErrorRate} and p99 ≤ ${a.policy.maxP99Ms} ms, else roll back`);
    if (a.schedule) headline.push(`  schedule: ${a.schedule.steps.join('% → ')}% every ${a.schedule.everySeconds} s`);
  }
  if (view.lastDecision) {
    const d = view.lastDecision;
    headline.push(`  last policy decision: ${d.outcome} (${d.requests} requests, error rate ${d.errorRate}, p99 ${d.p99Ms ?? '-'} ms${d.reasons.length ? `: ${d.reasons.join('; ')}` : ''})`);
  }
  const history = view.history.map((h) => ({ revision: h.revision, at: h.at, event: h.type, actor: h.actor, detail: detail(h.type, h.data) }));
  return { headline, history };
}

function detail(type: string, d: Record<string, unknown>): string {
  const w = (x: unknown) => {
    const v = x as { stable: number; candidate: number };
    return `${v.stable}/${v.candidate}`;
  };
  const why = typeof d.reason === 'string' && d.reason ? ` — ${d.reason}` : '';
  switch (type) {
    case 'DeploymentStarted':
      return `${d.strategy} v${d.stableVersion} → v${d.candidateVersion}, split ${w(d.weights)}${d.mirrorPercent ? `, mirror ${d.mirrorPercent}%` : ''}${why}`;
    case 'TrafficShifted':
      return `${w(d.from)} → ${w(d.to)} by ${d.by}${why}`;
    case 'DeploymentPromoted':
      return `v${d.version} takes ${d.alias} (was v${d.previousVersion}) by ${d.by}${why}`;
    case 'DeploymentRolledBack':
      return `back to v${d.restoredVersion} (v${d.candidateVersion} dropped) by ${d.by}${why}`;
    case 'DeploymentCompleted':
      return `${d.outcome}; v${d.stableVersion} stable`;
    default:
      return '';
  }
}

/** The view as JSON, or the headline and the history table. */
export function printDeployment(view: DeploymentView, json: boolean): void {
  if (json) return printJson(view);
  const { headline, history } = formatDeployment(view);
  for (const line of headline) console.log(line);
  if (history.length > 0) printTable(history, ['revision', 'at', 'event', 'actor', 'detail'], { right: ['revision'] });
}

/** `mlp deploy …`: start a rollout, move a split, promote or roll back. */
export async function deploy(args: string[], json: boolean): Promise<void> {
  const { positionals, values } = parse(args);
  const [first, model] = positionals;
  if (!first) throw new UsageError(USAGE);
  const body = values.reason !== undefined ? { reason: values.reason } : {};
  switch (first) {
    case 'promote':
    case 'rollback':
      if (!model) throw new UsageError(`mlp deploy ${first} needs a model\n${USAGE}`);
      return printDeployment(await call<DeploymentView>('serving', 'POST', `/deployments/${enc(model)}/${first}`, body), json);
    case 'shift':
      if (!model) throw new UsageError(`mlp deploy shift needs a model\n${USAGE}`);
      if (values.weight === undefined) throw new UsageError(`mlp deploy shift needs --weight\n${USAGE}`);
      return printDeployment(await call<DeploymentView>('serving', 'POST', `/deployments/${enc(model)}/shift`, { ...body, weight: num(values, 'weight') }), json);
    default:
      if (positionals.length > 1) throw new UsageError(`unexpected '${positionals[1]}'\n${USAGE}`);
      return printDeployment(await call<DeploymentView>('serving', 'POST', '/deployments', startRequest(first, values, values.spec ? readSpec(values.spec) : {})), json);
  }
}

/** `mlp deployments <model>`: the current split and the full history. */
export async function deployments(args: string[], json: boolean): Promise<void> {
  const [model, extra] = args;
  if (!model || extra !== undefined) throw new UsageError(USAGE);
  printDeployment(await call<DeploymentView>('serving', 'GET', `/deployments/${enc(model)}`), json);
}
