import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { monitoringPolicySchema, streams, subjects, ValidationError, type ArmComparison, type EventData, type FeedbackTelemetry, type PredictionTelemetry, type RecordedEvent } from '@mlp/contracts';
import type { JetStreamEventStore } from '@mlp/eventstore';
import { SeededRng } from '@mlp/ml';
import { MessagingModule, MLP_CLIENT, type MlpClient } from '@mlp/messaging';
import type { StartedService } from '@mlp/service-kit';
import { eventually } from '@mlp/testing';
import reference from './performance/arm-comparison.scipy.json';
import { churnTraffic, monitoringOnNats, seedChurnVersions, seedEvent as ev, type MonitoringOnNats } from './testing/monitored-versions.fixture';
import { TelemetryMonitorService } from './windows/telemetry-monitor.service';

/**
 * The monitoring service against a real nats-server: NATS transport, the
 * event store on JetStream, telemetry published to MLP_TELEMETRY as serving
 * publishes it and read through the durable consumer; queries answered over
 * NATS to an MlpClient, as the dashboard's backend would call them.
 */
const rng = new SeededRng(7);
const { trainingRow, shiftedRow } = churnTraffic(rng);

describe('monitoring core on NATS JetStream', () => {
  jest.setTimeout(90_000);
  let platform: MonitoringOnNats;
  let store: JetStreamEventStore;
  let started: StartedService;
  let service: TelemetryMonitorService;
  let context: INestApplicationContext;
  let client: MlpClient;

  const monitorEvents = async (type: string, count: number): Promise<RecordedEvent[]> => {
    for (;;) {
      const found = (await store.readStream(streams.monitor('churn'))).filter((e) => e.type === type);
      if (found.length >= count) return found;
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const predict = async (records: PredictionTelemetry[]) => {
    const js = platform.nc.jetstream();
    for (const r of records) await js.publish(subjects.tel.predictions(r.model), JSON.stringify(r));
  };
  const feedback = async (records: FeedbackTelemetry[]) => {
    const js = platform.nc.jetstream();
    for (const r of records) await js.publish(subjects.tel.feedback(r.model), JSON.stringify(r));
  };
  let clock = Date.parse('2026-12-01T00:00:00.000Z');
  const prediction = (requestId: string, version: number, arm: string, features: Record<string, string | number>, label: 'yes' | 'no'): PredictionTelemetry => ({
    requestId, row: 0, model: 'churn', version, arm, instance: 'serving@test', features, prediction: label,
    probabilities: label === 'yes' ? [0.2, 0.8] : [0.8, 0.2], latencyMs: 2, at: new Date((clock += 1000)).toISOString(),
  });
  const label = (requestId: string, value: 'yes' | 'no'): FeedbackTelemetry => ({ requestId, row: 0, model: 'churn', label: value, at: new Date((clock += 1000)).toISOString() });

  beforeAll(async () => {
    // The env defaults say otherwise than the model's applied policy below.
    platform = await monitoringOnNats({ MLP_MONITORING_WINDOW: '50', MLP_MONITORING_PERFORMANCE_WINDOW: '20' });
    store = platform.store;
    // Two versions trained on the same distribution: the run's baseline with its reference sample, and holdout accuracy 0.9.
    await seedChurnVersions(store, platform.artifacts, rng, [1, 2]);

    // The model's applied policy sets its window and degradation rule (the env defaults say otherwise).
    const policy = monitoringPolicySchema.parse({ model: 'churn', window: { size: 300 }, performance: { metric: 'accuracy', maxDrop: 0.05, window: 500 } });
    await store.appendToStream(streams.monitor('churn'), [ev({ type: 'MonitoringPolicyApplied', data: { model: 'churn', policy, sha256: '0'.repeat(64) } })]);

    started = await platform.start();
    service = started.app.get(TelemetryMonitorService);
    expect(service.settings.get('churn')).toMatchObject({ window: { size: 300 }, performance: { window: 500, rule: { metric: 'accuracy', maxDrop: 0.05 } } });
    context = await NestFactory.createApplicationContext(MessagingModule.forService('serving', { MLP_TRANSPORT: 'nats', NATS_URL: platform.nats.url }), { logger: false });
    client = context.get(MLP_CLIENT);
  });

  afterAll(async () => {
    await context?.close();
    await started?.close();
    await platform?.close();
  });

  it('finds no drift in traffic from the training distribution, then DriftDetected when the features shift', async () => {
    await predict(Array.from({ length: 300 }, (_, i) => prediction(`a${i}`, 1, 'production', trainingRow(), rng.next() < 0.3 ? 'yes' : 'no')));
    const [first] = await monitorEvents('DriftReportComputed', 1);
    const quiet = first.data as EventData<'DriftReportComputed'>;
    expect(quiet).toMatchObject({ model: 'churn', version: 1, window: { kind: 'count', rows: 300, sampledRows: 300 }, datasetDrift: false, reference: { runId: 'run1', rows: 800 } });
    expect(quiet.features.map((f) => [f.name, f.method, f.drifted])).toEqual([
      ['amount', 'ks', false],
      ['plan', 'chisquare', false],
    ]);
    expect(quiet.prediction).toMatchObject({ method: 'ztest', drifted: false });

    await predict(Array.from({ length: 300 }, (_, i) => prediction(`b${i}`, 1, 'production', shiftedRow(), rng.next() < 0.3 ? 'yes' : 'no')));
    const [detected] = await monitorEvents('DriftDetected', 1);
    const reports = await monitorEvents('DriftReportComputed', 2);
    const shifted = reports[1].data as EventData<'DriftReportComputed'>;
    expect(shifted.features.every((f) => f.drifted && (f.pValue as number) < 1e-6)).toBe(true);
    expect(detected.data).toMatchObject({ model: 'churn', version: 1, windowId: shifted.window.id, driftedFeatures: ['amount', 'plan'], driftShare: 1, datasetDrift: true, predictionDrift: false });
    expect(detected.correlationId).toBe(reports[1].correlationId);

    // The full report is an artifact with the window's column summaries.
    const full = JSON.parse((await platform.artifacts.getBuffer(shifted.reportArtifactKey)).toString()) as { columns: Record<string, { count: number; mean: number }> };
    expect(full.columns.amount.count).toBe(300);
    expect(full.columns.amount.mean).toBeGreaterThan(60);

    // The query side over NATS: one feature over time, from the projection of the stored events.
    const history = await client.send<{ points: { drifted: boolean; method: string; windowId: string }[] }>(subjects.qry.monitoring.driftHistory, { model: 'churn', feature: 'amount' });
    expect(history.points.map((p) => [p.method, p.drifted])).toEqual([
      ['ks', false],
      ['ks', true],
    ]);
    const bad = await client.send(subjects.qry.monitoring.driftHistory, { model: 'churn', limit: 0 }).catch((err: unknown) => err);
    expect(bad).toBeInstanceOf(ValidationError);
    expect((bad as ValidationError).details).toEqual([expect.objectContaining({ path: 'limit' })]);
  });

  it('joins late and early labels per version and arm, flags the worse arm as degraded and names the winner as scipy does', async () => {
    // production (v1): 430 of 500 right; canary (v2): 400 of 500 right (scipy fixture case 0).
    const outcome = (right: number) => Array.from({ length: 500 }, (_, i) => i < right);
    const prod = outcome(430).map((ok, i) => ({ p: prediction(`p${i}`, 1, 'production', trainingRow(), 'yes'), label: ok ? 'yes' : 'no' }) as const);
    const canary = outcome(400).map((ok, i) => ({ p: prediction(`c${i}`, 2, 'canary', trainingRow(), 'no'), label: ok ? 'no' : 'yes' }) as const);
    // Canary: the first 100 labels arrive before their predictions.
    await feedback(canary.slice(0, 100).map((c) => label(c.p.requestId, c.label)));
    await predict(prod.map((x) => x.p));
    await predict(canary.map((x) => x.p));
    // Production's labels come late: after all the canary traffic.
    await feedback(prod.map((x) => label(x.p.requestId, x.label)));
    await feedback(canary.slice(100).map((c) => label(c.p.requestId, c.label)));

    // Sliding windows of 500 labels moving by 100: five evaluations per arm, the last one over all 500.
    const evaluated = (await monitorEvents('PerformanceEvaluated', 10)).map((e) => e.data as EventData<'PerformanceEvaluated'>);
    expect(evaluated.filter((d) => d.arm === 'canary').map((d) => [d.seq, d.labelled, d.correct])).toEqual([
      [100, 100, 100],
      [200, 200, 200],
      [300, 300, 300],
      [400, 400, 400],
      [500, 500, 400],
    ]);
    const byArm = Object.fromEntries(evaluated.map((d) => [d.arm, d]));
    expect(byArm.production).toMatchObject({ version: 1, labelled: 500, correct: 430, seq: 500, reference: { accuracy: 0.9 } });
    expect(byArm.production.metrics.accuracy).toBeCloseTo(0.86, 12);
    expect(byArm.canary).toMatchObject({ version: 2, labelled: 500, correct: 400, seq: 500 });
    const [degraded] = await monitorEvents('PerformanceDegraded', 1);
    expect(degraded.data).toMatchObject({ version: 2, arm: 'canary', metric: 'accuracy', value: 0.8, reference: 0.9, windowSeq: 500 });
    expect((await store.readStream(streams.monitor('churn'))).filter((e) => e.type === 'PerformanceDegraded')).toHaveLength(1);

    const canaryHistory = await client.send<{ points: { arm: string; degraded: string | null }[] }>(subjects.qry.monitoring.performanceHistory, { model: 'churn', arm: 'canary' });
    expect(canaryHistory.points.map((x) => [x.arm, x.degraded])).toEqual([
      ...[1, 2, 3, 4].map(() => ['canary', null]),
      ['canary', 'accuracy 0.8 is 0.1 worse than the holdout 0.9 (allowed 0.05)'],
    ]);
    const comparison = await client.send<ArmComparison>(subjects.qry.monitoring.compareArms, { model: 'churn' });
    expect(comparison).toMatchObject({ a: 'canary', b: 'production', winner: 'production' }); // equal counts: ordered by name
    const c = reference.cases[0];
    expect(Math.abs(comparison.pValue! - c.pValue)).toBeLessThan(1e-9);
    expect(Math.abs(Math.abs(comparison.z!) - c.z)).toBeLessThan(1e-9);
    expect(comparison.confidence).toBeCloseTo(1 - c.pValue, 12);
    expect(service.performance.join.counts).toMatchObject({ joined: 1000, duplicates: 0 });
  });

  it('after a restart rebuilds the open windows its acks had let go of (KV checkpoints) and appends nothing twice', async () => {
    const reports = async () => (await store.readStream(streams.monitor('churn'))).filter((e) => e.type === 'DriftReportComputed').map((e) => e.data as EventData<'DriftReportComputed'>);
    // Version 1 has had 1100 predictions: three windows of 300 closed, the fourth open since p300 (200 rows, all acked).
    expect((await reports()).filter((r) => r.version === 1).map((r) => r.window.id)).toEqual(['1:count:a0:0', '1:count:b0:0', '1:count:p0:0']);
    await started.close();
    started = await platform.start();
    service = started.app.get(TelemetryMonitorService);
    // Both versions' open windows rebuilt: production's (200 rows since p300) and the canary's (200 rows since c300).
    expect([service.drift.isOpen('churn', 1), service.drift.isOpen('churn', 2)]).toEqual([true, true]);
    await predict(Array.from({ length: 100 }, (_, i) => prediction(`d${i}`, 1, 'production', trainingRow(), 'no')));
    const v1 = await eventually(async () => {
      const r = (await reports()).filter((x) => x.version === 1);
      return r.length === 4 ? r : undefined;
    }, 30_000, 'the fourth window of version 1');
    expect(v1[3].window).toMatchObject({ id: '1:count:p300:0', rows: 300 });

    // Labels for the new predictions: production's count of joined labels goes on from 500 (ids never repeat), and its
    // sliding window was rebuilt from the acked telemetry: it covers p100..p499 (330 right) and the 100 new ones (all right).
    await feedback(Array.from({ length: 100 }, (_, i) => label(`d${i}`, 'no')));
    const evaluated = await eventually(async () => {
      const e = (await store.readStream(streams.monitor('churn'))).map((x) => x.data as EventData<'PerformanceEvaluated'>).find((d) => d.arm === 'production' && d.seq === 600);
      return e;
    }, 30_000, 'production window 600');
    expect(evaluated).toMatchObject({ labelled: 500, correct: 430 });
    const all = await store.readStream(streams.monitor('churn'));
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
  });

  it('resizes the open windows when a policy changes the window: one already holding the new size closes at once', async () => {
    const monitor = async () => store.readStream(streams.monitor('churn'));
    // Two windows open at the policy's size of 300: one of version 1 (50 rows), and version 2's rebuilt by the restart above (200 rows since c300).
    const before = service.handled.prediction;
    await predict(Array.from({ length: 50 }, (_, i) => prediction(`e${i}`, 1, 'production', trainingRow(), 'no')));
    await eventually(async () => service.handled.prediction >= before + 50, 30_000, 'the 50 predictions handled');
    expect([service.drift.isOpen('churn', 1), service.drift.isOpen('churn', 2)]).toEqual([true, true]);

    const policy = monitoringPolicySchema.parse({ model: 'churn', window: { size: 150 }, performance: { metric: 'accuracy', maxDrop: 0.05, window: 500 } });
    await store.appendToStream(streams.monitor('churn'), [ev({ type: 'MonitoringPolicyApplied', data: { model: 'churn', policy, sha256: '1'.repeat(64) } })]);
    const applied = (await monitor()).find((e) => e.type === 'MonitoringPolicyApplied' && (e.data as { sha256: string }).sha256 === '1'.repeat(64))!;
    const resized = await eventually(async () => {
      const r = (await monitor()).filter((e) => e.type === 'DriftWindowResized');
      return r.length === 2 ? r : undefined;
    }, 30_000, 'both open windows resized');
    expect(resized.map((e) => e.data).sort((a, b) => (a as { version: number }).version - (b as { version: number }).version)).toEqual([
      { model: 'churn', version: 1, windowId: '1:count:e0:0', from: { size: 300 }, to: { size: 150 }, rows: 50, closes: false, policySha256: '1'.repeat(64) },
      { model: 'churn', version: 2, windowId: '2:count:c300:0', from: { size: 300 }, to: { size: 150 }, rows: 200, closes: true, policySha256: '1'.repeat(64) },
    ]);
    expect(resized.every((e) => e.causationId === applied.id)).toBe(true);
    expect(service.settings.get('churn').window).toEqual({ size: 150 });

    // Version 2's window closed at once with its 200 rows, right after the decision; version 1's closes at 150.
    const reportOf = async (id: string) => (await monitor()).find((e) => e.type === 'DriftReportComputed' && (e.data as EventData<'DriftReportComputed'>).window.id === id);
    const v2 = await eventually(() => reportOf('2:count:c300:0'), 30_000, "version 2's resized window closed");
    expect((v2.data as EventData<'DriftReportComputed'>).window).toMatchObject({ kind: 'count', rows: 200 });
    expect(v2.position).toBeGreaterThan(resized.find((e) => (e.data as { version: number }).version === 2)!.position);
    await predict(Array.from({ length: 100 }, (_, i) => prediction(`e${50 + i}`, 1, 'production', trainingRow(), 'no')));
    const v1 = await eventually(() => reportOf('1:count:e0:0'), 30_000, "version 1's window at its new size");
    expect((v1.data as EventData<'DriftReportComputed'>).window).toMatchObject({ rows: 150 });
    expect(service.drift.isOpen('churn', 1)).toBe(false);
    const all = await monitor();
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
  });
});
