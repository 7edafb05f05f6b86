import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type KV } from 'nats';
import {
  JetStreamKvOnlineStore,
  SqliteOnlineStore,
  entityKey,
  onlineBucketName,
  onlineKvKey,
  type OnlineRow,
  type OnlineStore,
  type OnlineValue,
} from '@mlp/service-feature-store';
import { startNatsServer } from '@mlp/testing';
import { printFigures, timed, type Figure } from './report';

const VIEW = 'bench_customer_features';
const ENTITIES = 10_000;
const FEATURES = 50;
const WRITE_CHUNK = 1_000;
const BATCH = 100;
/** Parallel gets of one batch read: the adapter's readConcurrency and the raw baseline's pool size. */
const READ_CONCURRENCY = 64;
const SINGLE_SAMPLES = 3_000;
const BATCH_SAMPLES = 1_000;
const WARMUP = 200;

/** Deterministic pseudo-random numbers: every run reads the same entities. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function makeRows(): OnlineRow[] {
  const rnd = lcg(42);
  return Array.from({ length: ENTITIES }, (_, i) => {
    const values: Record<string, OnlineValue> = {};
    for (let f = 0; f < FEATURES; f++) {
      const name = `f${String(f).padStart(2, '0')}`;
      // Mostly floats, as materialized features are; some ints, strings, booleans and nulls.
      values[name] = f % 10 === 7 ? `cat-${Math.floor(rnd() * 20)}` : f % 10 === 8 ? rnd() < 0.5 : f % 10 === 9 ? (rnd() < 0.1 ? null : Math.floor(rnd() * 1000)) : rnd() * 1000;
    }
    return {
      entityKey: entityKey(['customer_id'], { customer_id: `cust-${i}` }),
      eventTimestamp: new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString(),
      values,
      materializationId: 'bench-mat-1',
    };
  });
}

function pickKeys(rows: OnlineRow[], rnd: () => number, n: number): string[] {
  const keys = new Set<string>();
  while (keys.size < n) keys.add(rows[Math.floor(rnd() * rows.length)].entityKey);
  return [...keys];
}

/** The bare baseline's pool: `n` gets with at most READ_CONCURRENCY in flight. */
async function pooled(n: number, get: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, n) }, async () => {
    while (next < n) await get(next++);
  }));
}

const nowUs = () => Number(process.hrtime.bigint()) / 1e3;

interface Latencies {
  p50: number;
  p99: number;
}

function percentiles(samples: number[]): Latencies {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
  return { p50: at(0.5), p99: at(0.99) };
}

/**
 * Times `adapter` and `raw` on the same key sets, alternating which goes
 * first, so both see the same server state and the same noise.
 */
async function compare(
  samples: number,
  keysFor: () => string[],
  adapter: (keys: string[]) => Promise<unknown>,
  raw: (keys: string[]) => Promise<unknown>,
): Promise<{ adapter: Latencies; raw: Latencies }> {
  const a: number[] = [];
  const r: number[] = [];
  for (let i = 0; i < WARMUP + samples; i++) {
    const keys = keysFor();
    const order: [(keys: string[]) => Promise<unknown>, number[]][] = i % 2 === 0 ? [[adapter, a], [raw, r]] : [[raw, r], [adapter, a]];
    for (const [fn, out] of order) {
      const start = nowUs();
      await fn(keys);
      if (i >= WARMUP) out.push(nowUs() - start);
    }
  }
  return { adapter: percentiles(a), raw: percentiles(r) };
}

function latencyFigures(label: string, m: { adapter: Latencies; raw: Latencies }, rawName: string, goal?: string): Figure[] {
  return [
    { name: `${label} p50`, value: m.adapter.p50, unit: 'µs', baseline: { name: `${rawName} p50`, value: m.raw.p50 } },
    { name: `${label} p99`, value: m.adapter.p99, unit: 'µs', baseline: { name: `${rawName} p99`, value: m.raw.p99 }, goal },
  ];
}

async function writeAll(store: OnlineStore, rows: OnlineRow[]): Promise<number> {
  const { seconds } = await timed(async () => {
    for (let i = 0; i < rows.length; i += WRITE_CHUNK) {
      const result = await store.write(VIEW, rows.slice(i, i + WRITE_CHUNK));
      if (result.written !== Math.min(WRITE_CHUNK, rows.length - i)) throw new Error(`bench write stored ${result.written} rows`);
    }
  });
  return rows.length / seconds;
}

async function checkRead(store: OnlineStore, rows: OnlineRow[]): Promise<void> {
  const row = rows[rows.length - 1];
  const got = (await store.read(VIEW, [row.entityKey], null)).get(row.entityKey);
  if (JSON.stringify(got?.values) !== JSON.stringify(Object.fromEntries(Object.entries(row.values).sort(([x], [y]) => (x < y ? -1 : 1))))) {
    throw new Error('bench read returned other values than were written');
  }
}

async function benchJetStream(rows: OnlineRow[]): Promise<Figure[]> {
  const server = await startNatsServer();
  const store = await JetStreamKvOnlineStore.connect({ servers: server.url, readConcurrency: READ_CONCURRENCY, writeConcurrency: 64 });
  const nc = await connect({ servers: server.url });
  try {
    const js = nc.jetstream();
    // Raw write baseline: the same bodies with a plain kv.put (no read, no compare-and-set), same parallelism.
    const rawBucket = await js.views.kv('BENCH_RAW_ONLINE', { history: 1 });
    const bodies = rows.map((r) => JSON.stringify({ ts: r.eventTimestamp, values: r.values, materializationId: r.materializationId }));
    const { seconds: rawWriteSeconds } = await timed(async () => {
      for (let i = 0; i < rows.length; i += WRITE_CHUNK) {
        let next = i;
        const end = Math.min(rows.length, i + WRITE_CHUNK);
        await Promise.all(Array.from({ length: 64 }, async () => {
          while (next < end) {
            const k = next++;
            await rawBucket.put(onlineKvKey(rows[k].entityKey), bodies[k]);
          }
        }));
      }
    });
    const adapterWrite = await writeAll(store, rows);
    await checkRead(store, rows);

    // Raw read baseline: the adapter's own bucket and keys, read with the bare client.
    const kv: KV = await js.views.kv(onlineBucketName(VIEW));
    const rawGet = (key: string) => kv.get(onlineKvKey(key)).then((e) => {
      if (!e) throw new Error(`raw get: ${key} missing`);
      return e.value;
    });
    const rnd = lcg(7);
    const single = await compare(
      SINGLE_SAMPLES,
      () => pickKeys(rows, rnd, 1),
      (keys) => store.read(VIEW, keys, null),
      (keys) => rawGet(keys[0]),
    );
    const batch = await compare(
      BATCH_SAMPLES,
      () => pickKeys(rows, rnd, BATCH),
      (keys) => store.read(VIEW, keys, null),
      (keys) => pooled(keys.length, (i) => rawGet(keys[i])),
    );
    return [
      { name: `jetstream kv adapter write (get + CAS)`, value: adapterWrite, unit: 'rows/s', baseline: { name: 'raw kv.put', value: rawWriteSeconds ? rows.length / rawWriteSeconds : 0 } },
      ...latencyFigures('jetstream kv read 1 entity', single, 'raw kv.get', '≤ 1.5×'),
      ...latencyFigures(`jetstream kv read ${BATCH} entities`, batch, `raw ${BATCH} kv.get`, '≤ 1.5×'),
    ];
  } finally {
    await store.close();
    await nc.drain();
    await server.stop();
  }
}

async function benchSqlite(rows: OnlineRow[]): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'mlp-bench-online-'));
  const file = join(dir, 'online.db');
  const store = new SqliteOnlineStore(file);
  const db = new Database(file, { readonly: true });
  try {
    const write = await writeAll(store, rows);
    await checkRead(store, rows);
    // Raw baseline: the same rows' JSON text through prepared statements, not parsed.
    const one = db.prepare<[string, string], { vals: string }>('SELECT vals FROM online_features WHERE view = ? AND entity_key = ?');
    const many = db.prepare<[string, string], { entity_key: string; vals: string }>(
      'SELECT entity_key, vals FROM online_features WHERE view = ? AND entity_key IN (SELECT value FROM json_each(?))',
    );
    const rnd = lcg(7);
    const single = await compare(
      SINGLE_SAMPLES,
      () => pickKeys(rows, rnd, 1),
      (keys) => store.read(VIEW, keys, null),
      async (keys) => one.get(VIEW, keys[0]),
    );
    const batch = await compare(
      BATCH_SAMPLES,
      () => pickKeys(rows, rnd, BATCH),
      (keys) => store.read(VIEW, keys, null),
      async (keys) => many.all(VIEW, JSON.stringify(keys)),
    );
    return [
      { name: 'sqlite adapter write (conditional upsert)', value: write, unit: 'rows/s' },
      ...latencyFigures('sqlite read 1 entity', single, 'raw SELECT'),
      ...latencyFigures(`sqlite read ${BATCH} entities`, batch, 'raw SELECT IN'),
    ];
  } finally {
    db.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Online feature reads: 10k entities × 50 features, then the latency of
 * one-entity and 100-entity reads through the adapter against the bare
 * client reading the same keys in the same run (the 100-entity baseline uses
 * the adapter's parallelism). Goal: adapter p99 ≤ 1.5× raw.
 */
export async function benchFeaturesOnline(): Promise<void> {
  const rows = makeRows();
  const jetstream = await benchJetStream(rows);
  const sqlite = await benchSqlite(rows);
  printFigures(
    `online features (${ENTITIES.toLocaleString('en-US')} entities × ${FEATURES} features; ${SINGLE_SAMPLES} single and ${BATCH_SAMPLES} batch reads, ${READ_CONCURRENCY} gets in flight)`,
    [...jetstream, ...sqlite],
  );
}
