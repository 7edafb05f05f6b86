import { readFileSync } from 'node:fs';
import { streams } from '@mlp/contracts';
import { JetStreamEventStore } from '@mlp/eventstore';
import { SeededRng } from '@mlp/ml';
import { eventually, ingestPenguins, penguinRows, penguinsSpec, penguinsTraffic, startDistributedPlatform, type DistributedPlatform } from '@mlp/testing';

/** Rows waiting per version before serving sheds (MLP_SERVING_MAX_QUEUE): the admission limit under test. */
const MAX_QUEUE = 32;
/** Closed-loop clients of the capacity run: as many as the queue holds, so serving is saturated without shedding. */
const CAPACITY_CLIENTS = MAX_QUEUE;
const CAPACITY_MS = 6_000;
const OVERLOAD_MS = 10_000;
/** A request that has no answer after this long counts as hung. */
const HANG_MS = 60_000;

interface Outcome {
  status: number | 'reset' | 'hang';
  retryAfter?: string | null;
  code?: string;
}

function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

/** CPU time (user + system) the process has used, in ms (/proc/<pid>/stat, clock ticks of 10 ms). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * Serving overloaded at about twice its capacity, across processes (a real
 * nats-server and s3rver; ingestion, training, the registry and serving each
 * their own OS process, auth on). Capacity is measured first with a short
 * closed-loop run; then requests arrive open-loop at twice that rate, far
 * more at once than the admission limit (MLP_SERVING_MAX_QUEUE rows). Every
 * answer is a 200 or a 429/503 with Retry-After (no other 5xx, no reset
 * connection, no hang); serving's RSS, sampled during the run and printed,
 * stays bounded; at normal load afterwards every request succeeds again.
 */
describe('overload: serving at about 2× capacity answers 200 or 503/429 + Retry-After, bounded memory, full recovery', () => {
  jest.setTimeout(600_000);
  let platform: DistributedPlatform;
  let key: string;
  const rng = new SeededRng(17);
  const instances = penguinsTraffic(penguinRows(), rng, 500).map((r) => r.features);
  let sent = 0;
  const predict = async (): Promise<Outcome> => {
    const row = instances[sent++ % instances.length];
    try {
      const res = await fetch(platform.url('serving', '/v1/models/penguins:predict'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': key },
        body: JSON.stringify({ instances: [row] }),
        signal: AbortSignal.timeout(HANG_MS),
      });
      const body = (await res.json().catch(() => ({}))) as { code?: string };
      return { status: res.status, retryAfter: res.headers.get('retry-after'), code: body.code };
    } catch (err) {
      return { status: (err as Error).name === 'TimeoutError' ? 'hang' : 'reset', code: String((err as Error & { cause?: { code?: string } }).cause?.code ?? (err as Error).message) };
    }
  };

  beforeAll(async () => {
    platform = await startDistributedPlatform({ prefix: 'e2e-overload', env: { MLP_TRAINING_WORKERS: '1' } });
    await Promise.all([
      platform.start('ingestion', 'ingestion'),
      platform.start('training', 'training'),
      platform.start('registry', 'registry'),
      platform.start('serving', 'serving', { MLP_SERVING_GRPC_PORT: '-1', MLP_SERVING_MAX_QUEUE: String(MAX_QUEUE) }),
    ]);
    const events = await JetStreamEventStore.connect({ servers: platform.nats.url });
    try {
      await ingestPenguins(platform.url('ingestion', ''), { headers: { 'x-api-key': platform.adminKey } });
      await platform.call('training', 'POST', '/runs', penguinsSpec({ seed: 2 }), { contentType: 'text/yaml' });
      await eventually(async () => (await events.readStream(streams.model('penguins'))).some((e) => e.type === 'ModelVersionRegistered'), 300_000, 'version 1 registered');
    } finally {
      await events.close();
    }
    expect((await platform.call('registry', 'PUT', '/models/penguins/aliases/production', { version: 1, reason: 'overload' })).status).toBe(200);
    key = (await platform.call('registry', 'POST', '/auth/keys', { name: 'overload', scopes: ['predict'] })).body.token;
    await eventually(async () => (await predict()).status === 200, 120_000, 'penguins served');
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('sheds the excess with Retry-After, keeps its memory bounded, and recovers', async () => {
    const pid = platform.processes.serving.child.pid!;

    // Capacity: closed loop, a few clients each sending the next request when the last is answered.
    const capCpu = cpuMs(pid);
    const capStart = performance.now();
    const capOutcomes: Outcome[] = [];
    await Promise.all(
      Array.from({ length: CAPACITY_CLIENTS }, async () => {
        while (performance.now() - capStart < CAPACITY_MS) capOutcomes.push(await predict());
      }),
    );
    const capSeconds = (performance.now() - capStart) / 1000;
    const capCpuPerRequest = ((cpuMs(pid) - capCpu) * 1000) / capOutcomes.length;
    const served = capOutcomes.filter((o) => o.status === 200).length;
    const capacity = served / capSeconds;
    expect(served).toBeGreaterThan(20);
    const rate = 2 * capacity;

    // Overload: open loop at twice that rate, whatever the answers take; RSS sampled meanwhile.
    const preRss = rssMb(pid);
    const overCpu = cpuMs(pid);
    const samples: number[] = [];
    const sampler = setInterval(() => samples.push(rssMb(pid)), 250);
    const pending: Promise<Outcome>[] = [];
    let maxInFlight = 0;
    let inFlight = 0;
    const start = performance.now();
    try {
      while (performance.now() - start < OVERLOAD_MS) {
        const due = Math.floor(((performance.now() - start) / 1000) * rate);
        while (pending.length < due) {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          pending.push(predict().finally(() => inFlight--));
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    } finally {
      const outcomes = await Promise.all(pending);
      clearInterval(sampler);
      samples.push(rssMb(pid));
      const overCpuPerRequest = ((cpuMs(pid) - overCpu) * 1000) / pending.length;
      const offered = pending.length / (OVERLOAD_MS / 1000);
      const count = (s: Outcome['status']) => outcomes.filter((o) => o.status === s).length;
      const byStatus: Record<string, number> = {};
      for (const o of outcomes) byStatus[`${o.status}${o.code && o.status !== 200 ? ` ${o.code}` : ''}`] = (byStatus[`${o.status}${o.code && o.status !== 200 ? ` ${o.code}` : ''}`] ?? 0) + 1;
      console.log(
        [
          `capacity (closed loop, ${CAPACITY_CLIENTS} clients, ${capSeconds.toFixed(1)} s): ${capacity.toFixed(1)} req/s (${served} × 200 of ${capOutcomes.length}); serving CPU ${capCpuPerRequest.toFixed(0)} µs per request`,
          `overload (open loop, ${OVERLOAD_MS / 1000} s): target ${rate.toFixed(1)} req/s, offered ${offered.toFixed(1)} req/s, ${outcomes.length} requests, at most ${maxInFlight} in flight (admission: ${MAX_QUEUE} queued rows)`,
          `answers: ${JSON.stringify(byStatus)}`,
          `200 ${count(200)}, 503 ${count(503)}, 429 ${count(429)}, served ${(count(200) / (OVERLOAD_MS / 1000)).toFixed(1)} req/s; serving CPU ${overCpuPerRequest.toFixed(0)} µs per answer (200 or shed)`,
          `serving RSS MB: before ${preRss}, samples every 250 ms: ${samples.join(' ')} (max ${Math.max(...samples)})`,
        ].join('\n'),
      );

      // Every answer is 200, or 429/503 with a Retry-After in whole seconds; nothing else, no reset, no hang.
      expect(Object.keys(byStatus).filter((s) => !/^(200|429 RATE_LIMITED|503 OVERLOADED)$/.test(s))).toEqual([]);
      expect(outcomes.filter((o) => (o.status === 429 || o.status === 503) && !/^[1-9]\d*$/.test(o.retryAfter ?? ''))).toEqual([]);
      // At twice its capacity and far more at once than the queue holds, serving sheds rather than queueing it all.
      expect(maxInFlight).toBeGreaterThan(MAX_QUEUE);
      expect(count(503) + count(429)).toBeGreaterThan(0);
      expect(count(200)).toBeGreaterThan(0);
      // Bounded memory: a generous bound, not a measurement.
      expect(Math.max(...samples)).toBeLessThan(2 * preRss + 256);
    }

    // Recovery: at normal load (one client at a time), every request is answered 200 again.
    await eventually(async () => (await predict()).status === 200, 60_000, 'serving answers again');
    const after: Outcome[] = [];
    for (let i = 0; i < 50; i++) after.push(await predict());
    console.log(`recovery: ${after.filter((o) => o.status === 200).length}/50 × 200 at one request at a time; serving RSS ${rssMb(pid)} MB`);
    expect(after.map((o) => o.status)).toEqual(after.map(() => 200));
  });
});
