import { z } from 'zod';
import { envKey, serviceNames, type ServiceName } from '@mlp/contracts';
import { httpPortVar, loadConfig, type BaseConfig } from '@mlp/service-kit';

/**
 * The platform's checkpointed process managers (their checkpoint names):
 * reported even before they saved a checkpoint (lag null), and the only
 * ones reported where the checkpoint store cannot list its names
 * (EventStoreDB). MLP_HEALTH_PROCESS_MANAGERS replaces the list.
 */
export const DEFAULT_PROCESS_MANAGERS = [
  'feature-store.auto-materialize',
  'registry.registration',
  'training.retraining',
  'monitoring.monitor-creation',
  'monitoring.policy',
  'monitoring.policy-actions',
  'monitoring.alert-delivery',
];

const schema = z.object({
  /** How often every service's /metrics is scraped; 0 scrapes only on request. */
  MLP_HEALTH_SCRAPE_INTERVAL_MS: z.coerce.number().int().min(0).max(3_600_000).default(15_000),
  MLP_HEALTH_SCRAPE_TIMEOUT_MS: z.coerce.number().int().min(1).max(60_000).default(3_000),
  MLP_HEALTH_PROCESS_MANAGERS: z.string().optional(),
});

export interface HealthConfig {
  /** Base URL per service: MLP_<SERVICE>_URL, else its configured port on loopback. */
  targets: { service: ServiceName; url: string }[];
  intervalMs: number;
  timeoutMs: number;
  processManagers: string[];
}

export const HEALTH_CONFIG = Symbol('HEALTH_CONFIG');

export function loadHealthConfig(env: NodeJS.ProcessEnv, base: BaseConfig): HealthConfig {
  const c = loadConfig(schema, env);
  return {
    targets: serviceNames.map((service) => ({ service, url: (env[`MLP_${envKey(service)}_URL`] || `http://127.0.0.1:${base[httpPortVar(service)]}`).replace(/\/$/, '') })),
    intervalMs: c.MLP_HEALTH_SCRAPE_INTERVAL_MS,
    timeoutMs: c.MLP_HEALTH_SCRAPE_TIMEOUT_MS,
    processManagers: c.MLP_HEALTH_PROCESS_MANAGERS ? c.MLP_HEALTH_PROCESS_MANAGERS.split(',').map((s) => s.trim()).filter(Boolean) : DEFAULT_PROCESS_MANAGERS,
  };
}
