import { join } from 'node:path';
import { streams, toNewEvent, type EventData } from '@mlp/contracts';
import { SqliteEventStore } from '@mlp/eventstore';
import { printFigures } from './report';

interface Run {
  rps: number;
  p99: number;
  errors: number;
  total: number;
}

/** What the serving bench lends this one: its server lifecycle, load generators and CPU probe. */
export interface ShadowBenchDeps<S extends { port: number }> {
  start(): Promise<S>;
  stop(server: S): Promise<number>;
  /** 32 clients for `seconds` (autocannon). */
  cannon(url: string, seconds: number): Promise<Run>;
  /** One client in a loop for `seconds`: every latency in ms. */
  oneClient(port: number, path: string, seconds: number): Promise<{ latencies: number[]; errors: number }>;
  /** CPU seconds the server process has used so far (all threads). */
  cpuSeconds(server: S): number;
  seconds: number;
  rounds: number;
}

/**
 * Registers version 2 of the bench model with version 1's artifacts: the
 * challenger costs exactly what the primary costs per prediction.
 */
async function registerChallenger(home: string, model: string): Promise<void> {
  const store = new SqliteEventStore(join(home, 'events.db'));
  try {
    const events = await store.readStream(streams.model(model));
    if (events.some((e) => e.type === 'ModelVersionRegistered' && (e.data as { version: number }).version === 2)) return;
    const v1 = events.find((e) => e.type === 'ModelVersionRegistered')!.data as EventData<'ModelVersionRegistered'>;
    const meta = { now: new Date().toISOString(), correlationId: 'bench-shadow', causationId: null, actor: 'bench' };
    await store.appendToStream(streams.model(model), [toNewEvent({ type: 'ModelVersionRegistered', data: { ...v1, version: 2, runId: 'bench-shadow' } }, meta, { codeVersion: 'bench' })]);
  } finally {
    await store.close();
  }
}

async function json<T>(res: Promise<Response>): Promise<T> {
  const r = await res;
  const body = (await r.json()) as T;
  if (!r.ok) throw new Error(`HTTP ${r.status}: ${JSON.stringify(body)}`);
  return body;
}

/** Sum of `serving_shadow_requests_total` for the model: answered (OK) and not. */
async function mirroredCounts(base: string, model: string): Promise<{ ok: number; failed: number }> {
  const text = await (await fetch(`${base}/metrics`)).text();
  let ok = 0;
  let failed = 0;
  for (const m of text.matchAll(/^serving_shadow_requests_total\{([^}]*)\} (\d+)$/gm)) {
    if (!m[1].includes(`model="${model}"`)) continue;
    if (m[1].includes('code="OK"')) ok += Number(m[2]);
    else failed += Number(m[2]);
  }
  return { ok, failed };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(0.99 * xs.length))];

/** Measurements of one condition (no shadow, or 10 % shadow) over all rounds. */
class Condition {
  readonly p99s: number[] = [];
  readonly low: number[] = [];
  requests = 0;
  cpu = 0;
  errors = 0;
}

/**
 * Shadow cost (part of `npm run bench -- serving`): one serving process
 * (adaptive batching) answers one-row requests, in rounds that take turns
 * (ABBA) between no shadow and a shadow rollout mirroring 10 % of requests
 * to a challenger (the same model as version 2, so each mirrored request
 * costs a full second prediction). Figures: the primary p99 under 32
 * clients (median of the rounds) and with one client (over all its
 * requests), the server CPU per answered request, and the peak RSS of the
 * process with both versions loaded.
 */
export async function benchShadow<S extends { port: number }>(home: string, model: string, deps: ShadowBenchDeps<S>): Promise<void> {
  await registerChallenger(home, model);
  const server = await deps.start();
  const base = `http://127.0.0.1:${server.port}`;
  const path = `/v1/models/${model}:predict`;
  // Each round runs the bench's full duration per condition: a 32-client p99 over a few seconds is mostly noise.
  const seconds = Math.max(3, deps.seconds);
  const post = (p: string, body: unknown) => json(fetch(`${base}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }));
  const shadowOn = async () => {
    await post('/deployments', { model, version: 2, strategy: 'shadow', weight: 10, reason: 'bench' });
    for (const deadline = Date.now() + 60_000; ; ) {
      const status = await json<{ models: { name: string; version: string }[] }>(fetch(`${base}/v1/serving/status`));
      if (status.models.some((m) => m.name === model && m.version === '2')) return;
      if (Date.now() > deadline) throw new Error('the shadow challenger did not load');
      await new Promise((r) => setTimeout(r, 50));
    }
  };
  const shadowOff = () => post(`/deployments/${model}/rollback`, { reason: 'bench round over' });
  const measure = async (into: Condition) => {
    const cpu0 = deps.cpuSeconds(server);
    const run = await deps.cannon(`${base}${path}`, seconds);
    const low = await deps.oneClient(server.port, path, seconds / 2);
    into.cpu += deps.cpuSeconds(server) - cpu0;
    into.requests += run.total + low.latencies.length;
    into.p99s.push(run.p99);
    for (const l of low.latencies) into.low.push(l);
    into.errors += run.errors + low.errors;
  };

  await deps.cannon(`${base}${path}`, seconds); // warm-up (JIT, batch sizes, sockets): not counted
  const plain = new Condition();
  const shadow = new Condition();
  let mirrored = { ok: 0, failed: 0 };
  for (let r = 0; r < deps.rounds; r++) {
    const shadowFirst = r % 2 === 1;
    if (!shadowFirst) await measure(plain);
    await shadowOn();
    const before = await mirroredCounts(base, model);
    await measure(shadow);
    const after = await mirroredCounts(base, model);
    mirrored = { ok: mirrored.ok + after.ok - before.ok, failed: mirrored.failed + after.failed - before.failed };
    await shadowOff();
    if (shadowFirst) await measure(plain);
  }
  const peak = await deps.stop(server);

  const cpuUs = (c: Condition) => (c.cpu * 1e6) / c.requests;
  printFigures(`serving: shadow traffic, 10 % of requests mirrored to a same-size challenger (${deps.rounds} ABBA rounds)`, [
    { name: '32 clients: primary p99 without shadow', value: median(plain.p99s), unit: 'ms' },
    { name: '32 clients: primary p99 with 10 % shadow', value: median(shadow.p99s), unit: 'ms', baseline: { name: 'no shadow', value: median(plain.p99s) }, goal: '≤ 1.1× no shadow' },
    { name: '1 client: primary p99 without shadow', value: p99(plain.low), unit: 'ms' },
    { name: '1 client: primary p99 with 10 % shadow', value: p99(shadow.low), unit: 'ms', baseline: { name: 'no shadow', value: p99(plain.low) }, goal: '≤ 1.1× no shadow' },
    { name: 'server CPU per answered request, no shadow', value: cpuUs(plain), unit: 'µs/req' },
    { name: 'server CPU per answered request, 10 % shadow', value: cpuUs(shadow), unit: 'µs/req', baseline: { name: 'no shadow', value: cpuUs(plain) } },
    { name: 'mirrored requests answered by the challenger', value: mirrored.ok, unit: 'req', baseline: { name: 'primary requests', value: shadow.requests } },
    { name: 'peak RSS (both versions loaded)', value: peak, unit: 'MiB' },
  ]);
  console.log(`shadow bench errors (primary non-2xx, timeouts): ${plain.errors + shadow.errors}; challenger failures or skips (never seen by callers): ${mirrored.failed}`);
}
