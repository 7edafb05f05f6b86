import { hostname } from 'node:os';
import { z } from 'zod';
import { ValidationError } from '@mlp/contracts';
import { natsAuth, type NatsAuth, type NatsAuthVar } from '@mlp/messaging';
import { loadConfig, type BaseConfig } from '@mlp/service-kit';

/** Batching of one model: requests coalesce up to `maxBatchSize` rows or `maxLatencyMs` of waiting. */
export interface BatchingOptions {
  maxBatchSize: number;
  maxLatencyMs: number;
}

const nonNegativeInt = z.coerce.number().int().min(0);

export const DEFAULT_GRPC_PORT_OFFSET = 10;

const batchingOverride = z
  .object({ maxBatchSize: z.number().int().min(1).max(100_000).optional(), maxLatencyMs: z.number().min(0).max(10_000).optional() })
  .strict();

/** `churn@production,fraud@staging`; `*` (the default) serves every alias of every model. */
const servedList = z
  .string()
  .transform((text, ctx) => {
    if (text.trim() === '*') return '*' as const;
    const out: { name: string; alias: string }[] = [];
    for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
      const m = /^([A-Za-z0-9][A-Za-z0-9_-]*)@([A-Za-z][A-Za-z0-9_-]*|\*)$/.exec(part);
      if (!m) {
        ctx.addIssue({ code: 'custom', message: `'${part}' is not model@alias (or model@*)` });
        return z.NEVER;
      }
      out.push({ name: m[1], alias: m[2] });
    }
    return out;
  });

const modelOptions = z.string().transform((text, ctx) => {
  const expected = 'a JSON object {"<model>": {"maxBatchSize": n, "maxLatencyMs": n}}';
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `${expected}: ${(err as Error).message}` });
    return z.NEVER;
  }
  const parsed = z.record(z.string(), batchingOverride).safeParse(json);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: `${expected}: ${issue.path.join('.') || '(root)'}: ${issue.message}` });
  return z.NEVER;
});

const schema = z.object({
  /** Which aliases this instance serves: `model@alias,…`, `model@*`, or `*` for every alias of every model. */
  MLP_SERVING_MODELS: servedList.default('*'),
  /** gRPC (inference.GRPCInferenceService) port; 0 picks a free one; -1 turns gRPC off. Default: the HTTP port + 10 (7115). */
  MLP_SERVING_GRPC_PORT: z.coerce.number().int().min(-1).max(65_535).optional(),
  /** Force a tfjs backend for every model instead of the one it was trained on. */
  MLP_SERVING_BACKEND: z.enum(['wasm', 'cpu', 'tensorflow']).optional(),
  MLP_SERVING_MAX_BATCH_SIZE: z.coerce.number().int().min(1).max(100_000).default(64),
  /** Longest a request waits for others to join its batch (adaptive: only under concurrency). */
  MLP_SERVING_MAX_LATENCY_MS: z.coerce.number().min(0).max(10_000).default(2),
  /** Per-model overrides of the two above, as JSON. */
  MLP_SERVING_MODEL_OPTIONS: modelOptions.optional(),
  /** Rows waiting per model version before new requests are shed (503 + Retry-After). */
  MLP_SERVING_MAX_QUEUE: z.coerce.number().int().min(1).default(2048),
  /** Per-request deadline, independent of the batching window (504 past it). */
  MLP_SERVING_TIMEOUT_MS: z.coerce.number().int().min(1).default(10_000),
  /** Requests per second per API key (token bucket refill); 0 turns rate limiting off. */
  MLP_SERVING_RATE_LIMIT: z.coerce.number().min(0).default(0),
  /** Bucket size (burst) per key; defaults to one second of the rate. */
  MLP_SERVING_RATE_BURST: nonNegativeInt.optional(),
  /** Fraction of predictions published as telemetry (0..1). */
  MLP_SERVING_TELEMETRY_SAMPLE: z.coerce.number().min(0).max(1).default(1),
  /** Where telemetry goes: `sqlite` (embedded default), `jetstream` (default with NATS), `off`. */
  MLP_SERVING_TELEMETRY: z.enum(['sqlite', 'jetstream', 'off']).optional(),
  /** Names this instance in ModelLoaded/ModelUnloaded events and telemetry. */
  MLP_SERVING_INSTANCE: z.string().regex(/^[A-Za-z0-9_.:@-]+$/).optional(),
  /** `on`: the two inference routes are answered by a lean node:http handler ahead of Express/Nest (same auth, limits, errors); `off`: by the Nest controllers. */
  MLP_SERVING_FAST_PATH: z.enum(['on', 'off']).default('on'),
  /** Rows of the warm-up predictions run before a version is swapped in. */
  MLP_SERVING_WARMUP_ROWS: z.coerce.number().int().min(0).max(10_000).default(8),
  /** Delay before a load that failed for an infrastructure reason (artifact store unreachable) is tried again; doubles per failure. 0 turns timed retries off. */
  MLP_SERVING_LOAD_RETRY_MS: z.coerce.number().int().min(0).max(3_600_000).default(1000),
  /** Longest delay between two retries of a failed load. */
  MLP_SERVING_LOAD_RETRY_MAX_MS: z.coerce.number().int().min(1).max(3_600_000).default(60_000),
});

export type ServingEnv = z.output<typeof schema>;

export interface ServingConfig {
  served: '*' | { name: string; alias: string }[];
  grpcPort: number | null;
  /** Whether MLP_SERVING_GRPC_PORT was set: a busy default port only costs gRPC (with a warning), a busy chosen one stops the start. */
  grpcPortExplicit: boolean;
  backend?: 'wasm' | 'cpu' | 'tensorflow';
  batching: (model: string) => BatchingOptions;
  maxQueueRows: number;
  timeoutMs: number;
  rateLimit: { perSecond: number; burst: number } | null;
  telemetry: { sink: 'sqlite' | 'jetstream' | 'off'; sample: number };
  instance: string;
  warmupRows: number;
  /** Timed retries of failed loads (exponential backoff from initialMs, capped at maxMs); null: retried only when an alias changes. */
  loadRetry: { initialMs: number; maxMs: number } | null;
  fastPath: boolean;
  home: string;
  natsUrl: string;
  /** Credentials of serving's own NATS connections (telemetry), from MLP_NATS_*. */
  natsAuth: NatsAuth;
}

export const SERVING_CONFIG = Symbol('SERVING_CONFIG');

export function loadServingConfig(env: NodeJS.ProcessEnv, base: Pick<BaseConfig, 'MLP_TRANSPORT' | 'NATS_URL' | 'MLP_HOME' | 'MLP_SERVING_PORT'> & Partial<Pick<BaseConfig, NatsAuthVar>>): ServingConfig {
  const c = loadConfig(schema, env);
  const overrides = c.MLP_SERVING_MODEL_OPTIONS ?? {};
  const defaults: BatchingOptions = { maxBatchSize: c.MLP_SERVING_MAX_BATCH_SIZE, maxLatencyMs: c.MLP_SERVING_MAX_LATENCY_MS };
  if (c.MLP_SERVING_TELEMETRY === 'jetstream' && base.MLP_TRANSPORT !== 'nats') {
    const message = 'MLP_SERVING_TELEMETRY=jetstream needs MLP_TRANSPORT=nats';
    throw new ValidationError(`invalid configuration:\n  ${message}`, [{ path: 'MLP_SERVING_TELEMETRY', message }], { code: 'INVALID_CONFIG' });
  }
  if (c.MLP_SERVING_LOAD_RETRY_MS > c.MLP_SERVING_LOAD_RETRY_MAX_MS) {
    const message = `MLP_SERVING_LOAD_RETRY_MS (${c.MLP_SERVING_LOAD_RETRY_MS}) exceeds MLP_SERVING_LOAD_RETRY_MAX_MS (${c.MLP_SERVING_LOAD_RETRY_MAX_MS})`;
    throw new ValidationError(`invalid configuration:\n  ${message}`, [{ path: 'MLP_SERVING_LOAD_RETRY_MS', message }], { code: 'INVALID_CONFIG' });
  }
  return {
    served: c.MLP_SERVING_MODELS,
    grpcPort: c.MLP_SERVING_GRPC_PORT === undefined ? base.MLP_SERVING_PORT + DEFAULT_GRPC_PORT_OFFSET : c.MLP_SERVING_GRPC_PORT < 0 ? null : c.MLP_SERVING_GRPC_PORT,
    grpcPortExplicit: c.MLP_SERVING_GRPC_PORT !== undefined,
    backend: c.MLP_SERVING_BACKEND,
    batching: (model) => ({ ...defaults, ...overrides[model] }),
    maxQueueRows: c.MLP_SERVING_MAX_QUEUE,
    timeoutMs: c.MLP_SERVING_TIMEOUT_MS,
    rateLimit: c.MLP_SERVING_RATE_LIMIT > 0 ? { perSecond: c.MLP_SERVING_RATE_LIMIT, burst: c.MLP_SERVING_RATE_BURST || Math.max(1, Math.ceil(c.MLP_SERVING_RATE_LIMIT)) } : null,
    telemetry: { sink: c.MLP_SERVING_TELEMETRY ?? (base.MLP_TRANSPORT === 'nats' ? 'jetstream' : 'sqlite'), sample: c.MLP_SERVING_TELEMETRY_SAMPLE },
    instance: c.MLP_SERVING_INSTANCE ?? `serving@${hostname()}:${base.MLP_SERVING_PORT}`,
    warmupRows: c.MLP_SERVING_WARMUP_ROWS,
    loadRetry: c.MLP_SERVING_LOAD_RETRY_MS > 0 ? { initialMs: c.MLP_SERVING_LOAD_RETRY_MS, maxMs: c.MLP_SERVING_LOAD_RETRY_MAX_MS } : null,
    fastPath: c.MLP_SERVING_FAST_PATH === 'on',
    home: base.MLP_HOME,
    natsUrl: base.NATS_URL,
    natsAuth: natsAuth(base),
  };
}

/** Whether `name@alias` is served under the configured list. */
export function isServed(served: ServingConfig['served'], name: string, alias: string): boolean {
  return served === '*' || served.some((s) => s.name === name && (s.alias === '*' || s.alias === alias));
}
