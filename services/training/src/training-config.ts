import { hostname } from 'node:os';
import { z } from 'zod';
import { ValidationError } from '@mlp/contracts';
import { loadConfig, runtimeEnvShape, type BaseConfig } from '@mlp/service-kit';

/** Training settings from env, validated at start-up. */
const schema = z.object({
  MLP_TRANSPORT: z.enum(['tcp', 'nats']).default('tcp'),
  NATS_URL: z.string().min(1).default('nats://127.0.0.1:4222'),
  /** Where trials run: `jetstream` (a work queue shared by every training instance; the default with NATS) or `local` (in-process). */
  MLP_TRIAL_QUEUE: z.enum(['jetstream', 'local']).optional(),
  /** Trials this instance runs at once; 0 makes it a coordinator only (it serves the API and runs searches, other instances run the trials). */
  MLP_TRAINING_WORKERS: z.coerce.number().int().min(0).max(32).default(1),
  /** A trial not acknowledged within this time (worker died) is delivered to another worker. */
  MLP_TRIAL_ACK_WAIT_MS: z.coerce.number().int().positive().default(30_000),
  /** Replicas of the trial work queue's JetStream stream: 1, or 3 (or 5) on a NATS cluster; at most the cluster's servers. */
  MLP_TRIAL_QUEUE_REPLICAS: z.coerce.number().int().min(1).max(5).default(1),
  /** Names this instance as the coordinator of the runs it accepts; keep it stable across restarts so it resumes them. */
  MLP_TRAINING_INSTANCE: z.string().min(1).optional(),
  /** tfjs backend when a spec does not name one. */
  MLP_TFJS_BACKEND: z.enum(['wasm', 'cpu', 'tensorflow']).default('wasm'),
  /** Largest run archive `POST /runs/import` accepts, as uploaded and as unpacked (default 2 GiB). */
  MLP_IMPORT_MAX_BYTES: z.coerce.number().int().positive().default(2 * 1024 ** 3),
  /** Read by the libraries the trainer uses (DuckDB frames, code version): checked here too, as this module reads process.env. */
  ...runtimeEnvShape,
});

export type TrainingConfig = z.output<typeof schema> & { trialQueue: 'jetstream' | 'local'; instance: string };
export const TRAINING_CONFIG = Symbol('TRAINING_CONFIG');

export function loadTrainingConfig(env: NodeJS.ProcessEnv, base: Pick<BaseConfig, 'MLP_TRANSPORT' | 'NATS_URL'>, httpPort: number): TrainingConfig {
  const c = { ...loadConfig(schema, env), MLP_TRANSPORT: base.MLP_TRANSPORT, NATS_URL: base.NATS_URL };
  const trialQueue = c.MLP_TRIAL_QUEUE ?? (c.MLP_TRANSPORT === 'nats' ? 'jetstream' : 'local');
  if (trialQueue === 'local' && c.MLP_TRAINING_WORKERS === 0) {
    const message = 'MLP_TRAINING_WORKERS: 0 (coordinator only) needs a shared trial queue (MLP_TRIAL_QUEUE=jetstream): with the in-process queue no trial would ever run';
    throw new ValidationError(`invalid configuration:\n  ${message}`, [{ path: 'MLP_TRAINING_WORKERS', message }], { code: 'INVALID_CONFIG' });
  }
  return {
    ...c,
    trialQueue,
    instance: c.MLP_TRAINING_INSTANCE ?? `training@${hostname()}:${httpPort}`,
  };
}
