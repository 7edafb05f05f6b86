import { randomUUID } from 'node:crypto';
import type { ArtifactStore } from '@mlp/artifacts';
import { categories, DomainError, InfrastructureError, NotFoundError, streams, toNewEvent, type DomainEventInput, type ModelRef, type RecordedEvent } from '@mlp/contracts';
import { codeVersion, type EventStore, type LiveReadModel, type Subscription } from '@mlp/eventstore';
import type { BackendName, Frame } from '@mlp/ml';
import { Batcher } from '../inference/batcher';
import { ServingError } from '../inference/serving-errors';
import type { ServingConfig } from '../serving-config';
import { loadVersion, type LoadedVersion } from './loaded-version';
import { aliasKey, ServedModels, ServedModelsProjection, type Desired, type VersionInfo } from './served-models';

/** A loaded version with its batcher and the requests currently using it. */
export interface ServedVersion {
  readonly loaded: LoadedVersion;
  readonly batcher: Batcher<Frame>;
  /** Shadow copies: full batches (or 250 ms), so mirrored rows cost batched predictions, not one call each. */
  readonly mirrorBatcher: Batcher<Frame>;
  /** Aliases routed to it now. */
  readonly aliases: Set<string>;
  inflight: number;
  /** No alias routes to it any more: unloaded once its in-flight requests finish. */
  retiring?: string;
}

/** A resolved request target: release it when the request is done. */
export interface Lease {
  readonly served: ServedVersion;
  /** The alias the request came through, or `version` when it named one. */
  readonly arm: string;
}

export interface ModelManagerHooks {
  onBatch?(served: ServedVersion, rows: number, requests: number): void;
  onLoaded?(served: ServedVersion): void;
  onUnloaded?(name: string, version: number): void;
}

export type LoadFn = (info: VersionInfo, backend?: BackendName) => Promise<LoadedVersion>;

/**
 * A model the log says this instance serves, with no version answering yet:
 * 503 + Retry-After (gRPC UNAVAILABLE), never a 404. Codes: `NOT_READY`
 * (the instance is starting: the log is not read or its versions are not
 * loaded yet), `MODEL_LOADING` (the alias's version is loading),
 * `MODEL_LOAD_FAILED` (its load failed; the reason is in ModelLoadFailed).
 */
export class ModelNotReadyError extends ServingError {
  readonly status = 503;
  readonly grpcCode = 'UNAVAILABLE' as const;
  constructor(
    message: string,
    code: 'NOT_READY' | 'MODEL_LOADING' | 'MODEL_LOAD_FAILED',
    override readonly retryAfterSeconds = 1,
  ) {
    super(message, { code, details: { retryAfterSeconds } });
  }
}

/** Why an instance is not ready: empty when it is. */
export interface ReadinessReport {
  ready: boolean;
  /** What it still waits for: `model log`, `rollouts`, or `name@alias (version v)` loading. */
  waiting: string[];
}

/**
 * Serving's model lifecycle. A catch-up subscription on the `model` category
 * rebuilds which version each alias holds (from position 1 on every start:
 * the routes live in memory, so a restart serves what the log says, with no
 * operator action). Once caught up, and after every alias change, it
 * reconciles: loads the versions served aliases hold (by artifact hash),
 * warms each up, then swaps the alias's route in one assignment. Requests
 * hold a lease on the version they resolved, so in-flight requests finish
 * on the old version; it is unloaded when the last one ends. A failed load
 * leaves the old route in place. Every load, failure and unload is an event
 * on `serving-<model>`.
 *
 * A load that failed for an infrastructure reason (InfrastructureError, e.g.
 * the artifact store unreachable, or an error that is no DomainError) is
 * tried again on a timer, `loadRetry.initialMs` doubling up to `maxMs`, until
 * it loads or no served alias holds that version; ModelLoadFailed is recorded
 * for the first failure of a streak and when the code changes, not per retry.
 * Deterministic failures (invalid artifacts, unknown version) wait for the
 * next alias change, like every failure does without `loadRetry`.
 *
 * Readiness: not ready until the log was read to its end, every alias the
 * log says this instance serves (and every version an active rollout pins)
 * has a loaded, warmed version routed, or its load has failed (ModelLoadFailed
 * recorded: it does not hold readiness; that alias answers 503
 * MODEL_LOAD_FAILED until a retry or a later alias move loads it),
 * and every readiness gate settled. Until then any model request answers
 * 503 NOT_READY with Retry-After, never 404. Once ready it stays ready (until
 * stop): a later alias move keeps the old version serving while the new one
 * loads, and a newly served alias answers 503 MODEL_LOADING meanwhile, so
 * replicas loading together never all leave the load balancer.
 */
export class ModelManager {
  private readonly served = new ServedModels();
  private readonly routes = new Map<string, ServedVersion>();
  private readonly loadedByVersion = new Map<string, ServedVersion>();
  /** `name@alias` → why it is not ready (load failed), while no version serves it. */
  private readonly failures = new Map<string, string>();
  /** Versions a rollout needs loaded (its stable and candidate), routed under `name@~v<version>`. */
  private pins: readonly { name: string; version: number }[] = [];
  /** `name:version` whose last load failed: failures in a row, when the next timed retry is due (Infinity: none), the code last recorded. */
  private readonly backoff = new Map<string, { failures: number; dueAt: number; recorded: string }>();
  private retryTimer?: NodeJS.Timeout;
  private subscription?: Subscription;
  private reconciling: Promise<void> = Promise.resolve();
  private caughtUp = false;
  /** The first reconcile after catching up finished. */
  private started = false;
  /** Readiness was reached once (it then holds until stop). */
  private latched = false;
  private gates = 0;
  /** Last global position the model subscription handled (read-model verification). */
  private position = 0;
  private stopped = false;
  private readonly load: LoadFn;

  constructor(
    private readonly store: EventStore,
    artifacts: ArtifactStore,
    private readonly config: Pick<ServingConfig, 'served' | 'batching' | 'maxQueueRows' | 'instance' | 'warmupRows' | 'backend'> & Partial<Pick<ServingConfig, 'loadRetry'>>,
    private readonly hooks: ModelManagerHooks = {},
    load?: LoadFn,
  ) {
    this.load = load ?? ((info, backend) => loadVersion(store, artifacts, info, backend));
  }

  async start(): Promise<void> {
    this.subscription = this.store.subscribe({ filter: { category: categories.model } }, (event) => this.onEvent(event));
    await this.subscription.caughtUp;
    this.caughtUp = true;
    await this.reconcile();
    this.started = true;
  }

  /** After start() failed (the log unreachable): drops the subscription and what it read, so start() can run again. */
  async abortStart(): Promise<void> {
    await this.subscription?.close().catch(() => undefined);
    this.subscription = undefined;
    this.caughtUp = false;
    this.served.clear();
    this.position = 0;
  }

  /** See the class comment: true once what the log says is served has loaded (or failed), and every gate settled. */
  isReady(): boolean {
    return this.readiness().ready;
  }

  readiness(): ReadinessReport {
    if (this.stopped) return { ready: false, waiting: ['shutdown'] };
    if (this.latched) return { ready: true, waiting: [] };
    const waiting: string[] = [];
    if (!this.caughtUp) waiting.push('model log');
    else {
      for (const [key, d] of this.desired()) {
        if (!this.routes.has(key) && !this.failures.has(key)) waiting.push(`${key.startsWith(`${d.name}@~`) ? `${d.name}:${d.version} (rollout)` : key} (version ${d.version})`);
      }
      if (!this.started && waiting.length === 0) waiting.push('first reconcile');
    }
    if (this.gates > 0) waiting.push('rollouts');
    if (waiting.length === 0) this.latched = true;
    return { ready: this.latched, waiting };
  }

  /** The alias table as a read model (`serving.models`), for verification against a rebuild. */
  liveReadModel(): LiveReadModel & { projection: { served: ServedModels } } {
    const fresh = new ServedModelsProjection(this.served);
    const position = () => this.position;
    return {
      store: this.store,
      get position() {
        return position();
      },
      projection: { name: fresh.name, version: fresh.version, filter: fresh.filter, served: this.served, snapshot: () => fresh.snapshot() },
    };
  }

  /** Readiness also waits for `gate` (the rollouts read from the log and their versions loaded). */
  addReadinessGate(gate: Promise<unknown>): void {
    this.gates++;
    void gate.catch(() => undefined).then(() => this.gates--);
  }

  /** Waits for the reconciles queued so far (tests, status). */
  settled(): Promise<void> {
    return this.reconciling;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.subscription?.close();
    await this.reconciling.catch(() => undefined);
    for (const s of [...this.loadedByVersion.values()]) {
      s.batcher.close();
      s.mirrorBatcher.close();
      this.routes.clear();
      await this.unload(s, 'shutdown');
    }
  }

  /** The loaded versions with their routes (for status and metadata). */
  list(): ServedVersion[] {
    return [...this.loadedByVersion.values()];
  }

  /**
   * The versions rollouts need loaded, besides what aliases hold. Each is
   * routed under a pin key `name@~v<version>` that no request can name
   * (aliases start with a letter), so it loads, warms up, and retires like
   * an alias route.
   */
  setPins(pins: readonly { name: string; version: number }[]): Promise<void> {
    this.pins = pins;
    return this.caughtUp && !this.stopped ? this.reconcile() : Promise.resolve();
  }

  /** Served aliases plus pinned versions of served models. */
  private desired(): Desired {
    const desired = this.served.desired(this.config.served);
    const served = this.config.served;
    for (const p of this.pins) {
      if (served !== '*' && !served.some((s) => s.name === p.name)) continue;
      const alias = pinAlias(p.version);
      desired.set(aliasKey(p.name, alias), { name: p.name, alias, version: p.version });
    }
    return desired;
  }

  /** The version `alias` of `name` holds in the log (whether served here or not). */
  aliasVersion(name: string, alias: string): number | undefined {
    return this.served.aliasVersion(name, alias);
  }

  isRegistered(name: string, version: number): boolean {
    return this.served.version(name, version) !== undefined;
  }

  /** A lease on `name:version` when it is loaded here and not retiring; undefined otherwise (never throws). */
  tryAcquire(name: string, version: number, arm: string): Lease | undefined {
    const served = this.loadedByVersion.get(`${name}:${version}`);
    if (!served || served.retiring) return undefined;
    served.inflight++;
    served.loaded.requests++;
    return { served, arm };
  }

  /** Every served alias and what answers it. */
  routesView(): { name: string; alias: string; version: number | null; error?: string }[] {
    const desired = this.desired();
    return [...desired.values()].map((d) => {
      const s = this.routes.get(aliasKey(d.name, d.alias));
      const error = this.failures.get(aliasKey(d.name, d.alias));
      return { name: d.name, alias: d.alias, version: s ? s.loaded.version : null, ...(error ? { error } : {}) };
    });
  }

  /**
   * The version a request goes to: `name@alias`, `name:version`, or `name`
   * (its `production` alias, else its only served alias); `version` (from a
   * `/versions/{v}` path) must then match. Takes a lease: call release().
   */
  acquire(ref: ModelRef, version?: number): Lease {
    const { served, arm } = this.resolve(ref, version);
    served.inflight++;
    served.loaded.requests++;
    return { served, arm };
  }

  release(lease: Lease): void {
    const s = lease.served;
    s.inflight--;
    if (s.inflight === 0 && s.retiring) void this.unload(s, s.retiring);
  }

  /** Like acquire, without a lease (metadata, readiness). */
  resolve(ref: ModelRef, version?: number): { served: ServedVersion; arm: string } {
    const wanted = version ?? ref.version;
    if (ref.alias !== undefined) {
      const s = this.routes.get(aliasKey(ref.name, ref.alias));
      if (!s) throw this.notServed(ref.name, `${ref.name}@${ref.alias}`);
      if (wanted !== undefined && s.loaded.version !== wanted) {
        throw new NotFoundError(`${ref.name}@${ref.alias} is version ${s.loaded.version}, not ${wanted}`, { code: 'MODEL_NOT_FOUND' });
      }
      return { served: s, arm: ref.alias };
    }
    if (wanted !== undefined) {
      const s = this.loadedByVersion.get(`${ref.name}:${wanted}`);
      if (!s || s.retiring) throw this.notServed(ref.name, `${ref.name}:${wanted}`);
      return { served: s, arm: 'version' };
    }
    const production = this.routes.get(aliasKey(ref.name, 'production'));
    if (production) return { served: production, arm: 'production' };
    const routed = [...this.routes.entries()].filter(([key]) => key.startsWith(`${ref.name}@`) && !key.startsWith(`${ref.name}@~`));
    if (routed.length === 1) return { served: routed[0][1], arm: routed[0][0].slice(ref.name.length + 1) };
    if (routed.length > 1) {
      throw new NotFoundError(`model '${ref.name}' is served under ${routed.map(([k]) => k).join(', ')}; name one (model@alias or model:version)`, { code: 'MODEL_AMBIGUOUS' });
    }
    throw this.notServed(ref.name, ref.name);
  }

  private notServed(name: string, what: string): DomainError {
    if (!this.isReady()) {
      return new ModelNotReadyError(`serving is starting: ${what} is not loaded yet (the model log is read and the served versions load before it answers)`, 'NOT_READY');
    }
    const failure = [...this.failures.entries()].find(([key]) => key === what || key.startsWith(`${name}@`));
    if (failure && (failure[0] === what || what === name)) {
      return new ModelNotReadyError(`${what} is not ready: ${failure[1]}`, 'MODEL_LOAD_FAILED', 5);
    }
    // Served by the log, not answering yet: a version ref matches pins too, an alias or name only real aliases.
    const loading = [...this.desired().entries()].find(([key, d]) => `${d.name}:${d.version}` === what || (!key.startsWith(`${d.name}@~`) && (key === what || what === d.name)));
    if (loading) return new ModelNotReadyError(`${what} is loading (version ${loading[1].version}); retry shortly`, 'MODEL_LOADING');
    const available = [...this.routes.keys()].filter((k) => k.startsWith(`${name}@`) && !k.startsWith(`${name}@~`));
    return new NotFoundError(`model ${what} is not served here${available.length ? ` (served: ${available.join(', ')})` : ''}`, { code: 'MODEL_NOT_FOUND' });
  }

  private async onEvent(event: RecordedEvent): Promise<void> {
    this.position = Math.max(this.position, event.position);
    if (!ServedModels.handled.has(event.type)) return;
    const changed = this.served.apply(event);
    if (changed && this.caughtUp && !this.stopped) {
      // Queued, not awaited: the subscription keeps delivering while a version loads.
      void this.reconcile();
    }
  }

  /** Serialised: one reconcile at a time, each on the newest desired state. `dueOnly`: failed loads only once their retry is due (the retry timer). */
  reconcile(dueOnly = false): Promise<void> {
    const next = this.reconciling.then(() => this.reconcileOnce(dueOnly)).finally(() => this.scheduleRetry());
    this.reconciling = next.catch(() => undefined);
    return this.reconciling;
  }

  /** One timer, for the earliest retry due. */
  private scheduleRetry(): void {
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (this.stopped) return;
    const dueAt = Math.min(...[...this.backoff.values()].map((b) => b.dueAt));
    if (!Number.isFinite(dueAt)) return;
    this.retryTimer = setTimeout(() => void this.reconcile(true), Math.max(0, dueAt - Date.now()));
    this.retryTimer.unref();
  }

  private async reconcileOnce(dueOnly: boolean): Promise<void> {
    if (this.stopped) return;
    const desired: Desired = this.desired();
    // Load what is missing, one version at a time (each swap happens as soon as its version is warm).
    const byVersion = new Map<string, { name: string; version: number; aliases: string[] }>();
    for (const d of desired.values()) {
      const key = `${d.name}:${d.version}`;
      const entry = byVersion.get(key) ?? { name: d.name, version: d.version, aliases: [] };
      entry.aliases.push(d.alias);
      byVersion.set(key, entry);
    }
    for (const key of [...this.backoff.keys()]) if (!byVersion.has(key)) this.backoff.delete(key);
    for (const [key, want] of byVersion) {
      let s = this.loadedByVersion.get(key);
      if (!s || s.retiring) {
        if (dueOnly && (this.backoff.get(key)?.dueAt ?? Infinity) > Date.now()) continue;
        const loaded = await this.loadOne(want.name, want.version, want.aliases);
        if (!loaded) continue;
        s = loaded;
      }
      for (const alias of want.aliases) this.swap(aliasKey(want.name, alias), s);
    }
    // Aliases no longer served (removed, or no longer in the list) lose their route.
    for (const key of [...this.routes.keys()]) if (!desired.has(key)) this.dropRoute(key, 'alias-removed');
    for (const key of [...this.failures.keys()]) if (!desired.has(key)) this.failures.delete(key);
  }

  /** Points `key` at `s` in one assignment; the version it pointed at retires when no alias routes to it. */
  private swap(key: string, s: ServedVersion): void {
    const old = this.routes.get(key);
    if (old === s) return;
    this.routes.set(key, s);
    s.aliases.add(key.slice(key.indexOf('@') + 1));
    this.failures.delete(key);
    if (old) {
      old.aliases.delete(key.slice(key.indexOf('@') + 1));
      if (old.aliases.size === 0) this.retire(old, 'replaced');
    }
  }

  private dropRoute(key: string, reason: string): void {
    const old = this.routes.get(key);
    this.routes.delete(key);
    if (!old) return;
    old.aliases.delete(key.slice(key.indexOf('@') + 1));
    if (old.aliases.size === 0) this.retire(old, reason);
  }

  private retire(s: ServedVersion, reason: string): void {
    s.retiring = reason;
    s.batcher.close();
    s.mirrorBatcher.close();
    if (s.inflight === 0) void this.unload(s, reason);
  }

  private async loadOne(name: string, version: number, aliases: string[]): Promise<ServedVersion | undefined> {
    const info = this.served.version(name, version);
    const started = performance.now();
    try {
      if (!info) throw new NotFoundError(`version ${version} of '${name}' was never registered`, { code: 'VERSION_NOT_FOUND' });
      const loaded = await this.load(info, this.config.backend);
      const loadMs = performance.now() - started;
      const warmStarted = performance.now();
      try {
        warmUp(loaded, this.config.warmupRows);
      } catch (err) {
        loaded.dispose();
        throw err;
      }
      const warmupMs = performance.now() - warmStarted;
      const batching = this.config.batching(name);
      const s: ServedVersion = {
        loaded,
        aliases: new Set(),
        inflight: 0,
        batcher: new Batcher<Frame>({ outputSize: loaded.outputSize, predict: (frames, rows) => loaded.predictFrames(frames, rows) }, {
          ...batching,
          maxQueueRows: this.config.maxQueueRows,
          onBatch: (rows, requests) => this.hooks.onBatch?.(s, rows, requests),
        }),
        mirrorBatcher: new Batcher<Frame>(
          { outputSize: loaded.outputSize, predict: (frames, rows) => loaded.predictFrames(frames, rows) },
          { maxBatchSize: batching.maxBatchSize, minBatchRows: batching.maxBatchSize, maxLatencyMs: MIRROR_BATCH_MS, maxQueueRows: this.config.maxQueueRows },
        ),
      };
      this.loadedByVersion.set(`${name}:${version}`, s);
      this.backoff.delete(`${name}:${version}`);
      await this.record(name, {
        type: 'ModelLoaded',
        data: {
          name,
          version,
          aliases,
          instance: this.config.instance,
          backend: loaded.backend,
          weightsSha256: info.weightsSha256,
          loadMs: round(loadMs),
          warmupMs: round(warmupMs),
          weightsBytes: loaded.weightsBytes,
        },
      });
      this.hooks.onLoaded?.(s);
      return s;
    } catch (err) {
      const code = err instanceof DomainError ? err.code : 'LOAD_FAILED';
      const reason = `${err instanceof Error ? err.message : String(err)}`.slice(0, 4000);
      const kept = aliases.map((a) => this.routes.get(aliasKey(name, a))?.loaded.version).find((v) => v !== undefined) ?? null;
      const key = `${name}:${version}`;
      const streak = this.backoff.get(key);
      const failures = (streak?.failures ?? 0) + 1;
      const retryMs = this.retryDelay(err, failures);
      const entry = { failures, dueAt: retryMs === undefined ? Infinity : Date.now() + retryMs, recorded: streak?.recorded ?? '' };
      this.backoff.set(key, entry);
      const retrying = retryMs === undefined ? '' : `; retrying in ${Math.ceil(retryMs / 1000)} s (failure ${failures})`;
      for (const a of aliases) if (!this.routes.has(aliasKey(name, a))) this.failures.set(aliasKey(name, a), `loading version ${version} failed (${code}): ${reason}${retrying}`);
      if (entry.recorded !== code) {
        // Not recorded (the log unreachable too): the next failure tries again.
        await this.record(name, { type: 'ModelLoadFailed', data: { name, version, aliases, instance: this.config.instance, code, reason, keptVersion: kept } }).then(
          () => (entry.recorded = code),
          () => undefined,
        );
      }
      return undefined;
    }
  }

  /** Delay before the next timed retry after `failures` failures in a row, or undefined when `err` is not worth a timed retry. */
  private retryDelay(err: unknown, failures: number): number | undefined {
    const retry = this.config.loadRetry;
    if (!retry || (err instanceof DomainError && !(err instanceof InfrastructureError))) return undefined;
    return Math.min(retry.maxMs, retry.initialMs * 2 ** Math.min(failures - 1, 30));
  }

  private async unload(s: ServedVersion, reason: string): Promise<void> {
    const key = `${s.loaded.name}:${s.loaded.version}`;
    if (this.loadedByVersion.get(key) !== s) return;
    this.loadedByVersion.delete(key);
    s.loaded.dispose();
    this.hooks.onUnloaded?.(s.loaded.name, s.loaded.version);
    await this.record(s.loaded.name, {
      type: 'ModelUnloaded',
      data: { name: s.loaded.name, version: s.loaded.version, instance: this.config.instance, reason, requests: s.loaded.requests },
    }).catch(() => undefined);
  }

  private async record(name: string, event: DomainEventInput<'ModelLoaded' | 'ModelUnloaded' | 'ModelLoadFailed'>): Promise<void> {
    const meta = { now: new Date().toISOString(), correlationId: randomUUID(), causationId: null, actor: `serving:${this.config.instance}` };
    await this.store.appendToStream(streams.serving(name), [toNewEvent(event, meta, { codeVersion: codeVersion() })]);
  }
}

const pinAlias = (version: number) => `~v${version}`;
/** Longest a mirrored (shadow) row waits for a full batch. */
const MIRROR_BATCH_MS = 250;

/** A few predictions on zeros, so the first request does not pay for kernel compilation and first allocations. */
function warmUp(loaded: LoadedVersion, rows: number): void {
  if (rows <= 0) return;
  for (const n of [1, rows]) loaded.predictor.predict(new Float32Array(n * loaded.nFeatures), n);
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
