import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { Registry } from 'prom-client';
import { createArtifactStore } from '@mlp/artifacts';
import { predictionTelemetrySchema, subjects, telemetryStream, type PredictionTelemetry } from '@mlp/contracts';
import { createEventStore, type EventStore } from '@mlp/eventstore';
import { startService, type StartedService } from '@mlp/service-kit';
import { eventually, freePort, startNatsServer, type NatsServerHandle } from '@mlp/testing';
import { servingService } from '../index';
import { ServingMetrics } from '../metrics/serving-metrics';
import { ServingRuntime } from '../serving-runtime';
import { assignAlias, churnRows, registerVersion, storeTinyModel, type StoredTinyModel } from '../testing/model.fixture';
import { JetStreamTelemetrySink } from './jetstream-telemetry-sink';
import type { PredictionEntry } from './prediction-entry';
import { TelemetryPublisher } from './telemetry-publisher';

jest.setTimeout(120_000);

const ADMIN = 'admin-key-for-the-serving-jetstream-test-0000';

/**
 * Distributed telemetry: serving on a real nats-server (MLP_TRANSPORT=nats)
 * publishes each prediction row to the stream libs/contracts declares, in
 * batches off the hot path, with what monitoring needs and nothing more.
 */
describe('serving telemetry on JetStream (real nats-server)', () => {
  let nats: NatsServerHandle;
  let dir: string;
  let store: EventStore;
  let serving: StartedService;
  let nc: NatsConnection;
  let stored: StoredTinyModel;
  let token: string;
  const saved: Record<string, string | undefined> = {};

  beforeAll(async () => {
    nats = await startNatsServer();
    dir = mkdtempSync(join(tmpdir(), 'mlp-serving-telemetry-'));
    // Serving reads its own settings from process.env: no gRPC here, telemetry to JetStream.
    for (const [k, v] of Object.entries({ MLP_SERVING_GRPC_PORT: '-1', MLP_SERVING_TELEMETRY: 'jetstream', MLP_SERVING_TELEMETRY_SAMPLE: '1' })) {
      saved[k] = process.env[k];
      process.env[k] = v;
    }
    const artifactsUrl = `file://${join(dir, 'artifacts')}`;
    store = await createEventStore(nats.url);
    stored = await storeTinyModel(createArtifactStore(artifactsUrl), { epochs: 5 });
    await registerVersion(store, 'churn', 1, stored);
    await assignAlias(store, 'churn', 'production', 1);
    serving = await startService(servingService, {
      env: {
        MLP_HOME: join(dir, 'home'),
        LOG_LEVEL: 'silent',
        MLP_AUTH: 'on',
        MLP_ADMIN_KEY: ADMIN,
        MLP_TRANSPORT: 'nats',
        NATS_URL: nats.url,
        EVENTSTORE_URL: nats.url,
        ARTIFACTS_URL: artifactsUrl,
        MLP_SERVING_PORT: String(await freePort()),
      },
    });
    const runtime = serving.app.get(ServingRuntime);
    await runtime.whenStarted();
    await eventually(async () => runtime.telemetry.sink.kind === 'jetstream' && (await fetch(`${serving.url}/v2/models/churn/ready`, { headers: { 'x-api-key': ADMIN } })).ok, 60_000, 'serving ready with its JetStream sink');
    const res = await fetch(`${serving.url}/auth/keys`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': ADMIN }, body: JSON.stringify({ name: 'app', scopes: ['predict'] }) });
    expect(res.status).toBe(201);
    token = ((await res.json()) as { token: string }).token;
    nc = await connect({ servers: nats.url });
  });

  afterAll(async () => {
    await nc?.close();
    await serving?.close();
    await store?.close();
    await nats?.stop();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Every record on the stream for `model`, in stream order. */
  async function streamRecords(model: string): Promise<{ subject: string; record: PredictionTelemetry; raw: string }[]> {
    const js = nc.jetstream();
    const consumer = await js.consumers.get(telemetryStream.stream, { filterSubjects: subjects.tel.predictions(model) });
    const out: { subject: string; record: PredictionTelemetry; raw: string }[] = [];
    const info = await (await nc.jetstreamManager()).streams.info(telemetryStream.stream);
    if (info.state.messages === 0) return out;
    const messages = await consumer.fetch({ max_messages: 1000, expires: 2000 });
    for await (const m of messages) {
      const raw = m.string();
      out.push({ subject: m.subject, record: JSON.parse(raw) as PredictionTelemetry, raw });
      if (m.info.pending === 0) break;
    }
    return out;
  }

  it('publishes one record per row, in batches, to the declared stream: ids, model, version, arm, features, outputs, latency; never the key or the payload', async () => {
    const runtime = serving.app.get(ServingRuntime);
    const sink = runtime.telemetry.sink;
    const batches: number[] = [];
    const write = sink.writePredictions.bind(sink);
    // A pass-through spy on the real sink: it records how many requests each write carries.
    const spy = jest.spyOn(sink, 'writePredictions').mockImplementation((entries: readonly PredictionEntry[]) => {
      batches.push(entries.length);
      return write(entries);
    });
    const { rows } = churnRows(12, 5);
    const requests = Array.from({ length: 6 }, (_, i) => ({ id: `req-${i}`, instances: rows.slice(2 * i, 2 * i + 2) }));
    try {
      const answers = await Promise.all(
        requests.map(async (r) => {
          const res = await fetch(`${serving.url}/v1/models/churn:predict`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-api-key': token, 'x-request-id': r.id },
            body: JSON.stringify({ instances: r.instances }),
          });
          expect(res.status).toBe(200);
          return (await res.json()) as { predictions: string[]; probabilities: number[][]; request_id: string };
        }),
      );
      expect(answers.map((a) => a.request_id)).toEqual(requests.map((r) => r.id));

      const records = await eventually(async () => {
        const got = await streamRecords('churn');
        return got.length >= 12 ? got : undefined;
      }, 30_000, 'twelve telemetry records on the stream');
      expect(records).toHaveLength(12);
      // The six concurrent requests reached the sink together (the publisher's 250 ms flush), not one write each.
      expect(batches.reduce((a, b) => a + b, 0)).toBe(6);
      expect(Math.max(...batches)).toBeGreaterThan(1);

      const offline = stored.offline(rows);
      for (const { subject, record, raw } of records) {
        expect(subject).toBe('mlp.tel.predictions.churn');
        // Exactly the contract's fields: no body, headers or key beyond them.
        expect(predictionTelemetrySchema.strict().safeParse(record).success).toBe(true);
        const i = requests.findIndex((r) => r.id === record.requestId);
        expect(i).toBeGreaterThanOrEqual(0);
        const sent = requests[i].instances[record.row];
        expect(record).toMatchObject({ model: 'churn', version: 1, arm: 'production' });
        expect(record.features).toEqual({ tenure: sent.tenure, monthly: sent.monthly, plan: sent.plan });
        expect(record.prediction).toBe(answers[i].predictions[record.row]);
        expect(record.probabilities).toEqual(answers[i].probabilities[record.row]);
        expect(record.probabilities![1]).toBeCloseTo(offline[2 * i + record.row], 5);
        expect(record.latencyMs).toBeGreaterThan(0);
        expect(record.keyHash).toMatch(/^[0-9a-f]{16}$/);
        expect(raw).not.toContain(token);
        expect(raw).not.toContain(token.split('_')[1]);
        expect(raw).not.toContain('instances');
      }
      // Each (request, row) once.
      expect(new Set(records.map((r) => `${r.record.requestId}:${r.record.row}`)).size).toBe(12);
    } finally {
      spy.mockRestore();
    }
  });
  it('keeps what is published during a broker outage and publishes it once the broker is back, each row exactly once', async () => {
    const runtime = serving.app.get(ServingRuntime);
    const sink = runtime.telemetry.sink as JetStreamTelemetrySink;
    const droppedBefore = runtime.telemetry.dropped;
    const { rows } = churnRows(10, 11);
    const ids = Array.from({ length: 5 }, (_, i) => `outage-${i}`);
    await nats.restart({
      whileDown: async () => {
        // Predictions are still served; their telemetry waits in the sink's backlog.
        for (const [i, id] of ids.entries()) {
          const res = await fetch(`${serving.url}/v1/models/churn:predict`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-api-key': token, 'x-request-id': id },
            body: JSON.stringify({ instances: rows.slice(2 * i, 2 * i + 2) }),
          });
          expect(res.status).toBe(200);
        }
        await eventually(async () => sink.backlogSize >= 10, 15_000, 'the outage rows kept in the backlog');
      },
    });
    const records = await eventually(async () => {
      const got = (await streamRecords('churn')).filter((r) => r.record.requestId.startsWith('outage-'));
      return got.length >= 10 && sink.backlogSize === 0 ? got : undefined;
    }, 60_000, 'the outage rows on the stream after the restart');
    // A little longer: a late duplicate (a retried publish) would show up now.
    await new Promise((r) => setTimeout(r, 1500));
    const after = (await streamRecords('churn')).filter((r) => r.record.requestId.startsWith('outage-'));
    expect(after).toHaveLength(10);
    expect(new Set(after.map((r) => `${r.record.requestId}:${r.record.row}`))).toEqual(new Set(ids.flatMap((id) => [`${id}:0`, `${id}:1`])));
    for (const { record } of records) {
      const i = ids.indexOf(record.requestId);
      expect(record.features).toEqual({ tenure: rows[2 * i + record.row].tenure, monthly: rows[2 * i + record.row].monthly, plan: rows[2 * i + record.row].plan });
    }
    expect(runtime.telemetry.dropped).toBe(droppedBefore);
  });

  it('drops only past its bound during an outage, the oldest first, counted in serving_telemetry_dropped_total', async () => {
    const registry = new Registry();
    const metrics = new ServingMetrics(registry, () => []);
    const sink = await JetStreamTelemetrySink.connect(nats.url, 'bounded-telemetry-test', {}, { maxBacklog: 3, retryMs: 200 });
    const publisher = new TelemetryPublisher(sink, { sample: 1, flushMs: 10, onDropped: (n) => metrics.telemetryDropped.inc(n) });
    const entry = (i: number): PredictionEntry => ({
      requestId: `bounded-${i}`,
      model: 'bounded',
      version: 1,
      arm: 'production',
      instance: 'test',
      features: { tenure: [i] },
      n: 1,
      predictions: ['no'],
      latencyMs: 1,
      at: Date.now(),
    });
    try {
      await nats.restart({
        whileDown: async () => {
          for (let i = 0; i < 5; i++) {
            publisher.publishPrediction(entry(i));
            await publisher.flush();
          }
          expect(sink.backlogSize).toBe(3);
        },
      });
      const got = await eventually(async () => {
        const r = await streamRecords('bounded');
        return r.length >= 3 && sink.backlogSize === 0 ? r : undefined;
      }, 60_000, 'the kept rows on the stream');
      expect(got.map((r) => r.record.requestId)).toEqual(['bounded-2', 'bounded-3', 'bounded-4']);
      expect(publisher.dropped).toBe(2);
      expect(await registry.metrics()).toMatch(/^serving_telemetry_dropped_total 2$/m);
    } finally {
      await publisher.close();
    }
  });
});
