import { resolve } from 'node:path';
import { z } from 'zod';
import { telemetryStream } from '@mlp/contracts';
import { natsAuth, type NatsAuth, type NatsAuthVar } from '@mlp/messaging';
import { loadConfig, type BaseConfig } from '@mlp/service-kit';
import { parseWindowSpec, type WindowSpec } from './window-spec';

const schema = z.object({
  /** Where serving's telemetry is read: `sqlite` (embedded default), `jetstream` (default with NATS), `off`. */
  MLP_MONITORING_TELEMETRY: z.enum(['sqlite', 'jetstream', 'off']).optional(),
  /** Default drift window: rows (`1000`) or a duration (`1h`). */
  MLP_MONITORING_WINDOW: z.string().default('1000'),
  /** Values per numeric column a window keeps for exact tests; past it libs/ml's DriftWindow uses its grid and a uniform sample (features say `approximation`). */
  MLP_MONITORING_SAMPLE_CAP: z.coerce.number().int().min(100).max(10_000_000).default(100_000),
  /** Labelled predictions per performance window (per version and arm). */
  MLP_MONITORING_PERFORMANCE_WINDOW: z.coerce.number().int().min(10).max(1_000_000).default(500),
  /** JetStream: telemetry records (up to the last acked one) replayed at start to rebuild the label join and performance windows; 0 turns it off. */
  MLP_MONITORING_REPLAY_RECORDS: z.coerce.number().int().min(0).max(100_000_000).default(200_000),
  /** The JetStream durable consumer's name. */
  MLP_MONITORING_CONSUMER: z.string().regex(/^[A-Za-z0-9_-]+$/).default('monitoring-telemetry'),
});

export interface MonitoringCoreConfig {
  telemetry: 'sqlite' | 'jetstream' | 'off';
  sqliteFile: string;
  natsUrl: string;
  /** Credentials of the telemetry consumer's NATS connection, from MLP_NATS_*. */
  natsAuth: NatsAuth;
  consumer: string;
  window: WindowSpec;
  sampleCap: number;
  performanceWindow: number;
  /** Records replayed at a JetStream start for the label join and performance windows (0: none). */
  replayRecords: number;
}

export function loadMonitoringCoreConfig(env: NodeJS.ProcessEnv, base: Pick<BaseConfig, 'MLP_TRANSPORT' | 'NATS_URL' | 'MLP_HOME'> & Partial<Pick<BaseConfig, NatsAuthVar>>): MonitoringCoreConfig {
  const c = loadConfig(schema, env);
  return {
    telemetry: c.MLP_MONITORING_TELEMETRY ?? (base.MLP_TRANSPORT === 'nats' ? 'jetstream' : 'sqlite'),
    sqliteFile: resolve(base.MLP_HOME, telemetryStream.sqlite.file),
    natsUrl: base.NATS_URL,
    natsAuth: natsAuth(base),
    consumer: c.MLP_MONITORING_CONSUMER,
    window: parseWindowSpec(c.MLP_MONITORING_WINDOW, 'MLP_MONITORING_WINDOW'),
    sampleCap: c.MLP_MONITORING_SAMPLE_CAP,
    performanceWindow: c.MLP_MONITORING_PERFORMANCE_WINDOW,
    replayRecords: c.MLP_MONITORING_REPLAY_RECORDS,
  };
}
