import { deterministicId, IllegalStateError, type MonitoringPolicy, type PolicyAction } from '@mlp/contracts';
import type { Decider } from '@mlp/eventstore';
import { conditionKey, evolvePolicy, initialPolicyState, type ActiveCondition, type MonitorPolicyState, type PolicyEvent } from './monitor-policy';
import { isLowerBetter } from './policy';

/** The event (or firing) a decision answers: recorded as the cause of what it starts. */
export interface Cause {
  eventId: string;
  type: string;
}

export type PolicyCommand =
  | { type: 'ApplyPolicy'; policy: MonitoringPolicy; sha256: string }
  /** A drift report: `drifted` from DriftDetected, clear from a DriftReportComputed without dataset or prediction drift. */
  | { type: 'ObserveDrift'; version: number; drifted: boolean; driftShare: number; driftedFeatures: string[]; cause: Cause }
  /** A performance window of one arm: degraded from PerformanceDegraded, clear from a PerformanceEvaluated within the policy. */
  | { type: 'ObservePerformance'; version: number; arm: string; degraded: boolean; metric: string; value: number; rule?: string; cause: Cause }
  /** What a running canary has answered so far, with both arms' metrics where monitoring has them. */
  | {
      type: 'ObserveCanary';
      deploymentId: string;
      version: number;
      predictions: number;
      errorRate?: number;
      metrics: { candidate: Record<string, number>; stable: Record<string, number> };
      cause: Cause;
    }
  /** A cron firing of the retraining schedule, at the time it was due. */
  | { type: 'FireSchedule'; model: string; scheduledAt: string; catchUp: boolean }
  | { type: 'TriggerRetraining'; model: string; message: string; cause: Cause };

/**
 * The policy of one model as a pure decider: a condition (drift, degraded
 * arm, failing canary) starts once — one AlertRaised and the policy's
 * actions — and clears once (AlertResolved); repeated observations of an
 * active condition decide nothing. Schedule firings are decided once per
 * scheduled time. Time enters only through the commands.
 */
export const monitorPolicyDecider: Decider<PolicyCommand, MonitorPolicyState, PolicyEvent> = {
  initialState: initialPolicyState,
  evolve: evolvePolicy,
  decide(command, state) {
    switch (command.type) {
      case 'ApplyPolicy':
        return state.status === 'Active' && state.sha256 === command.sha256
          ? []
          : [{ type: 'MonitoringPolicyApplied', data: { model: command.policy.model, policy: command.policy, sha256: command.sha256 } }];
      case 'ObserveDrift':
        return observeDrift(command, state);
      case 'ObservePerformance':
        return observePerformance(command, state);
      case 'ObserveCanary':
        return observeCanary(command, state);
      case 'FireSchedule':
        return fireSchedule(command, state);
      case 'TriggerRetraining':
        if (state.status !== 'Active') throw new IllegalStateError(`model '${command.model}' has no monitoring policy`, { code: 'NO_POLICY' });
        return [retrain(state, command.model, { kind: 'manual', message: command.message }, command.cause)];
      default: {
        const never: never = command;
        throw new Error(`unknown command ${(never as { type: string }).type}`);
      }
    }
  },
};

type Active = Extract<MonitorPolicyState, { status: 'Active' }>;

function observeDrift(c: Extract<PolicyCommand, { type: 'ObserveDrift' }>, state: MonitorPolicyState): PolicyEvent[] {
  if (state.status !== 'Active') return [];
  const details = { driftShare: c.driftShare, driftedFeatures: c.driftedFeatures };
  const message = c.drifted
    ? `drift on ${state.policy.model} v${c.version}: ${c.driftedFeatures.length} feature(s) drifted (share ${round(c.driftShare)}${c.driftedFeatures.length ? `: ${c.driftedFeatures.slice(0, 10).join(', ')}` : ''})`
    : `no drift on ${state.policy.model} v${c.version} (share ${round(c.driftShare)})`;
  return transition(state, 'drift', c.drifted, c.version, details, message, state.policy.actions.onDrift, c.cause);
}

function observePerformance(c: Extract<PolicyCommand, { type: 'ObservePerformance' }>, state: MonitorPolicyState): PolicyEvent[] {
  if (state.status !== 'Active' || !state.policy.performance) return [];
  const details = { arm: c.arm, metric: c.metric, value: c.value };
  const message = c.degraded
    ? `${state.policy.model} v${c.version} (${c.arm}) degraded: ${c.rule ?? `${c.metric} ${round(c.value)}`}`
    : `${state.policy.model} v${c.version} (${c.arm}) back within policy: ${c.metric} ${round(c.value)}`;
  return transition(state, 'degraded', c.degraded, c.version, details, message, state.policy.actions.onDegraded, c.cause);
}

/** Starts a condition (alert + actions) or clears it; nothing when it is already in that state. */
function transition(
  state: Active,
  condition: ActiveCondition['condition'],
  on: boolean,
  version: number,
  details: Record<string, unknown>,
  message: string,
  actions: PolicyAction[],
  cause: Cause,
): PolicyEvent[] {
  const model = state.policy.model;
  const current = state.active[conditionKey(condition, details)];
  if (!on) return current ? [{ type: 'AlertResolved', data: { alertId: current.alertId, model, condition, message, cause } }] : [];
  if (current) return [];
  const events: PolicyEvent[] = [raise(state, condition, version, details, message, actions.includes('alert'), cause)];
  if (actions.includes('retrain')) events.push(retrain(state, model, { kind: condition === 'drift' ? 'drift' : 'degraded', message, version }, cause));
  if (actions.includes('rollback')) events.push({ type: 'RollbackRequested', data: { model, version, condition, reason: message, cause } });
  return events;
}

function observeCanary(c: Extract<PolicyCommand, { type: 'ObserveCanary' }>, state: MonitorPolicyState): PolicyEvent[] {
  if (state.status !== 'Active') return [];
  const canary = state.policy.actions.canary;
  if (!canary || state.decidedCanaries.includes(c.deploymentId)) return [];
  const model = state.policy.model;
  const broken: string[] = [];
  for (const [rule, limit] of Object.entries(canary.rollbackIf)) {
    if (rule === 'errorRate') {
      if (c.errorRate !== undefined && c.errorRate > limit) broken.push(`error rate ${round(c.errorRate)} > ${limit}`);
      continue;
    }
    const metric = rule.replace(/_drop$/, '');
    const stable = c.metrics.stable[metric];
    const candidate = c.metrics.candidate[metric];
    if (stable === undefined || candidate === undefined) continue;
    const drop = isLowerBetter(metric) ? candidate - stable : stable - candidate;
    if (drop > limit) broken.push(`${metric} dropped ${round(drop)} (${round(stable)} → ${round(candidate)}) > ${limit}`);
  }
  if (broken.length > 0) {
    const reason = `canary v${c.version} of ${model} (deployment ${c.deploymentId}) rolled back: ${broken.join('; ')}`;
    const details = { deploymentId: c.deploymentId, predictions: c.predictions, broken };
    return [
      raise(state, 'canary', c.version, details, reason, state.policy.alerts?.webhook !== undefined, c.cause),
      { type: 'RollbackRequested', data: { model, version: c.version, deploymentId: c.deploymentId, condition: 'canary', reason, cause: c.cause } },
    ];
  }
  if (c.predictions >= canary.promoteAfter) {
    return [{ type: 'CanaryPromotionRequested', data: { model, version: c.version, deploymentId: c.deploymentId, predictions: c.predictions, cause: c.cause } }];
  }
  return [];
}

function fireSchedule(c: Extract<PolicyCommand, { type: 'FireSchedule' }>, state: MonitorPolicyState): PolicyEvent[] {
  if (state.status !== 'Active' || !state.policy.schedule) return [];
  if (state.lastScheduledAt !== null && Date.parse(c.scheduledAt) <= Date.parse(state.lastScheduledAt)) return [];
  const cron = state.policy.schedule.retrain;
  return [
    { type: 'RetrainingScheduleFired', data: { model: c.model, cron, scheduledAt: c.scheduledAt, catchUp: c.catchUp } },
    retrain(state, c.model, { kind: 'schedule', message: `scheduled retraining (${cron}) due ${c.scheduledAt}${c.catchUp ? ', caught up after a restart' : ''}`, scheduledAt: c.scheduledAt }, {
      eventId: `${c.model}@${c.scheduledAt}`,
      type: 'RetrainingScheduleFired',
    }),
  ];
}

function raise(state: Active, condition: ActiveCondition['condition'], version: number, details: Record<string, unknown>, message: string, notify: boolean, cause: Cause): PolicyEvent {
  return { type: 'AlertRaised', data: { alertId: `${condition}-${cause.eventId}`, model: state.policy.model, version, condition, severity: condition === 'drift' ? 'warning' : 'critical', message, details, notify, cause } };
}

function retrain(state: Active, model: string, reason: Extract<PolicyEvent, { type: 'RetrainingTriggered' }>['data']['reason'], cause: Cause): PolicyEvent {
  return { type: 'RetrainingTriggered', data: { triggerId: deterministicId('retraining', model, cause.eventId), model, reason, policySha256: state.sha256, cause } };
}

const round = (x: number) => Math.round(x * 1e4) / 1e4;
