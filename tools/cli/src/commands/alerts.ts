import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { ValidationError } from '@mlp/contracts';
import { call, callText, CliError, UsageError } from '../api';
import { printJson, printTable, truncate } from '../output';

const APPLY_USAGE = 'usage: mlp monitor apply <policy.yaml> [--json]';
const ALERTS_USAGE = 'usage: mlp alerts [--model m] [--status active|resolved|all] [--limit n] [--json]';

interface Applied {
  model: string;
  sha256: string;
  changed: boolean;
  policy: { actions: { onDrift: string[]; onDegraded: string[]; canary?: { promoteAfter: number } }; schedule?: { retrain: string }; alerts?: { webhook?: string } };
}

/** `mlp monitor apply <policy.yaml>`: validated by monitoring (400 names file, line and field), recorded once. */
export async function monitorApply(args: string[], json: boolean): Promise<void> {
  const [file, ...extra] = args;
  if (!file || file.startsWith('-') || extra.length) throw new UsageError(APPLY_USAGE);
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new CliError(err.code === 'ENOENT' ? `no such file: ${file}` : `cannot read ${file}: ${err.message}`);
  });
  let applied: Applied;
  try {
    applied = await callText<Applied>('monitoring', 'POST', '/policies', text, 'text/yaml');
  } catch (err) {
    // Monitoring names the document policy.yaml: say which file it was.
    if (err instanceof ValidationError) throw new ValidationError(err.message.replaceAll('policy.yaml', basename(file)), err.details);
    throw err;
  }
  if (json) return printJson(applied);
  const p = applied.policy;
  console.log(`${applied.changed ? 'applied' : 'unchanged'}: policy for ${applied.model} (sha256 ${applied.sha256.slice(0, 12)})`);
  console.log(`  on drift: ${p.actions.onDrift.join(', ') || 'nothing'}; on degraded: ${p.actions.onDegraded.join(', ') || 'nothing'}`);
  if (p.actions.canary) console.log(`  canary: promote after ${p.actions.canary.promoteAfter} predictions`);
  if (p.schedule) console.log(`  retraining schedule: ${p.schedule.retrain}`);
  if (p.alerts?.webhook) console.log(`  alerts to ${new URL(p.alerts.webhook).origin}`);
}

interface AlertRow {
  alertId: string;
  model: string;
  version?: number;
  condition: string;
  severity: string;
  status: string;
  message: string;
  raisedAt: string;
  resolvedAt: string | null;
  notify: boolean;
  deliveries: { transition: string; outcome: string; attempts: number }[];
}

/** `mlp alerts`: newest first, with their webhook deliveries. */
export async function alerts(args: string[], json: boolean): Promise<void> {
  const query = new URLSearchParams();
  for (let i = 0; i < args.length; i++) {
    const [flag, value] = [args[i], args[i + 1]];
    if (!['--model', '--status', '--limit'].includes(flag) || value === undefined) throw new UsageError(ALERTS_USAGE);
    query.set(flag.slice(2), value);
    i++;
  }
  const reply = await call<{ alerts: AlertRow[] }>('monitoring', 'GET', `/alerts${query.size ? `?${query}` : ''}`);
  if (json) return printJson(reply);
  if (reply.alerts.length === 0) {
    console.log('no alerts');
    return;
  }
  printTable(
    reply.alerts.map((a) => ({
      raised: a.raisedAt.replace(/\.\d+Z$/, 'Z'),
      model: a.version !== undefined ? `${a.model} v${a.version}` : a.model,
      condition: a.condition,
      severity: a.severity,
      status: a.status === 'resolved' ? `resolved ${a.resolvedAt?.replace(/\.\d+Z$/, 'Z') ?? ''}` : 'ACTIVE',
      webhook: !a.notify ? '-' : a.deliveries.map((d) => `${d.transition} ${d.outcome}${d.attempts > 1 ? ` (${d.attempts} tries)` : ''}`).join(', ') || 'pending',
      message: truncate(a.message, 80),
    })),
    ['raised', 'model', 'condition', 'severity', 'status', 'webhook', 'message'],
  );
}
