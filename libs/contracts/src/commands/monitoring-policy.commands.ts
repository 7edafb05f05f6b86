import { z } from 'zod';
import { name } from '../events/common';

/** Drift methods a policy may name per feature (libs/ml's, Evidently's names). */
export const policyDriftMethods = ['ks', 'chisquare', 'ztest', 'wasserstein', 'jensenshannon', 'psi', 'kl', 'hellinger', 'anderson'] as const;
/** What a policy can do when a condition starts. */
export const policyActions = ['alert', 'retrain', 'rollback'] as const;
export type PolicyAction = (typeof policyActions)[number];

/** As feature windows spell them (libs/ml parseDuration): `30s`, `15m`, `1h`, `7d`, `2w`, `1h30m`. */
const duration = z.string().regex(/^(?:\d+[smhdw])+$/, 'a duration such as 30s, 15m, 1h, 7d or 1h30m');
const actions = z.array(z.enum(policyActions)).max(3).refine((a) => new Set(a).size === a.length, 'each action at most once');

/**
 * A model's monitoring policy (policy.yaml), as applied with `mlp monitor apply`:
 * the window and drift settings the monitors use, the performance floor,
 * the retraining schedule, what to do when a condition starts, and where alerts go.
 */
export const monitoringPolicySchema = z
  .object({
    model: name,
    window: z.union([
      z.object({ size: z.number().int().positive().max(10_000_000) }).strict(),
      z.object({ duration }).strict(),
    ]).default({ size: 1000 }),
    drift: z
      .object({
        shareThreshold: z.number().gt(0).max(1).default(0.5),
        features: z.record(z.string().min(1), z.object({ method: z.enum(policyDriftMethods), threshold: z.number().positive().optional() }).strict()).default({}),
      })
      .strict()
      .default({ shareThreshold: 0.5, features: {} }),
    performance: z
      .object({
        metric: z.string().min(1).max(50),
        /** The metric's floor (a ceiling for loss-like metrics). */
        minimum: z.number().optional(),
        /** Largest allowed drop from the version's holdout metric. */
        maxDrop: z.number().nonnegative().optional(),
        window: z.number().int().positive().max(10_000_000).default(500),
      })
      .strict()
      .optional(),
    schedule: z.object({ retrain: z.string().min(1).max(200), timezone: z.string().min(1).max(100).optional() }).strict().optional(),
    actions: z
      .object({
        onDrift: actions.default([]),
        onDegraded: actions.default([]),
        canary: z
          .object({
            /** Predictions the canary answers before it is promoted, none of the rollbackIf rules tripped. */
            promoteAfter: z.number().int().positive(),
            /** `errorRate` (share of failed requests) and `<metric>_drop` (drop from the stable arm). */
            rollbackIf: z.record(z.string().regex(/^(errorRate|[a-z][a-z0-9_]*_drop)$/, 'errorRate or <metric>_drop'), z.number().nonnegative()).default({}),
            /** Traffic share of a new canary, in percent. */
            percent: z.number().gt(0).lt(100).default(10),
          })
          .strict()
          .optional(),
      })
      .strict()
      .default({ onDrift: [], onDegraded: [] }),
    alerts: z
      .object({
        webhook: z.url({ protocol: /^https?$/, error: 'an http(s) URL' }).optional(),
        /** The same alert is not sent again within this time (e.g. after a restart): default 1h. */
        dedupe: duration.default('1h'),
      })
      .strict()
      .optional(),
    onlineLearning: z
      .object({
        enabled: z.boolean(),
        /** Labelled rows (joined feedback) collected before an update is requested. */
        minLabels: z.number().int().min(10).max(1_000_000).default(200),
        /** At most one update per this many minutes (the rate bound). */
        minIntervalMinutes: z.number().int().min(1).max(525_600).default(60),
      })
      .strict()
      .optional(),
  })
  .strict();
export type MonitoringPolicy = z.output<typeof monitoringPolicySchema>;
export type MonitoringPolicyInput = z.input<typeof monitoringPolicySchema>;

/** `POST /policies` and `mlp.cmd.monitoring.apply-policy`: the YAML text, or the policy as JSON. */
export const applyPolicyRequestSchema = z.union([z.object({ yaml: z.string().min(1).max(1_000_000) }).strict(), z.object({ policy: z.unknown() }).strict()]);

/** `GET /alerts` and `mlp.qry.monitoring.list-alerts`. */
export const listAlertsQuerySchema = z
  .object({
    model: name.optional(),
    status: z.enum(['active', 'resolved', 'all']).default('all'),
    limit: z.coerce.number().int().min(1).max(10_000).default(200),
  })
  .strict();
export type ListAlertsQuery = z.output<typeof listAlertsQuerySchema>;
