import { createHash } from 'node:crypto';
import { Cron } from 'croner';
import { monitoringPolicySchema, ValidationError, type MonitoringPolicy } from '@mlp/contracts';
import { parseValidatedYaml, type SchemaIssue } from '@mlp/data';
import { durationSeconds, lowerIsBetter, metricNames } from '@mlp/ml';

/** `policy.yaml` text → a validated policy; errors name `file:line:col path: message` for every bad field. */
export function parsePolicyYaml(text: string, source = 'policy.yaml'): MonitoringPolicy {
  return parseValidatedYaml(text, source, validatePolicy);
}

/** A policy given as JSON, with the same checks as the YAML. */
export function parsePolicy(input: unknown): MonitoringPolicy {
  const r = validatePolicy(input);
  if (r.ok) return r.value;
  const details = r.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  throw new ValidationError(`invalid monitoring policy: ${details.map((d) => (d.path ? `${d.path}: ${d.message}` : d.message)).join('; ')}`, details);
}

function validatePolicy(value: unknown): { ok: true; value: MonitoringPolicy } | { ok: false; issues: SchemaIssue[] } {
  const parsed = monitoringPolicySchema.safeParse(value);
  if (!parsed.success) return { ok: false, issues: parsed.error.issues.map((i) => ({ path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)), message: i.message })) };
  const issues = crossFieldIssues(parsed.data);
  return issues.length === 0 ? { ok: true, value: parsed.data } : { ok: false, issues };
}

const knownMetrics: ReadonlySet<string> = new Set(metricNames);

function crossFieldIssues(policy: MonitoringPolicy): SchemaIssue[] {
  const issues: SchemaIssue[] = [];
  const { performance, schedule, actions } = policy;
  if (performance) {
    if (!knownMetrics.has(performance.metric)) issues.push({ path: ['performance', 'metric'], message: `unknown metric; one of ${metricNames.join(', ')}` });
    if (performance.minimum === undefined && performance.maxDrop === undefined) issues.push({ path: ['performance'], message: 'give minimum, maxDrop or both' });
  }
  if (actions.onDegraded.length > 0 && !performance) issues.push({ path: ['actions', 'onDegraded'], message: 'needs a performance section to know when the model is degraded' });
  if (schedule) {
    const error = cronError(schedule.retrain, schedule.timezone);
    if (error) issues.push({ path: ['schedule', 'retrain'], message: error });
  }
  for (const key of Object.keys(actions.canary?.rollbackIf ?? {})) {
    const metric = key.replace(/_drop$/, '');
    if (key !== 'errorRate' && !knownMetrics.has(metric)) issues.push({ path: ['actions', 'canary', 'rollbackIf', key], message: `unknown metric '${metric}'` });
  }
  if (actions.onDrift.includes('alert') || actions.onDegraded.includes('alert')) {
    if (!policy.alerts?.webhook) issues.push({ path: ['alerts', 'webhook'], message: 'the alert action needs a webhook URL' });
  }
  return issues;
}

/** Why a cron expression is invalid (croner's message), or undefined. */
export function cronError(expression: string, timezone?: string): string | undefined {
  try {
    new Cron(expression, { paused: true, timezone: timezone ?? 'UTC' }).stop();
    return undefined;
  } catch (err) {
    return `not a valid cron expression: ${(err as Error).message}`;
  }
}

/** Content hash of the validated policy (keys sorted): the same policy applied twice is recognised. */
export function policySha256(policy: MonitoringPolicy): string {
  return createHash('sha256').update(canonicalJson(policy)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Whether a larger value of `metric` is worse (losses, errors). */
export function isLowerBetter(metric: string): boolean {
  return lowerIsBetter.has(metric);
}

/** A policy duration (`30m`, `1h`, `7d`, validated by the schema) in milliseconds. */
export function durationMs(text: string): number {
  return durationSeconds(text) * 1000;
}
