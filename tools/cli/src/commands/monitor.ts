import { NotFoundError, type ArmComparison } from '@mlp/contracts';
import { call, UsageError } from '../api';
import { formatNumber, printJson, printTable } from '../output';

const USAGE = 'usage: mlp monitor <model> [--json]';
/** Monitoring's alerts endpoint (the policy module's); until it answers, `mlp monitor` shows no alerts. */
const ALERTS_PATH = (model: string) => `/alerts?model=${encodeURIComponent(model)}&status=active`;

interface FeatureRow {
  name: string;
  method: string;
  statistic: number | null;
  pValue: number | null;
  threshold: number;
  drifted: boolean;
}
interface DriftReport {
  version: number;
  window: { id: string; kind: string; rows: number; from: string; to: string; sampledRows: number };
  features: FeatureRow[];
  prediction: FeatureRow | null;
  driftShare: number;
  shareThreshold: number;
  datasetDrift: boolean;
  detected: boolean;
  reportArtifactKey: string;
}
interface PerformancePoint {
  version: number;
  arm: string;
  labelled: number;
  metrics: Record<string, number>;
  reference: Record<string, number>;
  from: string;
  to: string;
  degraded: string | null;
}

/** Metrics shown in the table, when measured (training's names). */
const SHOWN = ['accuracy', 'roc_auc', 'f1', 'log_loss', 'rmse', 'mae', 'r2'];

/** `mlp monitor <model>`: the latest drift table, the latest performance window per version and arm, the arm comparison, active alerts. */
export async function monitor(args: string[], json: boolean): Promise<void> {
  const [model, ...extra] = args;
  if (!model || model.startsWith('-') || extra.length) throw new UsageError(USAGE);
  const m = encodeURIComponent(model);
  const [drift, performance, arms, alerts] = await Promise.all([
    call<{ reports: DriftReport[] }>('monitoring', 'GET', `/monitoring/${m}/drift?limit=1`),
    call<{ points: PerformancePoint[] }>('monitoring', 'GET', `/monitoring/${m}/performance`),
    call<ArmComparison>('monitoring', 'GET', `/monitoring/${m}/arms`),
    activeAlerts(model),
  ]);
  const latest = new Map<string, PerformancePoint>();
  for (const p of performance.points) latest.set(`${p.version}:${p.arm}`, p);
  const report = drift.reports.at(-1) ?? null;
  const windows = [...latest.values()];
  if (json) return printJson({ model, drift: report, performance: windows, arms, alerts });

  if (!report) console.log(`${model}: no drift report yet (a window closes after its rows or its duration)`);
  else {
    const w = report.window;
    console.log(
      `${model} v${report.version}: window ${w.from} → ${w.to}, ${w.rows} rows${w.sampledRows < w.rows ? ` (${w.sampledRows} sampled for numeric tests)` : ''}; ` +
        `dataset drift ${report.datasetDrift ? 'YES' : 'no'} (share ${formatNumber(report.driftShare)}, threshold ${formatNumber(report.shareThreshold)})`,
    );
    printTable(
      [...report.features, ...(report.prediction ? [{ ...report.prediction, name: `${report.prediction.name} (output)` }] : [])].map((f) => ({
        feature: f.name,
        method: f.method,
        statistic: formatNumber(f.statistic),
        'p-value': f.pValue === null ? '' : formatNumber(f.pValue),
        threshold: formatNumber(f.threshold),
        drifted: f.drifted ? 'DRIFT' : 'ok',
      })),
      ['feature', 'method', 'statistic', 'p-value', 'threshold', 'drifted'],
      { right: ['statistic', 'p-value', 'threshold'] },
    );
  }
  console.log('\nperformance (latest window per version and arm):');
  printTable(
    windows.map((p) => {
      const shown = SHOWN.filter((k) => p.metrics[k] !== undefined);
      return {
        version: p.version,
        arm: p.arm,
        labelled: p.labelled,
        metrics: shown.map((k) => `${k} ${formatNumber(p.metrics[k])}`).join(', '),
        holdout: shown.filter((k) => p.reference[k] !== undefined).map((k) => `${k} ${formatNumber(p.reference[k])}`).join(', '),
        status: p.degraded ? `DEGRADED: ${p.degraded}` : 'ok',
      };
    }),
    ['version', 'arm', 'labelled', 'metrics', 'holdout', 'status'],
    { right: ['version', 'labelled'] },
  );
  if (arms.winner) console.log(`\narms: ${arms.winner} wins on accuracy (difference ${formatNumber(arms.difference!)}, p ${formatNumber(arms.pValue!)}, confidence ${formatNumber(arms.confidence!)})`);
  else if (arms.arms.length > 1) console.log(`\narms: ${arms.reason}`);
  console.log(`\nactive alerts: ${alerts.length ? '' : 'none'}`);
  for (const a of alerts) console.log(`  ${JSON.stringify(a)}`);
}

/** Active alerts from the alerts endpoint; none while monitoring has no such endpoint (404). */
async function activeAlerts(model: string): Promise<unknown[]> {
  try {
    const reply = await call<{ alerts?: unknown[] } | unknown[]>('monitoring', 'GET', ALERTS_PATH(model));
    return Array.isArray(reply) ? reply : (reply.alerts ?? []);
  } catch (err) {
    if (err instanceof NotFoundError) return [];
    throw err;
  }
}
