import type { DomainEvent, MonitoringPolicy } from '@mlp/contracts';

export type PolicyEvent = DomainEvent<
  | 'MonitoringPolicyApplied'
  | 'AlertRaised'
  | 'AlertResolved'
  | 'RetrainingTriggered'
  | 'RetrainingScheduleFired'
  | 'RollbackRequested'
  | 'CanaryPromotionRequested'
>;

export interface ActiveCondition {
  alertId: string;
  condition: 'drift' | 'degraded' | 'canary';
  version?: number;
  since: string;
}

/**
 * A model's policy and what it has started (stream `monitor-<model>`, the
 * policy events only): the conditions that are active (one alert each until
 * they clear), the last schedule firing, and the canaries already decided.
 */
export type MonitorPolicyState =
  | { status: 'NoPolicy'; lastScheduledAt: string | null }
  | {
      status: 'Active';
      policy: MonitoringPolicy;
      sha256: string;
      /** Condition key (`drift`, `degraded:<arm>`, `canary:<deploymentId>`) → its alert. */
      active: Record<string, ActiveCondition>;
      lastScheduledAt: string | null;
      /** Deployments the policy promoted or rolled back. */
      decidedCanaries: string[];
    };

export const initialPolicyState = (): MonitorPolicyState => ({ status: 'NoPolicy', lastScheduledAt: null });

const policyEventTypes: ReadonlySet<string> = new Set<PolicyEvent['type']>([
  'MonitoringPolicyApplied',
  'AlertRaised',
  'AlertResolved',
  'RetrainingTriggered',
  'RetrainingScheduleFired',
  'RollbackRequested',
  'CanaryPromotionRequested',
]);

/** Folds the policy's events; the stream's other events (drift reports, deliveries) leave the state as it is. */
export function evolvePolicy(state: MonitorPolicyState, event: PolicyEvent): MonitorPolicyState {
  if (!policyEventTypes.has(event.type)) return state;
  switch (event.type) {
    case 'MonitoringPolicyApplied':
      return state.status === 'Active'
        ? { ...state, policy: event.data.policy, sha256: event.data.sha256 }
        : { status: 'Active', policy: event.data.policy, sha256: event.data.sha256, active: {}, lastScheduledAt: state.lastScheduledAt, decidedCanaries: [] };
    case 'RetrainingScheduleFired':
      return { ...state, lastScheduledAt: event.data.scheduledAt };
    default:
      break;
  }
  if (state.status !== 'Active') return state;
  switch (event.type) {
    case 'AlertRaised': {
      const key = conditionKey(event.data.condition, event.data.details);
      return { ...state, active: { ...state.active, [key]: { alertId: event.data.alertId, condition: event.data.condition, version: event.data.version, since: event.data.cause.eventId } } };
    }
    case 'AlertResolved': {
      const active = Object.fromEntries(Object.entries(state.active).filter(([, c]) => c.alertId !== event.data.alertId));
      return { ...state, active };
    }
    case 'CanaryPromotionRequested':
      return { ...state, decidedCanaries: [...state.decidedCanaries, event.data.deploymentId] };
    case 'RollbackRequested':
      return event.data.deploymentId && !state.decidedCanaries.includes(event.data.deploymentId)
        ? { ...state, decidedCanaries: [...state.decidedCanaries, event.data.deploymentId] }
        : state;
    case 'RetrainingTriggered':
      return state;
  }
}

/** The key an alert's condition is tracked under: one drift condition per model, degraded per arm, canary per deployment. */
export function conditionKey(condition: ActiveCondition['condition'], details: Record<string, unknown>): string {
  if (condition === 'drift') return 'drift';
  if (condition === 'degraded') return `degraded:${String(details.arm ?? 'all')}`;
  return `canary:${String(details.deploymentId ?? '')}`;
}
