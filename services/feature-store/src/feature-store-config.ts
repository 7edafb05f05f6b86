import { resolve } from 'node:path';
import { z } from 'zod';
import { loadConfig, type BaseConfig } from '@mlp/service-kit';

/** Feature store settings from env, validated at start-up. */
const schema = z.object({
  MLP_HOME: z.string().min(1).default('.mlp'),
  MLP_TRANSPORT: z.enum(['tcp', 'nats']).default('tcp'),
  NATS_URL: z.string().min(1).default('nats://127.0.0.1:4222'),
  /** Online store: sqlite://… (embedded default), nats://… (JetStream KV, the default with MLP_TRANSPORT=nats), memory:// */
  MLP_ONLINE_STORE_URL: z.string().min(1).optional(),
  /** Materialize automatically when a source dataset gets a new accepted version. */
  MLP_AUTO_MATERIALIZE: z.enum(['on', 'off']).default('on'),
});

export type FeatureStoreConfig = z.output<typeof schema> & { onlineStoreUrl: string };
export const FEATURE_STORE_CONFIG = Symbol('FEATURE_STORE_CONFIG');

/** The service's own variables from env; MLP_HOME, transport and NATS come from the service config when given. */
export function loadFeatureStoreConfig(env: NodeJS.ProcessEnv = process.env, base?: Pick<BaseConfig, 'MLP_HOME' | 'MLP_TRANSPORT' | 'NATS_URL'>): FeatureStoreConfig {
  const c = { ...loadConfig(schema, env), ...(base ? { MLP_HOME: base.MLP_HOME, MLP_TRANSPORT: base.MLP_TRANSPORT, NATS_URL: base.NATS_URL } : {}) };
  const onlineStoreUrl = c.MLP_ONLINE_STORE_URL ?? (c.MLP_TRANSPORT === 'nats' ? c.NATS_URL : `sqlite://${resolve(c.MLP_HOME, 'online.db')}`);
  return { ...c, onlineStoreUrl };
}
