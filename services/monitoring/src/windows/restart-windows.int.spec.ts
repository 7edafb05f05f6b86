import { streams, subjects, type EventData, type PredictionTelemetry } from '@mlp/contracts';
import { SeededRng } from '@mlp/ml';
import type { StartedService } from '@mlp/service-kit';
import { eventually } from '@mlp/testing';
import { churnTraffic, monitoringOnNats, seedChurnVersions, type MonitoringOnNats } from '../testing/monitored-versions.fixture';
import { TelemetryMonitorService } from './telemetry-monitor.service';

const WINDOW = 50;

/**
 * Monitoring restarted mid-window while two versions of one model (production
 * and a canary) receive telemetry, on a real nats-server: the open drift
 * window of each version was acked before the restart, so the fresh app
 * rebuilds both from their KV checkpoints, and each closes at its size with
 * the rows of both sides of the restart, once.
 */
describe('monitoring restart with two versions mid-window (JetStream)', () => {
  jest.setTimeout(120_000);
  let platform: MonitoringOnNats;
  let started: StartedService | undefined;
  const rng = new SeededRng(11);
  const { trainingRow } = churnTraffic(rng);
  let clock = Date.parse('2026-12-01T00:00:00.000Z');

  const prediction = (requestId: string, version: number, arm: string): PredictionTelemetry => ({
    requestId, row: 0, model: 'churn', version, arm, instance: 'serving@test', features: trainingRow(), prediction: 'no',
    probabilities: [0.8, 0.2], latencyMs: 2, at: new Date((clock += 1000)).toISOString(),
  });
  /** Production (version 1, `p<i>`) and canary (version 2, `c<i>`) interleaved, requests from..to-1 of each. */
  const traffic = async (from: number, to: number) => {
    const js = platform.nc.jetstream();
    for (let i = from; i < to; i++) {
      for (const r of [prediction(`p${i}`, 1, 'production'), prediction(`c${i}`, 2, 'canary')]) await js.publish(subjects.tel.predictions(r.model), JSON.stringify(r));
    }
  };
  const reports = async () =>
    (await platform.store.readStream(streams.monitor('churn'))).filter((e) => e.type === 'DriftReportComputed').map((e) => (e.data as EventData<'DriftReportComputed'>).window);

  beforeAll(async () => {
    platform = await monitoringOnNats({ MLP_MONITORING_WINDOW: String(WINDOW) });
    await seedChurnVersions(platform.store, platform.artifacts, rng, [1, 2]);
  });

  afterAll(async () => {
    await started?.close();
    await platform?.close();
  });

  it('rebuilds the open window of each version, and each closes with its full count after the restart', async () => {
    started = await platform.start();
    let service = started.app.get(TelemetryMonitorService);
    // 80 predictions per version: the first window of each closed at 50, the second open with 30 rows (all acked).
    await traffic(0, 80);
    await eventually(async () => service.handled.prediction === 160, 30_000, '160 predictions handled');
    expect(await reports()).toEqual([
      expect.objectContaining({ id: '1:count:p0:0', rows: WINDOW }),
      expect.objectContaining({ id: '2:count:c0:0', rows: WINDOW }),
    ]);
    expect([service.drift.isOpen('churn', 1), service.drift.isOpen('churn', 2)]).toEqual([true, true]);

    await started.close();
    started = await platform.start();
    service = started.app.get(TelemetryMonitorService);
    // Both open windows rebuilt before any new telemetry: the canary's as well as production's.
    expect([service.drift.isOpen('churn', 1), service.drift.isOpen('churn', 2)]).toEqual([true, true]);

    // 20 more per version fill both windows: 30 rows from before the restart + 20 after.
    await traffic(80, 100);
    const closed = await eventually(async () => {
      const r = await reports();
      return r.length === 4 ? r : undefined;
    }, 30_000, 'the second window of both versions closed');
    expect(closed.slice(2).sort((a, b) => a.id.localeCompare(b.id))).toEqual([
      expect.objectContaining({ id: '1:count:p50:0', rows: WINDOW }),
      expect.objectContaining({ id: '2:count:c50:0', rows: WINDOW }),
    ]);
    await eventually(async () => service.handled.prediction === 40, 30_000, '40 predictions handled after the restart');
    expect([service.drift.isOpen('churn', 1), service.drift.isOpen('churn', 2)]).toEqual([false, false]);
    const all = await platform.store.readStream(streams.monitor('churn'));
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
  });
});
