import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type ConsumerInfo, type JetStreamClient, type JetStreamManager, type NatsConnection } from 'nats';
import { streamConsumerName, subjects } from '@mlp/contracts';
import { eventually, freePort, spawnTs, startNatsServer, waitForHttp, type NatsServerHandle, type SpawnedProcess } from '@mlp/testing';

/** The ingestion service (with stream ingestion registered) as a real process. */
const ENTRY = 'services/ingestion/src/main.ts';
const DATASET = 'events';

interface VersionView {
  version: number;
  rows: number;
  quarantined: number;
  status: string;
  source: { kind: string; uri: string };
  streamRange: { first: number; last: number } | null;
}

describe('streaming ingestion from JetStream (real nats-server, service process)', () => {
  jest.setTimeout(180_000);
  let nats: NatsServerHandle;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  let home: string;
  let env: NodeJS.ProcessEnv;
  let base: string;
  let service: SpawnedProcess | undefined;
  let published = 0;

  const start = async (extra: NodeJS.ProcessEnv) => {
    service = spawnTs(ENTRY, [], { ...env, ...extra });
    await waitForHttp(`${base}/health/ready`, { process: service, timeoutMs: 60_000 });
  };
  const versions = async (): Promise<VersionView[]> => {
    const res = await fetch(`${base}/datasets/${DATASET}`);
    return res.ok ? ((await res.json()) as { versions: VersionView[] }).versions : [];
  };
  const publish = async (payloads: (string | object)[]) => {
    for (const p of payloads) {
      await js.publish(subjects.data.forDataset(DATASET), typeof p === 'string' ? Buffer.from(p) : Buffer.from(JSON.stringify(p)));
      published++;
    }
  };
  const consumer = (): Promise<ConsumerInfo> => jsm.consumers.info(subjects.data.stream, streamConsumerName(DATASET));
  const events = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ id: from + i, kind: 'click', value: (from + i) * 1.5 }));

  beforeAll(async () => {
    nats = await startNatsServer();
    nc = await connect({ servers: nats.url });
    js = nc.jetstream();
    jsm = await nc.jetstreamManager();
    home = mkdtempSync(join(tmpdir(), 'mlp-stream-'));
    const [http, rpc] = [await freePort(), await freePort()];
    base = `http://127.0.0.1:${http}`;
    env = {
      MLP_HOME: home,
      EVENTSTORE_URL: `sqlite://${join(home, 'events.db')}`,
      ARTIFACTS_URL: `file://${join(home, 'artifacts')}`,
      MLP_INGESTION_PORT: String(http),
      MLP_INGESTION_RPC_PORT: String(rpc),
      MLP_TRANSPORT: 'tcp',
      MLP_STREAM_INGEST: 'on',
      NATS_URL: nats.url,
      MLP_STREAM_DATASETS: DATASET,
      LOG_LEVEL: 'warn',
    };
  });

  afterAll(async () => {
    await service?.kill('SIGKILL');
    await nc?.close();
    await nats?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('turns N messages, one of them not JSON, into one version of N rows with one quarantined', async () => {
    await start({ MLP_STREAM_FLUSH_ROWS: '10', MLP_STREAM_FLUSH_MS: '60000', MLP_STREAM_ACK_WAIT_MS: '20000' });
    // The service created the stream and its durable consumer.
    expect((await jsm.streams.info(subjects.data.stream)).config.subjects).toEqual([subjects.data.all]);
    expect((await consumer()).config).toMatchObject({ filter_subject: 'mlp.data.events', ack_policy: 'explicit' });

    await publish([...events(1, 6), '{"id": 7, "kind": oops', ...events(8, 3)]);
    const [v1] = await eventually(async () => {
      const v = await versions();
      return v.length > 0 && v;
    }, 30_000, 'first version');
    expect(v1).toMatchObject({ version: 1, rows: 10, quarantined: 1, source: { kind: 'stream', uri: 'nats:mlp.data.events' }, streamRange: { first: 1, last: 10 } });
    const acked = await eventually(async () => {
      const c = await consumer();
      return c.num_ack_pending === 0 && c;
    }, 10_000, 'batch acked');
    expect(acked.ack_floor.stream_seq).toBe(10);
  });

  it('stores every message exactly once when killed with a batch pending, even if newer messages arrive first', async () => {
    // Clean restart (SIGTERM) with a large count and a short age; ack_wait well above the age.
    expect(await service!.kill('SIGTERM')).toBe(0);
    const crashEnv = { MLP_STREAM_FLUSH_ROWS: '1000', MLP_STREAM_FLUSH_MS: '3000', MLP_STREAM_ACK_WAIT_MS: '20000' };
    await start(crashEnv);

    // M messages (one of them an array of two rows) reach the service's batch...
    await publish([...events(11, 4), [{ id: 15, kind: 'view', value: 1 }, { id: 16, kind: 'view', value: 2 }]]);
    const M = 5;
    const pending = await eventually(async () => {
      const c = await consumer();
      return c.num_ack_pending === M && c;
    }, 10_000, 'batch delivered to the service');
    expect(pending.delivered.stream_seq).toBe(15);
    expect(await versions()).toHaveLength(1);
    // ...and the process dies before the age flush fires.
    await service!.kill('SIGKILL');

    // Newer messages are published while it is down: after the restart they arrive at
    // once, the M unacked ones only when their ack_wait expires.
    await publish(events(17, 3));
    const K = 3;
    await start(crashEnv);

    const stored = await eventually(async () => {
      const v = await versions();
      return v.length >= 2 && (await consumer()).num_ack_pending === 0 && v;
    }, 60_000, 'the pending batch stored after restart');
    expect(stored).toHaveLength(2);
    expect(stored[1]).toMatchObject({ version: 2, rows: M + 1 + K, quarantined: 0, streamRange: { first: 11, last: 18 } });
    expect(stored.reduce((n, v) => n + v.rows, 0)).toBe(10 + M + 1 + K);

    // The M messages really were redelivered by the consumer: each was delivered twice.
    const after = await consumer();
    expect(after.delivered.stream_seq).toBe(published);
    expect(after.delivered.consumer_seq).toBe(published + M);
    expect(after.num_pending).toBe(0);
  });

  it('flushes on SIGTERM, and never makes a second version of messages delivered again', async () => {
    await service!.kill('SIGTERM');
    await start({ MLP_STREAM_FLUSH_ROWS: '1000', MLP_STREAM_FLUSH_MS: '600000', MLP_STREAM_ACK_WAIT_MS: '20000' });
    await publish(events(30, 3));
    await eventually(async () => (await consumer()).num_ack_pending === 3, 10_000, 'batch delivered');
    expect(await versions()).toHaveLength(2);

    // Clean shutdown: stop fetching, store the pending batch, ack it, drain.
    expect(await service!.kill('SIGTERM')).toBe(0);
    const drained = await consumer();
    expect(drained.num_ack_pending).toBe(0);
    expect(drained.ack_floor.stream_seq).toBe(published);

    // Reset the consumer: every message is delivered again from the first one, as after
    // a crash between storing a version and acking it. All are already stored.
    await jsm.consumers.delete(subjects.data.stream, streamConsumerName(DATASET));
    await start({ MLP_STREAM_FLUSH_ROWS: '5', MLP_STREAM_FLUSH_MS: '1000', MLP_STREAM_ACK_WAIT_MS: '20000' });
    const replayed = await eventually(async () => {
      const c = await consumer();
      return c.delivered.stream_seq === published && c.num_ack_pending === 0 && c.num_pending === 0 && c;
    }, 30_000, 'every message delivered again and acked');
    expect(replayed.delivered.consumer_seq).toBe(published);

    const all = await versions();
    expect(all.map((v) => [v.version, v.rows, v.streamRange])).toEqual([
      [1, 10, { first: 1, last: 10 }],
      [2, 9, { first: 11, last: 18 }],
      [3, 3, { first: 19, last: 21 }],
    ]);
  });
});
