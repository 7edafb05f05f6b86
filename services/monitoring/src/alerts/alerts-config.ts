import { z } from 'zod';
import { loadConfig, UrlPolicy, type RetryPolicy } from '@mlp/service-kit';

const schema = z.object({
  /** Hosts webhooks may be sent to, in the syntax of MLP_INGEST_URL_ALLOW. Default: loopback (embedded), none (distributed). */
  MLP_WEBHOOK_ALLOW: z.string().optional(),
  MLP_WEBHOOK_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(5),
  MLP_WEBHOOK_BASE_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(500),
  MLP_WEBHOOK_MAX_DELAY_MS: z.coerce.number().int().min(0).max(600_000).default(30_000),
  MLP_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(1).max(120_000).default(10_000),
});

export interface AlertsConfig {
  allow: UrlPolicy;
  retry: RetryPolicy;
  timeoutMs: number;
}

export const ALERTS_CONFIG = Symbol('ALERTS_CONFIG');

/** Loopback, as ingestion's embedded default. */
const EMBEDDED_WEBHOOK_ALLOW = '127.0.0.0/8,::1';

export function loadAlertsConfig(env: NodeJS.ProcessEnv, transport: string): AlertsConfig {
  const c = loadConfig(schema, env);
  const labels = { code: 'WEBHOOK_NOT_ALLOWED', subject: 'webhook', source: 'webhook', setting: 'MLP_WEBHOOK_ALLOW' };
  const allow =
    c.MLP_WEBHOOK_ALLOW !== undefined
      ? UrlPolicy.parse(c.MLP_WEBHOOK_ALLOW, undefined, undefined, labels)
      : transport === 'nats'
        ? UrlPolicy.parse('none', 'MLP_WEBHOOK_ALLOW (unset: no host is allowed in distributed mode)', undefined, labels)
        : UrlPolicy.parse(EMBEDDED_WEBHOOK_ALLOW, 'MLP_WEBHOOK_ALLOW (unset: loopback only in embedded mode)', undefined, labels);
  return {
    allow,
    retry: { attempts: c.MLP_WEBHOOK_ATTEMPTS, baseDelayMs: c.MLP_WEBHOOK_BASE_DELAY_MS, maxDelayMs: c.MLP_WEBHOOK_MAX_DELAY_MS },
    timeoutMs: c.MLP_WEBHOOK_TIMEOUT_MS,
  };
}
