import { z } from 'zod';
import { defineEvent } from '../event-definition';
import { monitoringPolicySchema } from '../commands/monitoring-policy.commands';
import { name } from './common';

const version = z.number().int().positive();
const alertId = z.string().min(1).max(300);
/** The event a reaction answers (its id and type), recorded as the cause. */
const cause = z.object({ eventId: z.string().min(1), type: z.string().min(1) });
/** What tripped: drift, degraded performance, a canary rule. */
const condition = z.enum(['drift', 'degraded', 'canary']);

/**
 * Policies and their actions (stream `monitor-<model>`), alert deliveries,
 * and the retraining loop (stream `retraining-<trigger id>`, written by
 * training's retraining process manager).
 */
export const monitoringPolicyEvents = {
  /** A model's monitoring policy, as validated; replaces the previous one. */
  MonitoringPolicyApplied: defineEvent(
    'MonitoringPolicyApplied',
    1,
    z.object({ model: name, policy: monitoringPolicySchema, sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
  ),
  /** A condition started: one alert per condition and version until it clears. */
  AlertRaised: defineEvent(
    'AlertRaised',
    1,
    z.object({
      alertId,
      model: name,
      version: version.optional(),
      condition,
      severity: z.enum(['warning', 'critical']),
      message: z.string().min(1).max(2000),
      details: z.record(z.string(), z.unknown()).default({}),
      /** Whether the policy's `alert` action sends it to the webhook (every condition start is recorded). */
      notify: z.boolean(),
      cause,
    }),
  ),
  /** The condition of an active alert cleared. */
  AlertResolved: defineEvent(
    'AlertResolved',
    1,
    z.object({ alertId, model: name, condition, message: z.string().min(1).max(2000), cause }),
  ),
  /** An alert transition reached its webhook (2xx). Deliveries are deduplicated on (alertId, transition). */
  AlertDelivered: defineEvent(
    'AlertDelivered',
    1,
    z.object({ alertId, transition: z.enum(['raised', 'resolved']), webhook: z.string(), attempts: z.number().int().positive(), status: z.number().int() }),
  ),
  /** Every attempt failed (or the webhook host is not allowed): the alert stays recorded, undelivered. */
  AlertDeliveryFailed: defineEvent(
    'AlertDeliveryFailed',
    1,
    z.object({ alertId, transition: z.enum(['raised', 'resolved']), webhook: z.string(), attempts: z.number().int().nonnegative(), error: z.string().max(2000) }),
  ),
  /** The policy asks for a new version: drift, degraded performance, a schedule, or a user. */
  RetrainingTriggered: defineEvent(
    'RetrainingTriggered',
    1,
    z.object({
      triggerId: z.uuid(),
      model: name,
      reason: z.object({
        kind: z.enum(['drift', 'degraded', 'schedule', 'manual']),
        message: z.string().min(1).max(2000),
        version: version.optional(),
        scheduledAt: z.string().optional(),
      }),
      /** The sha256 of the policy in force. */
      policySha256: z.string(),
      cause,
    }),
  ),
  /** A cron firing of the retraining schedule, recorded before it acts: a restart neither loses nor repeats it. */
  RetrainingScheduleFired: defineEvent(
    'RetrainingScheduleFired',
    1,
    z.object({ model: name, cron: z.string().min(1), scheduledAt: z.string().min(1), catchUp: z.boolean() }),
  ),
  /** The policy asks serving and the registry to roll the model back. */
  RollbackRequested: defineEvent(
    'RollbackRequested',
    1,
    z.object({ model: name, version: version.optional(), deploymentId: z.string().min(1).optional(), condition, reason: z.string().min(1).max(2000), cause }),
  ),
  /** What the rollback did: the registry's alias move and serving's deployment rollback (null when nothing was deployed). */
  RollbackExecuted: defineEvent(
    'RollbackExecuted',
    1,
    z.object({
      model: name,
      registry: z.object({ ok: z.boolean(), detail: z.string().max(2000) }),
      serving: z.object({ ok: z.boolean(), detail: z.string().max(2000) }).nullable(),
      cause,
    }),
  ),
  /** A canary answered `promoteAfter` predictions without tripping a rollback rule. */
  CanaryPromotionRequested: defineEvent(
    'CanaryPromotionRequested',
    1,
    z.object({ model: name, version, deploymentId: z.string().min(1), predictions: z.number().int().nonnegative(), cause }),
  ),
  /** Training's retraining manager started a run for a trigger (run id derived from the trigger id). */
  RetrainingRunStarted: defineEvent(
    'RetrainingRunStarted',
    1,
    z.object({ triggerId: z.uuid(), model: name, runId: z.string().min(1), sourceRunId: z.string().min(1), reason: z.string().max(2000) }),
  ),
  /** The retraining run's version is in the registry. */
  RetrainingVersionRegistered: defineEvent(
    'RetrainingVersionRegistered',
    1,
    z.object({ triggerId: z.uuid(), model: name, runId: z.string().min(1), version }),
  ),
  /**
   * The new version should go out as a canary; serving's deployments consume
   * this (no deployment command existed in libs/contracts when it was written).
   */
  CanaryDeploymentRequested: defineEvent(
    'CanaryDeploymentRequested',
    1,
    z.object({
      triggerId: z.uuid(),
      model: name,
      version,
      percent: z.number().gt(0).lt(100),
      promoteAfter: z.number().int().positive().optional(),
      rollbackIf: z.record(z.string(), z.number()).default({}),
    }),
  ),
  /**
   * Online learning: enough labelled feedback for the served version, and the
   * policy's interval since the last update, so training should continue
   * `fit` from that version's weights on these rows and register the result
   * as a new version (the served one is never changed in place).
   */
  OnlineUpdateRequested: defineEvent(
    'OnlineUpdateRequested',
    1,
    z.object({
      updateId: z.string().min(1),
      model: name,
      /** The served version whose weights the update starts from. */
      version,
      /** JSON rows `{features, label}` stored by content hash. */
      rowsArtifactKey: z.string().min(1),
      rows: z.number().int().positive(),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
      /** When the rows were complete: the next update waits `minIntervalMinutes` from here. */
      at: z.string().min(1),
    }),
  ),
  /** The loop stopped short of a canary: nothing to retrain from, the run failed or was not blessed, not registered, or serving refused the canary. */
  RetrainingEnded: defineEvent(
    'RetrainingEnded',
    1,
    z.object({ triggerId: z.uuid(), model: name, outcome: z.enum(['failed', 'not-blessed', 'no-spec', 'not-registered', 'canary-refused']), detail: z.string().max(2000) }),
  ),
} as const;

