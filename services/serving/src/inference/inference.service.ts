import { createHash } from 'node:crypto';
import { subjects, ValidationError, type ModelRef, type OnlineFeaturesResponse } from '@mlp/contracts';
import type { MlpClient } from '@mlp/messaging';
import type { Cell, Frame } from '@mlp/ml';
import type { LoadedVersion, RowOutputs } from '../models/loaded-version';
import type { Lease, ModelManager } from '../models/model-manager';
import { CounterSeries, HistogramSeries } from '../metrics/fast-series';
import type { ServingMetrics } from '../metrics/serving-metrics';
import type { PredictionEntry } from '../telemetry/prediction-entry';
import type { TelemetryPublisher } from '../telemetry/telemetry-publisher';
import { invalidInput } from './input-schema';
import { newRequestId } from './request-id';
import { OverloadedError, ServingError } from './serving-errors';
import { frameFromTensors, type DecodedTensor } from './v2-codec';

export type Protocol = 'rest-v1' | 'rest-v2' | 'grpc';

export interface InferenceContext {
  protocol: Protocol;
  /** Client-chosen id (x-request-id, V2 `id`) or a new time-ordered UUID (v7). */
  requestId?: string;
  /** Id of the API key that called, when auth is on: only a hash of it is published. */
  keyId?: string;
  timeoutMs?: number;
  /** Request headers (HTTP) or metadata (gRPC): a sticky rollout may key on one. */
  headers?: Readonly<Record<string, unknown>>;
  /** Telemetry arm instead of the lease's (a mirrored request is `shadow`). */
  arm?: string;
  /** A shadow copy: its rows go to the version's mirror batcher (full batches; nobody waits on them). */
  mirror?: boolean;
}

/** The request key a sticky rollout hashes: a header, or an input field of the first row. */
export interface RoutingKey {
  header(name: string): string | undefined;
  field(name: string): string | undefined;
}

/** A lease chosen by a rollout; `done` reports the outcome, `mirrorVersion` asks for a shadow copy. */
export interface RoutedLease extends Lease {
  mirrorVersion?: number;
  done(code: string, latencyMs: number): void;
}

/** Splits a model's traffic between a rollout's arms (src/deployments); undefined leaves the request to the alias. */
export interface RequestRouter {
  acquire(ref: ModelRef, key: RoutingKey): RoutedLease | undefined;
  mirrored?(model: string, version: number, code: string): void;
}

export interface InferenceResult {
  loaded: LoadedVersion;
  arm: string;
  requestId: string;
  n: number;
  outputs: RowOutputs;
}

const MAX_ROWS = 10_000;

/** A request's validated input columns. */
interface Framed {
  frame: Frame;
  n: number;
}

/** Builds the frame for the version serving the request: synchronously, or later when features are looked up. */
type FrameSource = (loaded: LoadedVersion) => Framed | Promise<Framed>;

type Labels = { model: string; version: string; protocol: Protocol };
/** A version's labels per protocol, and its series answered requests update (`ok`: code OK). */
type VersionLabels = { base: Labels; ok?: CounterSeries; latency?: HistogramSeries };
/** A value now (an unbatched prediction, or one that filled a batch) or later. */
export type Awaitable<T> = T | Promise<T>;

/**
 * One inference, whatever the protocol: resolve the model (a lease, so a swap
 * never pulls the version from under the request), complete rows that carry
 * entity keys from the feature store (one batched call), validate against
 * the signature, preprocess with the saved pipeline, queue the rows for the
 * version's batcher, decode, and publish telemetry off the hot path.
 */
export class InferenceService {
  /** Set by the deployments module. */
  router?: RequestRouter;
  /** Mirrored (shadow) requests in flight. */
  private mirroring = 0;
  private readonly labels = new WeakMap<LoadedVersion, Map<Protocol, VersionLabels>>();
  private readonly keyHashes = new Map<string, string>();

  constructor(
    private readonly models: ModelManager,
    private readonly client: MlpClient | undefined,
    private readonly telemetry: TelemetryPublisher,
    private readonly metrics: ServingMetrics | undefined,
    private readonly settings: { timeoutMs: number; instance: string },
  ) {}

  /** `instances`: named features (or entity keys) per row. */
  predictInstances(ref: ModelRef, version: number | undefined, instances: unknown, ctx: InferenceContext): Promise<InferenceResult> {
    return settled(() => this.predictInstancesNow(ref, version, instances, ctx));
  }

  /** V2 tensors (one per feature, or one [N, F]). */
  predictTensors(ref: ModelRef, version: number | undefined, tensors: readonly DecodedTensor[], ctx: InferenceContext): Promise<InferenceResult> {
    return settled(() => this.predictTensorsNow(ref, version, tensors, ctx));
  }

  /** `predictInstances` for the hot path: the result itself when it is ready at once (unbatched), and errors thrown or rejected. */
  predictInstancesNow(ref: ModelRef, version: number | undefined, instances: unknown, ctx: InferenceContext): Awaitable<InferenceResult> {
    if (!Array.isArray(instances) || instances.length === 0) {
      throw invalidInput([{ path: 'instances', message: 'an array of at least one instance (an object of named features) is needed' }]);
    }
    if (instances.length > MAX_ROWS) throw invalidInput([{ path: 'instances', message: `at most ${MAX_ROWS} instances per request, received ${instances.length}` }]);
    const first = instances[0] as Record<string, unknown> | null;
    const key = this.router ? new InstancesKey(ctx.headers, first !== null && typeof first === 'object' ? first : undefined) : noKey;
    return this.run(ref, version, ctx, key, (loaded) => {
      if (loaded.onlineInputs.length === 0) return { frame: loaded.inputSchema.frameFromRows(instances as Record<string, unknown>[], 'instances'), n: instances.length };
      return this.withOnlineFeatures(loaded, instances as Record<string, unknown>[]).then((rows) => ({ frame: loaded.inputSchema.frameFromRows(rows, 'instances', () => true), n: rows.length }));
    });
  }

  /** `predictTensors` for the hot path, as {@link predictInstancesNow}. */
  predictTensorsNow(ref: ModelRef, version: number | undefined, tensors: readonly DecodedTensor[], ctx: InferenceContext): Awaitable<InferenceResult> {
    const key = this.router ? new TensorsKey(ctx.headers, tensors) : noKey;
    return this.run(ref, version, ctx, key, (loaded) => {
      const { frame, n } = frameFromTensors(loaded.inputSchema, tensors);
      if (n > MAX_ROWS) throw invalidInput([{ path: 'inputs', message: `at most ${MAX_ROWS} rows per request, received ${n}` }]);
      return { frame, n };
    });
  }

  /**
   * No promise unless the request waits: a frame built synchronously goes
   * straight to the batcher, and an unbatched request (or one that fills a
   * batch) is answered before `run` returns. Errors are thrown, or rejected
   * once the request has waited.
   */
  private run(ref: ModelRef, version: number | undefined, ctx: InferenceContext, key: RoutingKey, toFrame: FrameSource): Awaitable<InferenceResult> {
    const started = performance.now();
    const requestId = ctx.requestId ?? newRequestId();
    let lease: Lease;
    let routed: RoutedLease | undefined;
    try {
      routed = this.router && version === undefined && ref.version === undefined ? this.router.acquire(ref, key) : undefined;
      lease = routed ?? this.models.acquire(ref, version);
    } catch (err) {
      this.metrics?.requests.inc({ model: ref.name, version: '', protocol: ctx.protocol, code: codeOf(err) });
      throw err;
    }
    const loaded = lease.served.loaded;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.models.release(lease);
    };
    const fail = (err: unknown): never => {
      release();
      routed?.done(codeOf(err), performance.now() - started);
      const labels = this.labelsOf(loaded, ctx.protocol).base;
      this.metrics?.requests.inc({ ...labels, code: codeOf(err) });
      if (err instanceof OverloadedError) this.metrics?.shed.inc({ model: labels.model, version: labels.version });
      throw err;
    };
    const answer = (frame: Frame, n: number, raw: Float32Array): InferenceResult => {
      try {
        const outputs = loaded.decode(raw, n);
        const latencyMs = performance.now() - started;
        const labels = this.labelsOf(loaded, ctx.protocol);
        labels.ok?.inc();
        labels.latency?.observe(latencyMs / 1000);
        this.publish(loaded, ctx.arm ?? lease.arm, requestId, frame, n, outputs, latencyMs, ctx.keyId);
        release();
        if (routed) {
          routed.done('OK', latencyMs);
          if (routed.mirrorVersion !== undefined) this.mirror(ref.name, routed.mirrorVersion, { ...ctx, requestId }, toFrame);
        }
        return { loaded, arm: lease.arm, requestId, n, outputs };
      } catch (err) {
        return fail(err);
      }
    };
    const submit = ({ frame, n }: Framed): Awaitable<InferenceResult> => {
      if (n === 0) return fail(invalidInput([{ path: 'inputs', message: 'no rows' }]));
      const batcher = ctx.mirror ? lease.served.mirrorBatcher : lease.served.batcher;
      let now: Float32Array | undefined;
      try {
        now = batcher.runNow(frame, n);
      } catch (err) {
        return fail(err);
      }
      if (now) return answer(frame, n, now);
      return batcher.submit(frame, n, ctx.timeoutMs ?? this.settings.timeoutMs).then((raw) => answer(frame, n, raw), fail);
    };
    let framed: Framed | Promise<Framed>;
    try {
      framed = toFrame(loaded);
    } catch (err) {
      return fail(err);
    }
    return framed instanceof Promise ? framed.then(submit, fail) : submit(framed);
  }

  /** Metric labels of a version and protocol, built once (`ok` with code OK). */
  private labelsOf(loaded: LoadedVersion, protocol: Protocol): VersionLabels {
    let byProtocol = this.labels.get(loaded);
    if (!byProtocol) this.labels.set(loaded, (byProtocol = new Map()));
    let labels = byProtocol.get(protocol);
    if (!labels) {
      const base = { model: loaded.name, version: String(loaded.version), protocol };
      labels = { base };
      if (this.metrics) {
        labels.ok = new CounterSeries(this.metrics.requests, { ...base, code: 'OK' });
        labels.latency = new HistogramSeries(this.metrics.latency, base);
      }
      byProtocol.set(protocol, labels);
    }
    return labels;
  }

  /**
   * Shadow: the same rows through the challenger, after the primary answer
   * is on its way (setImmediate); its outputs go to telemetry as arm
   * `shadow` under the same request id, its errors only to a counter. At
   * most MAX_MIRRORING run at once: past that a mirror is skipped (counted
   * as SKIPPED), so a slow challenger never builds a backlog on the
   * primary's event loop.
   */
  private mirror(name: string, version: number, ctx: InferenceContext, toFrame: FrameSource): void {
    if (this.mirroring >= MAX_MIRRORING) {
      this.router?.mirrored?.(name, version, 'SKIPPED');
      return;
    }
    this.mirroring++;
    setImmediate(() => {
      settled(() => this.run({ name, version }, undefined, { ...ctx, arm: 'shadow', mirror: true }, noKey, toFrame))
        .then(
          () => this.router?.mirrored?.(name, version, 'OK'),
          (err: unknown) => this.router?.mirrored?.(name, version, codeOf(err)),
        )
        .finally(() => this.mirroring--);
    });
  }

  /**
   * Rows with entity keys instead of the model's feature-store inputs get
   * them from the feature store: one `getOnlineFeatures` call per request
   * for every such row. Values sent in the row win over fetched ones.
   */
  private async withOnlineFeatures(loaded: LoadedVersion, rows: Record<string, unknown>[]): Promise<Record<string, unknown>[]> {
    const needing: number[] = [];
    let keys: string[] | undefined;
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r];
      if (row === null || typeof row !== 'object' || Array.isArray(row)) continue;
      if (!loaded.onlineInputs.some((o) => row[o.input] === undefined)) continue;
      const entity = Object.keys(row).filter((k) => !loaded.inputSchema.has(k)).sort();
      if (entity.length === 0) continue; // validation reports the missing features
      if (keys && keys.join(',') !== entity.join(',')) {
        throw invalidInput([{ path: `instances[${r}]`, message: `every instance looked up in the feature store needs the same entity keys (${keys.join(', ')}); received ${entity.join(', ')}` }]);
      }
      keys = entity;
      needing.push(r);
    }
    if (!keys || needing.length === 0) return rows;
    if (!this.client) throw new OverloadedError('online features are unavailable: no transport to the feature store');
    const entities: Record<string, (string | number)[]> = {};
    for (const k of keys) {
      entities[k] = needing.map((r) => {
        const v = rows[r][k];
        if (typeof v !== 'string' && typeof v !== 'number') throw invalidInput([{ path: `instances[${r}].${k}`, message: `entity key '${k}' must be a string or a number` }]);
        return v;
      });
    }
    const refs = [...new Set(loaded.onlineInputs.map((o) => o.ref))];
    const response = await this.client.send<OnlineFeaturesResponse>(subjects.qry.featureStore.getOnlineFeatures, { features: refs, entities });
    const out = rows.slice();
    needing.forEach((r, i) => {
      const fetched = response.results[i]?.features ?? {};
      const row: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(rows[r])) if (!keys!.includes(k)) row[k] = v;
      for (const o of loaded.onlineInputs) {
        if (row[o.input] !== undefined) continue;
        const f = fetched[o.ref];
        row[o.input] = f && f.status === 'present' ? (f.value as Cell) : null;
      }
      out[r] = row;
    });
    return out;
  }

  private publish(loaded: LoadedVersion, arm: string, requestId: string, frame: Frame, n: number, outputs: RowOutputs, latencyMs: number, keyId?: string): void {
    // An unsampled request leaves no trace (feedback about it must name its model).
    if (!this.telemetry.sampled()) return;
    const entry: PredictionEntry = {
      requestId,
      model: loaded.name,
      version: loaded.version,
      arm,
      instance: this.settings.instance,
      features: frame,
      n,
      predictions: outputs.predictions,
      latencyMs,
      at: Date.now(),
    };
    if (outputs.probabilities) entry.probabilities = outputs.probabilities;
    if (keyId) entry.keyHash = this.keyHash(keyId);
    this.telemetry.publishPrediction(entry);
  }

  /** sha256 prefix of an API key id (remembered: a key calls many times). */
  private keyHash(keyId: string): string {
    let hash = this.keyHashes.get(keyId);
    if (hash === undefined) {
      hash = createHash('sha256').update(keyId).digest('hex').slice(0, 16);
      if (this.keyHashes.size >= 1000) this.keyHashes.clear();
      this.keyHashes.set(keyId, hash);
    }
    return hash;
  }
}

const scalar = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined);
/** Mirrored requests in flight at most (per instance). */
const MAX_MIRRORING = 256;
const noKey: RoutingKey = { header: () => undefined, field: () => undefined };

/** `f`'s result or error as a promise. */
function settled<T>(f: () => Awaitable<T>): Promise<T> {
  try {
    const v = f();
    return v instanceof Promise ? v : Promise.resolve(v);
  } catch (err) {
    return Promise.reject(err);
  }
}

/** The routing key of named instances (read only when a sticky rollout asks): one object, no closures per request. */
class InstancesKey implements RoutingKey {
  constructor(
    private readonly headers: Readonly<Record<string, unknown>> | undefined,
    private readonly first: Record<string, unknown> | undefined,
  ) {}
  header(name: string): string | undefined {
    return scalar(this.headers?.[name]);
  }
  field(name: string): string | undefined {
    return scalar(this.first?.[name]);
  }
}

/** The routing key of V2 tensors: a field is the first value of the tensor of that name. */
class TensorsKey implements RoutingKey {
  constructor(
    private readonly headers: Readonly<Record<string, unknown>> | undefined,
    private readonly tensors: readonly DecodedTensor[],
  ) {}
  header(name: string): string | undefined {
    return scalar(this.headers?.[name]);
  }
  field(name: string): string | undefined {
    return scalar(this.tensors.find((t) => t.name === name)?.data[0]);
  }
}

function codeOf(err: unknown): string {
  if (err instanceof ServingError) return err.code;
  if (err instanceof ValidationError) return 'INVALID_ARGUMENT';
  return (err as { code?: unknown })?.code && typeof (err as { code: unknown }).code === 'string' ? (err as { code: string }).code : 'INTERNAL';
}
