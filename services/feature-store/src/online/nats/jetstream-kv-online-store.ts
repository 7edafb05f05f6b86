import { createHash } from 'node:crypto';
import { connect, StorageType, type JetStreamClient, type JetStreamManager, type KV, type KvEntry, type NatsConnection, type Subscription } from 'nats';
import { ConcurrencyError, DomainError, InfrastructureError } from '@mlp/contracts';
import type { NatsAuth } from '@mlp/messaging';
import { BaseOnlineStore } from '../base-online-store';
import { mapLimit } from '../map-limit';
import { supersedes, timestampKey, type PreparedRow } from '../online-rows';
import type { OnlineFeatures } from '../online-store';

export interface JetStreamKvOnlineStoreOptions {
  /** KV bucket replicas (R3 in a cluster). Default 1. */
  replicas?: number;
  /** Parallel `kv.get`s of one read. Default 64. */
  readConcurrency?: number;
  /** Entities written in parallel by one write. Default 64. */
  writeConcurrency?: number;
  /** Compare-and-set attempts per entity before a ConcurrencyError. Default 50. */
  maxCasAttempts?: number;
  /** Timeout of one KV request (ms). Default 5000. */
  requestTimeoutMs?: number;
  /**
   * Drop cached bucket handles when the server announces a bucket's deletion
   * (stream-deleted advisories). Default true; without it (or without the
   * permission to subscribe) a read after another process's deleteView
   * costs one request timeout before the handle is renewed.
   */
  watchDeletions?: boolean;
}

/** The JSON value of one KV entry. */
export interface KvOnlineValue {
  ts: string;
  values: Record<string, unknown>;
  materializationId: string;
}

const BUCKET_PREFIX = 'MLP_ONLINE_';
/** JetStream stream behind a KV bucket. */
const streamOf = (bucket: string) => `KV_${bucket}`;

/**
 * KV bucket of a view: `MLP_ONLINE_<VIEW>` upper-cased. View names are
 * case sensitive but bucket names are shown upper-cased, so a view with
 * upper-case letters gets a short digest of its exact name appended
 * (`Credit` → `MLP_ONLINE_CREDIT_<10 hex>`), keeping `credit` and `Credit`
 * apart. View names are checked before (letters, digits, `_`, `-`), all
 * legal in bucket names.
 */
export function onlineBucketName(view: string): string {
  const upper = view.toUpperCase();
  if (view === view.toLowerCase()) return `${BUCKET_PREFIX}${upper}`;
  return `${BUCKET_PREFIX}${upper}_${createHash('sha256').update(view).digest('hex').slice(0, 10).toUpperCase()}`;
}

/**
 * KV key of an entity key: base64url of its UTF-8 (`[A-Za-z0-9_-]`, one
 * subject token, no dots), `=` for the empty key (base64url never yields '=').
 */
export function onlineKvKey(entityKey: string): string {
  return entityKey === '' ? '=' : Buffer.from(entityKey, 'utf8').toString('base64url');
}

function encodeValue(row: PreparedRow): string {
  return `{"ts":${JSON.stringify(row.eventTimestamp)},"values":${row.valuesJson},"materializationId":${JSON.stringify(row.materializationId)}}`;
}

function decodeValue(entry: KvEntry): KvOnlineValue | null {
  if (entry.operation !== 'PUT') return null; // DEL / PURGE markers
  const value = entry.json<KvOnlineValue>();
  return value && typeof value.ts === 'string' && value.values && typeof value.values === 'object' ? value : null;
}

interface NatsLikeError {
  code?: string;
  message?: string;
  api_error?: { code?: number; err_code?: number };
}

function isWrongLastSequence(err: unknown): boolean {
  const e = err as NatsLikeError;
  return e?.api_error?.err_code === 10071 || /wrong last sequence/i.test(e?.message ?? '');
}

function isStreamNotFound(err: unknown): boolean {
  const e = err as NatsLikeError;
  return e?.api_error?.err_code === 10059 || /stream not found/i.test(e?.message ?? '');
}

/** The bucket vanished under a cached handle (deleteView elsewhere): nothing answers its subjects. */
function isBucketGone(err: unknown): boolean {
  return (err as NatsLikeError)?.code === '503' || isStreamNotFound(err);
}

/** nats-server 2.9 leaves a direct get on a deleted stream unanswered: the request times out. */
function isTimeout(err: unknown): boolean {
  return (err as NatsLikeError)?.code === 'TIMEOUT';
}

/** Published by the server when any stream is deleted; the last token is the stream name. */
const STREAM_DELETED_ADVISORY = '$JS.EVENT.ADVISORY.STREAM.DELETED.*';

function wrap(err: unknown, what: string): Error {
  if (err instanceof DomainError) return err;
  return new InfrastructureError(`JetStream KV online store: ${what}: ${(err as Error)?.message ?? String(err)}`, { cause: err });
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The distributed online store: one KV bucket per view (history 1), key =
 * `onlineKvKey(entityKey)`, value = JSON `{ts, values, materializationId}`.
 * - Monotonic writes by compare-and-set on the key's revision: read the
 *   entry, apply `supersedes`, then `update(key, value, revision)` (or
 *   create with expected revision 0); on a conflict re-read and decide again.
 * - Batch reads are parallel direct gets, at most `readConcurrency` in flight
 *   (nats-server 2.9 has no multi-key get).
 */
export class JetStreamKvOnlineStore extends BaseOnlineStore {
  readonly kind = 'nats-jetstream-kv';
  private readonly buckets = new Map<string, Promise<KV>>();
  private readonly readConcurrency: number;
  private readonly writeConcurrency: number;
  private readonly maxCasAttempts: number;
  private readonly advisories?: Subscription;
  /** Its timeout applies to every KV request of the buckets opened through it. */
  private readonly js: JetStreamClient;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly ownsConnection: boolean,
    private readonly options: JetStreamKvOnlineStoreOptions,
  ) {
    super();
    this.readConcurrency = Math.max(1, options.readConcurrency ?? 64);
    this.writeConcurrency = Math.max(1, options.writeConcurrency ?? 64);
    this.maxCasAttempts = Math.max(1, options.maxCasAttempts ?? 50);
    this.js = nc.jetstream({ timeout: options.requestTimeoutMs ?? 5000 });
    // Another process's deleteView: drop the cached handle before a direct get can hang on it.
    if (options.watchDeletions === false) return;
    this.advisories = nc.subscribe(STREAM_DELETED_ADVISORY, {
      callback: (err, msg) => {
        if (err) return;
        const stream = msg.subject.slice(msg.subject.lastIndexOf('.') + 1);
        for (const view of this.buckets.keys()) if (streamOf(onlineBucketName(view)) === stream) this.buckets.delete(view);
      },
    });
  }

  static async connect(options: JetStreamKvOnlineStoreOptions & { servers: string | string[]; auth?: NatsAuth }): Promise<JetStreamKvOnlineStore> {
    let nc: NatsConnection;
    try {
      nc = await connect({ servers: options.servers, name: 'mlp-online-store', maxReconnectAttempts: -1, ...options.auth });
    } catch (cause) {
      throw new InfrastructureError(`cannot connect to NATS at ${String(options.servers)}: ${(cause as Error).message}`, { cause });
    }
    try {
      return await JetStreamKvOnlineStore.open(nc, options, true);
    } catch (err) {
      await nc.close().catch(() => undefined);
      throw err;
    }
  }

  /** On a connection the caller owns (and drains): close() leaves it open. */
  static async fromConnection(nc: NatsConnection, options: JetStreamKvOnlineStoreOptions = {}): Promise<JetStreamKvOnlineStore> {
    return JetStreamKvOnlineStore.open(nc, options, false);
  }

  private static async open(nc: NatsConnection, options: JetStreamKvOnlineStoreOptions, owns: boolean): Promise<JetStreamKvOnlineStore> {
    try {
      return new JetStreamKvOnlineStore(nc, await nc.jetstreamManager({ timeout: options.requestTimeoutMs ?? 5000 }), owns, options);
    } catch (err) {
      throw wrap(err, 'JetStream is not available');
    }
  }

  /**
   * The view's bucket handle. `create` makes the bucket when missing (writes);
   * otherwise a missing bucket is null and is not cached (reads, so a bucket
   * created later by another process is seen).
   */
  private async bucket(view: string, create: true): Promise<KV>;
  private async bucket(view: string, create: boolean): Promise<KV | null>;
  private async bucket(view: string, create: boolean): Promise<KV | null> {
    const cached = this.buckets.get(view);
    if (cached) return cached;
    const name = onlineBucketName(view);
    let opening: Promise<KV>;
    if (create) {
      opening = this.js.views.kv(name, {
        history: 1,
        replicas: this.options.replicas ?? 1,
        storage: StorageType.File,
      });
    } else {
      let info;
      try {
        info = await this.jsm.streams.info(streamOf(name));
      } catch (err) {
        if (isStreamNotFound(err)) return null;
        throw wrap(err, `cannot look up bucket ${name}`);
      }
      if (this.buckets.has(view)) return this.buckets.get(view)!;
      opening = this.js.views.kv(name, {
        bindOnly: true,
        allow_direct: info.config.allow_direct === true,
      });
    }
    const guarded = opening.catch((err: unknown) => {
      this.buckets.delete(view);
      throw wrap(err, `cannot open bucket ${name}`);
    });
    this.buckets.set(view, guarded);
    return guarded;
  }

  /**
   * Runs `fn` on the view's bucket; once more on a fresh handle when the
   * cached bucket was deleted elsewhere (the advisory normally clears the
   * cache first; this covers the race and a missed advisory).
   */
  private async withBucket<T>(view: string, create: boolean, ifMissing: T, fn: (kv: KV) => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      const kv = await this.bucket(view, create);
      if (!kv) return ifMissing;
      try {
        return await fn(kv);
      } catch (err) {
        if (attempt > 0 || !(isBucketGone(err) || (isTimeout(err) && !(await this.bucketExists(view))))) {
          throw wrap(err, `bucket ${onlineBucketName(view)}`);
        }
        this.buckets.delete(view);
      }
    }
  }

  private async bucketExists(view: string): Promise<boolean> {
    try {
      await this.jsm.streams.info(streamOf(onlineBucketName(view)));
      return true;
    } catch (err) {
      if (isStreamNotFound(err)) return false;
      throw wrap(err, `cannot look up bucket ${onlineBucketName(view)}`);
    }
  }

  protected async writeRows(view: string, rows: PreparedRow[]): Promise<number> {
    const done = new Set<PreparedRow>();
    let written = 0;
    await this.withBucket(view, true, undefined, async (kv) => {
      // A retry after the bucket vanished redoes only the rows not yet settled.
      await mapLimit(rows.filter((r) => !done.has(r)), this.writeConcurrency, async (row) => {
        if (await this.writeOne(kv, row)) written++;
        done.add(row);
      });
    });
    return written;
  }

  private async writeOne(kv: KV, row: PreparedRow): Promise<boolean> {
    const key = onlineKvKey(row.entityKey);
    const body = encodeValue(row);
    for (let attempt = 0; attempt < this.maxCasAttempts; attempt++) {
      const entry = await kv.get(key);
      const stored = entry ? decodeValue(entry) : null;
      const tsKey = stored ? timestampKey(stored.ts) : null;
      if (stored && tsKey !== null) {
        const current = { tsKey, valuesJson: JSON.stringify(stored.values), materializationId: String(stored.materializationId) };
        if (!supersedes(row, current)) return false;
      }
      try {
        if (entry) await kv.update(key, body, entry.revision);
        else await kv.put(key, body, { previousSeq: 0 });
        return true;
      } catch (err) {
        if (!isWrongLastSequence(err)) throw err;
        // Another writer got there first: re-read and decide again.
        if (attempt >= 2) await pause(Math.random() * Math.min(50, 2 ** attempt));
      }
    }
    throw new ConcurrencyError(`online entity ${row.entityKey}: still conflicting after ${this.maxCasAttempts} compare-and-set attempts`, {
      code: 'ONLINE_WRITE_CONFLICT',
      details: { entityKey: row.entityKey },
    });
  }

  protected async readRows(view: string, keys: string[]): Promise<Map<string, OnlineFeatures>> {
    const out = new Map<string, OnlineFeatures>();
    await this.withBucket(view, false, undefined, async (kv) => {
      const entries = await mapLimit(keys, this.readConcurrency, (key) => kv.get(onlineKvKey(key)));
      entries.forEach((entry, i) => {
        const value = entry ? decodeValue(entry) : null;
        if (value) out.set(keys[i], { eventTimestamp: value.ts, values: value.values });
      });
    });
    return out;
  }

  protected async deleteRows(view: string): Promise<void> {
    const name = onlineBucketName(view);
    this.buckets.delete(view);
    try {
      await this.jsm.streams.delete(streamOf(name));
    } catch (err) {
      if (!isStreamNotFound(err)) throw wrap(err, `cannot delete bucket ${name}`);
    } finally {
      this.buckets.delete(view);
    }
  }

  protected async countRows(view: string): Promise<number> {
    const name = onlineBucketName(view);
    try {
      const info = await this.jsm.streams.info(streamOf(name));
      return info.state.messages; // history 1 and no deletes: one message per entity
    } catch (err) {
      if (isStreamNotFound(err)) return 0;
      throw wrap(err, `cannot count bucket ${name}`);
    }
  }

  protected async pingBackend(): Promise<void> {
    try {
      await this.jsm.getAccountInfo();
    } catch (err) {
      throw wrap(err, 'ping');
    }
  }

  protected async closeBackend(): Promise<void> {
    this.advisories?.unsubscribe();
    this.buckets.clear();
    if (this.ownsConnection && !this.nc.isClosed()) await this.nc.drain();
  }
}
