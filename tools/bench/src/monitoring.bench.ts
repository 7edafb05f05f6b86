import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsArtifactStore } from '@mlp/artifacts';
import { streams, toNewEvent, type FeedbackTelemetry, type PredictionTelemetry } from '@mlp/contracts';
import { MemoryEventStore } from '@mlp/eventstore';
import { SeededRng } from '@mlp/ml';
import { createLogger, type BaseConfig } from '@mlp/service-kit';
import { TelemetryMonitorService } from '@mlp/service-monitoring';
import { printFigures, timed } from './report';
import { peakRssMb, resetPeakRss } from './rss';

const ROWS = 200_000;
const WINDOW = 20_000;
const NUMERIC = 10;
const CATEGORICAL = 5;
const LEVELS = ['a', 'b', 'c', 'd', 'e'];

/**
 * `npm run bench -- monitoring`: serving telemetry through monitoring's
 * handler (drift windows of 20 000 rows on 10 numeric + 5 categorical
 * features against a 5000-row reference, so Wasserstein and Jensen–Shannon;
 * the feedback join and performance windows for half the rows), against a
 * bare pass that only sums every feature of every record, in the same run.
 */
export async function benchMonitoring(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'mlp-bench-monitoring-'));
  const saved = { ...process.env };
  try {
    const rng = new SeededRng(1);
    const store = new MemoryEventStore();
    const artifacts = new FsArtifactStore({ root: dir });
    const row = () => {
      const f: Record<string, number | string> = {};
      for (let j = 0; j < NUMERIC; j++) f[`x${j}`] = rng.normal(j, 1);
      for (let j = 0; j < CATEGORICAL; j++) f[`c${j}`] = LEVELS[rng.int(0, LEVELS.length)];
      return f;
    };
    const reference = Array.from({ length: 5000 }, row);
    const names = Object.keys(reference[0]);
    const columns: Record<string, (number | string)[]> = Object.fromEntries(names.map((n) => [n, reference.map((r) => r[n])]));
    columns.prediction = reference.map(() => (rng.next() < 0.3 ? 'yes' : 'no'));
    const bytes = Buffer.from(JSON.stringify({ columns }));
    const { key } = await artifacts.put(bytes, { contentType: 'application/json', size: bytes.length });
    const stat = { count: 5000, missing: 0 };
    const meta = { now: '2026-12-01T00:00:00.000Z', correlationId: 'bench', causationId: null, actor: 'bench' };
    await store.appendToStream(streams.run('bench'), [
      toNewEvent({ type: 'ModelEvaluated', data: { runId: 'bench', metrics: { accuracy: 0.7 }, slices: {}, fairness: {}, baseline: { kind: 'none', metrics: {} }, comparison: {}, blessed: true } }, meta, { codeVersion: 'bench' }),
      toNewEvent(
        {
          type: 'BaselineRecorded',
          data: {
            runId: 'bench', experiment: 'bench', task: 'binary', classes: ['no', 'yes'], rows: 5000, sampleArtifactKey: key, sampleRows: 5000, seed: 1,
            columns: Object.fromEntries(names.map((n) => [n, n.startsWith('x') ? { kind: 'numeric', ...stat, mean: 0, std: 1, min: -5, max: 5 } : { kind: 'categorical', ...stat, top: {}, distinct: 5 }])),
            prediction: { kind: 'categorical', ...stat, top: {}, distinct: 2 },
          },
        },
        meta,
        { codeVersion: 'bench' },
      ),
    ]);
    await store.appendToStream(streams.model('bench'), [toNewEvent({ type: 'ModelVersionRegistered', data: { name: 'bench', version: 1, runId: 'bench', artifacts: {}, metrics: {} } }, meta, { codeVersion: 'bench' })]);

    const at = '2026-12-01T00:00:00.000Z';
    const predictions: PredictionTelemetry[] = Array.from({ length: ROWS }, (_, i) => ({
      requestId: `r${i}`, row: 0, model: 'bench', version: 1, arm: 'production', instance: 'bench', features: row(), prediction: i % 3 ? 'no' : 'yes', probabilities: i % 3 ? [0.8, 0.2] : [0.3, 0.7], latencyMs: 1, at,
    }));
    const feedback: FeedbackTelemetry[] = predictions.filter((_, i) => i % 2 === 0).map((p, i) => ({ requestId: p.requestId, row: 0, model: 'bench', label: i % 4 ? 'no' : 'yes', at }));

    // Bare pass: touch every feature of every record once (sum numbers, count strings).
    const bare = await timed(async () => {
      let sum = 0;
      let strings = 0;
      for (const p of predictions) {
        for (const v of Object.values(p.features)) {
          if (typeof v === 'number') sum += v;
          else strings++;
        }
      }
      for (const f of feedback) strings += f.label === 'yes' ? 1 : 0;
      return sum + strings;
    });

    process.env.MLP_MONITORING_TELEMETRY = 'off';
    process.env.MLP_MONITORING_WINDOW = String(WINDOW);
    process.env.MLP_MONITORING_PERFORMANCE_WINDOW = '10000';
    const base = { MLP_TRANSPORT: 'tcp', NATS_URL: 'nats://127.0.0.1:4222', MLP_HOME: dir } as BaseConfig;
    const service = new TelemetryMonitorService(store, artifacts, base, createLogger({ service: 'monitoring', level: 'silent' }));
    await service.onModuleInit();
    const rssBefore = peakRssMb();
    resetPeakRss();
    const monitored = await timed(async () => {
      for (let i = 0; i < ROWS; i++) {
        await service.handle({ kind: 'prediction', record: predictions[i] });
        if (i % 2 === 0) await service.handle({ kind: 'feedback', record: feedback[i / 2] });
      }
    });
    const peak = peakRssMb();
    await service.onModuleDestroy();
    const events = await store.readStream(streams.monitor('bench'));
    const records = ROWS + feedback.length;
    printFigures(`monitoring: ${ROWS.toLocaleString('en-US')} predictions (${NUMERIC} numeric + ${CATEGORICAL} categorical features) + ${feedback.length.toLocaleString('en-US')} labels`, [
      { name: 'bare pass over the records', value: records / bare.seconds, unit: 'records/s' },
      { name: 'monitoring handler (drift + performance)', value: records / monitored.seconds, unit: 'records/s', baseline: { name: 'bare', value: records / bare.seconds } },
      { name: 'time per record', value: (monitored.seconds / records) * 1e6, unit: 'µs' },
      { name: `drift reports (window ${WINDOW.toLocaleString('en-US')})`, value: events.filter((e) => e.type === 'DriftReportComputed').length, unit: 'events' },
      { name: 'performance windows', value: events.filter((e) => e.type === 'PerformanceEvaluated').length, unit: 'events' },
      { name: 'peak RSS while handling (records held in input)', value: peak, unit: 'MB', baseline: { name: 'before', value: rssBefore } },
    ]);
  } finally {
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  }
}
