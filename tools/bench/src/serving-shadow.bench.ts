import { join } from 'node:path';
import { streams, toNewEvent, type EventData } from '@mlp/contracts';
import { SqliteEventStore } from '@mlp/eventstore';
import { printFigures } from './report';

interface Run {
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

/** What the serving bench lends this one: its server lifecycle and load generators. */
export interface ShadowBenchDeps<S extends { port: number }> {
  start(): Promise<S>;
  stop(server: S): Promise<number>;
  /** 32 clients for the bench's duration (autocannon). */
  cannon(url: string): Promise<Run>;
  /** One client in a loop. */
  oneClient(port: number, path: string): Promise<Run>;
}

/**
 * Registers version 2 of the bench model with version 1's artifacts: the
 * challenger costs exactly what the primary costs per prediction.
 */
async function registerChallenger(home: string, model: string): Promise<void> {
  const store = new SqliteEventStore(join(home, 'events.db'));
  try {
    const events = await store.readStream(streams.model(model));
    const v1 = events.find((e) => e.type === 'ModelVersionRegistered')!.data as EventData<'ModelVersionRegistered'>;
    if (events.some((e) => e.type === 'ModelVersionRegistered' && (e.data as { version: number }).version === 2)) return;
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

/** Sum of `serving_shadow_requests_total` by result: OK and anything else. */
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

/**
 * Shadow cost (part of `npm run bench -- serving`): one serving process
 * (adaptive batching) answers one-row requests; the primary's p99 with a
 * shadow rollout mirroring 10 % of requests to a challenger (the same model
 * as version 2, so each mirrored request costs a full second prediction) is
 * compared with the p99 without shadow, measured before and after it in the
 * same process (their mean is the baseline). Under 32 clients and with one
 * client; peak RSS of the process with both versions loaded.
 */
export async function benchShadow<S extends { port: number }>(home: string, model: string, deps: ShadowBenchDeps<S>): Promise<void> {
  await registerChallenger(home, model);
  const server = await deps.start();
  const base = `http://127.0.0.1:${server.port}`;
  const path = `/v1/models/${model}:predict`;
  const post = (p: string, body: unknown) => json(fetch(`${base}${p}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }));

  await deps.cannon(`${base}${path}`); // warm-up (JIT, batch sizes, sockets): not counted
  const before = await deps.cannon(`${base}${path}`);
  const beforeLow = await deps.oneClient(server.port, path);

  await post('/deployments', { model, version: 2, strategy: 'shadow', weight: 10, reason: 'bench' });
  for (const deadline = Date.now() + 60_000; ; ) {
    const status = await json<{ models: { name: string; version: string }[] }>(fetch(`${base}/v1/serving/status`));
    if (status.models.some((m) => m.name === model && m.version === '2')) break;
    if (Date.now() > deadline) throw new Error('the shadow challenger did not load');
    await new Promise((r) => setTimeout(r, 100));
  }
  const shadow = await deps.cannon(`${base}${path}`);
  const shadowLow = await deps.oneClient(server.port, path);
  const mirrored = await mirroredCounts(base, model);
  await post(`/deployments/${model}/rollback`, { reason: 'bench over' });

  const after = await deps.cannon(`${base}${path}`);
  const afterLow = await deps.oneClient(server.port, path);
  const peak = await deps.stop(server);

  const baseline = (a: Run, b: Run) => ({ name: 'no shadow', value: (a.p99 + b.p99) / 2 });
  const answered = shadow.rps * Number(process.env.MLP_BENCH_SECONDS ?? 8) + shadowLow.rps * Number(process.env.MLP_BENCH_SECONDS ?? 8);
  printFigures('serving: shadow traffic (10 % of requests mirrored to a challenger of the same size)', [
    { name: '32 clients: p99 without shadow (before)', value: before.p99, unit: 'ms' },
    { name: '32 clients: p99 without shadow (after)', value: after.p99, unit: 'ms' },
    { name: '32 clients: p99 with 10 % shadow', value: shadow.p99, unit: 'ms', baseline: baseline(before, after), goal: '≤ 1.1× no shadow' },
    { name: '32 clients: req/s with 10 % shadow', value: shadow.rps, unit: 'req/s', baseline: { name: 'no shadow', value: (before.rps + after.rps) / 2 } },
    { name: '1 client: p99 without shadow (before)', value: beforeLow.p99, unit: 'ms' },
    { name: '1 client: p99 without shadow (after)', value: afterLow.p99, unit: 'ms' },
    { name: '1 client: p99 with 10 % shadow', value: shadowLow.p99, unit: 'ms', baseline: baseline(beforeLow, afterLow), goal: '≤ 1.1× no shadow' },
    { name: 'mirrored requests answered by the challenger', value: mirrored.ok, unit: 'req', baseline: { name: 'primary requests', value: answered } },
    { name: 'peak RSS (both versions loaded)', value: peak, unit: 'MiB' },
  ]);
  const errors = before.errors + shadow.errors + after.errors + beforeLow.errors + shadowLow.errors + afterLow.errors;
  console.log(`shadow bench errors (primary non-2xx, timeouts): ${errors}; challenger failures (never seen by callers): ${mirrored.failed}`);
}
