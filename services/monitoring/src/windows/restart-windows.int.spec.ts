import { streams, subjects, type EventData, type FeedbackTelemetry, type PredictionTelemetry } from '@mlp/contracts';
import { SeededRng } from '@mlp/ml';
import type { StartedService } from '@mlp/service-kit';
import { eventually } from '@mlp/testing';
import { churnTraffic, monitoringOnNats, seedChurnVersions, type MonitoringOnNats } from '../testing/monitored-versions.fixture';
import { JetStreamTelemetrySource } from './jetstream-telemetry-source';
import { TelemetryMonitorService } from './telemetry-monitor.service';

const WINDOW = 50;
/** Labels per performance window (scored every 10). */
const PERFORMANCE_WINDOW = 50;

/**
 * Monitoring restarted mid-window while two versions of one model (production
 * and a canary) receive telemetry and labels, on a real nats-server: the open
 * drift window of each version was acked before the restart, so the fresh
 * app rebuilds both from their KV checkpoints, and each closes at its size
 * with the rows of both sides of the restart, once. The label join and the
 * performance windows are rebuilt from the acked telemetry: labels sent
 * after the restart join predictions made before it, and each arm's
 * evaluations go on at the right count over a full window.
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
  /** Labels of requests from..to-1 of both arms: production is always right, the canary wrong on every fourth. */
  const labels = async (from: number, to: number) => {
    const js = platform.nc.jetstream();
    const label = (requestId: string, value: string): FeedbackTelemetry => ({ requestId, row: 0, model: 'churn', label: value, at: new Date((clock += 1000)).toISOString() });
    for (let i = from; i < to; i++) {
      for (const f of [label(`p${i}`, 'no'), label(`c${i}`, i % 4 === 0 ? 'yes' : 'no')]) await js.publish(subjects.tel.feedback(f.model), JSON.stringify(f));
    }
  };
  const evaluations = async (arm: string) =>
    (await platform.store.readStream(streams.monitor('churn')))
      .filter((e) => e.type === 'PerformanceEvaluated' && (e.data as EventData<'PerformanceEvaluated'>).arm === arm)
      .map((e) => e.data as EventData<'PerformanceEvaluated'>);
  const reports = async () =>
    (await platform.store.readStream(streams.monitor('churn'))).filter((e) => e.type === 'DriftReportComputed').map((e) => (e.data as EventData<'DriftReportComputed'>).window);

  beforeAll(async () => {
    platform = await monitoringOnNats({ MLP_MONITORING_WINDOW: String(WINDOW), MLP_MONITORING_PERFORMANCE_WINDOW: String(PERFORMANCE_WINDOW) });
    await seedChurnVersions(platform.store, platform.artifacts, rng, [1, 2]);
  });

  afterAll(async () => {
    await started?.close();
    await platform?.close();
  });

  it('rebuilds the open window of each version, and each closes with its full count after the restart', async () => {
    started = await platform.start();
    let service = started.app.get(TelemetryMonitorService);
    // 80 predictions per version: the first window of each closed at 50, the second open with 30 rows (all acked);
    // labels for the first 60 of each arm (evaluated at 10, 20, …, 60).
    await traffic(0, 80);
    await labels(0, 60);
    await eventually(async () => service.handled.prediction === 160 && service.handled.feedback === 120, 30_000, '160 predictions and 120 labels handled');
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
    // Labels for requests 60..99 of each arm: the first 20 of them for predictions made before the restart.
    await labels(60, 100);
    const closed = await eventually(async () => {
      const r = await reports();
      return r.length === 4 ? r : undefined;
    }, 30_000, 'the second window of both versions closed');
    expect(closed.slice(2).sort((a, b) => a.id.localeCompare(b.id))).toEqual([
      expect.objectContaining({ id: '1:count:p50:0', rows: WINDOW }),
      expect.objectContaining({ id: '2:count:c50:0', rows: WINDOW }),
    ]);
    await eventually(async () => service.handled.prediction === 40, 30_000, '40 predictions handled after the restart');

    // Each arm scored every 10 labels, each count once, the last over the full window of requests 50..99.
    const last = await eventually(async () => {
      const [p, c] = [await evaluations('production'), await evaluations('canary')];
      return p.some((d) => d.seq === 100) && c.some((d) => d.seq === 100) ? { p, c } : undefined;
    }, 30_000, 'both arms evaluated at 100 labels');
    const tens = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
    expect(last.p.map((d) => d.seq)).toEqual(tens);
    expect(last.c.map((d) => d.seq)).toEqual(tens);
    expect(last.p.at(-1)).toMatchObject({ version: 1, labelled: PERFORMANCE_WINDOW, correct: PERFORMANCE_WINDOW });
    // Wrong on 52, 56, …, 96: 12 of the last 50.
    expect(last.c.at(-1)).toMatchObject({ version: 2, labelled: PERFORMANCE_WINDOW, correct: PERFORMANCE_WINDOW - 12 });
    // The 120 joins from before the restart made again by the replay, then the 80 labels sent after it, none pending.
    expect(service.performance.join.counts).toMatchObject({ joined: 200, duplicates: 0, forgottenLabels: 0 });
    expect([service.drift.isOpen('churn', 1), service.drift.isOpen('churn', 2)]).toEqual([false, false]);
    const all = await platform.store.readStream(streams.monitor('churn'));
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
  });

  it('replays at most the last MLP_MONITORING_REPLAY_RECORDS records, up to the last acked one', async () => {
    await started?.close();
    started = undefined;
    const source = await JetStreamTelemetrySource.connect(platform.nats.url);
    try {
      const seqs: number[] = [];
      expect(await source.replayAcked(async (item) => void seqs.push(item.seq!), 30)).toBe(30);
      // 200 predictions and 200 labels were published and acked: the stream's last 30.
      expect(seqs).toEqual(Array.from({ length: 30 }, (_, i) => 371 + i));
      expect(await source.replayAcked(async () => undefined, 0)).toBe(0);
    } finally {
      await source.close();
    }
  });
});
