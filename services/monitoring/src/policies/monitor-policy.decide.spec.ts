import { deterministicId, IllegalStateError, monitoringPolicySchema, type MonitoringPolicyInput } from '@mlp/contracts';
import { deciderSpec } from '@mlp/testing';
import { monitorPolicyDecider, type PolicyCommand } from './monitor-policy.decide';
import type { PolicyEvent } from './monitor-policy';
import { policySha256 } from './policy';

const spec = deciderSpec(monitorPolicyDecider);

const policy = (overrides: Partial<MonitoringPolicyInput> = {}) =>
  monitoringPolicySchema.parse({
    model: 'churn',
    window: { size: 1000 },
    drift: { shareThreshold: 0.5, features: { amount: { method: 'psi', threshold: 0.2 } } },
    performance: { metric: 'roc_auc', minimum: 0.75, window: 500 },
    schedule: { retrain: '0 3 * * 0' },
    actions: { onDrift: ['alert', 'retrain'], onDegraded: ['alert', 'rollback'], canary: { promoteAfter: 2000, rollbackIf: { errorRate: 0.02, roc_auc_drop: 0.03 } } },
    alerts: { webhook: 'http://127.0.0.1:9999/hook' },
    ...overrides,
  });

const applied = (p = policy()): PolicyEvent => ({ type: 'MonitoringPolicyApplied', data: { model: p.model, policy: p, sha256: policySha256(p) } });
const sha = policySha256(policy());
const driftCause = { eventId: 'e-drift-1', type: 'DriftDetected' };
const drift = (drifted: boolean, cause = driftCause): PolicyCommand => ({ type: 'ObserveDrift', version: 3, drifted, driftShare: drifted ? 0.6 : 0.1, driftedFeatures: drifted ? ['amount', 'age'] : [], cause });
const driftAlert: PolicyEvent = {
  type: 'AlertRaised',
  data: {
    alertId: 'drift-e-drift-1',
    model: 'churn',
    version: 3,
    condition: 'drift',
    severity: 'warning',
    message: 'drift on churn v3: 2 feature(s) drifted (share 0.6: amount, age)',
    details: { driftShare: 0.6, driftedFeatures: ['amount', 'age'] },
    notify: true,
    cause: driftCause,
  },
};
const retrainOnDrift: PolicyEvent = {
  type: 'RetrainingTriggered',
  data: {
    triggerId: deterministicId('retraining', 'churn', 'e-drift-1'),
    model: 'churn',
    reason: { kind: 'drift', message: driftAlert.data.message as string, version: 3 },
    policySha256: sha,
    cause: driftCause,
  },
};

describe('monitor policy decider', () => {
  describe('ApplyPolicy', () => {
    it('records the policy, and nothing when the same policy is applied again', () => {
      spec.given([]).when({ type: 'ApplyPolicy', policy: policy(), sha256: sha }).then([applied()]);
      spec.given([applied()]).when({ type: 'ApplyPolicy', policy: policy(), sha256: sha }).then([]);
    });

    it('replaces a different policy and keeps the active conditions', () => {
      const next = policy({ actions: { onDrift: ['alert'], onDegraded: [] } });
      spec.given([applied(), driftAlert]).when({ type: 'ApplyPolicy', policy: next, sha256: policySha256(next) }).thenState((s) => {
        expect(s.status === 'Active' && s.policy.actions.onDrift).toEqual(['alert']);
        expect(s.status === 'Active' && Object.keys(s.active)).toEqual(['drift']);
      });
    });
  });

  describe('onDrift', () => {
    it('a drift condition that starts raises one alert and triggers retraining with its reason', () => {
      spec.given([applied()]).when(drift(true)).then([driftAlert, retrainOnDrift]);
    });

    it('further drift while the condition is active decides nothing (dedupe)', () => {
      spec.given([applied(), driftAlert, retrainOnDrift]).when(drift(true, { eventId: 'e-drift-2', type: 'DriftDetected' })).then([]);
    });

    it('a clean report resolves the alert; drift after that starts a new condition', () => {
      const clean = { eventId: 'e-report-9', type: 'DriftReportComputed' };
      const resolved: PolicyEvent = { type: 'AlertResolved', data: { alertId: 'drift-e-drift-1', model: 'churn', condition: 'drift', message: 'no drift on churn v3 (share 0.1)', cause: clean } };
      spec.given([applied(), driftAlert]).when(drift(false, clean)).then([resolved]);
      spec.given([applied(), driftAlert, resolved]).when(drift(true, { eventId: 'e-drift-3', type: 'DriftDetected' })).thenState((s) => {
        expect(s.status === 'Active' && s.active.drift.alertId).toBe('drift-e-drift-3');
      });
    });

    it('a clean report with no active condition decides nothing', () => {
      spec.given([applied()]).when(drift(false)).then([]);
    });

    it('without the alert action the condition is still recorded, not sent (notify false)', () => {
      const p = policy({ actions: { onDrift: ['retrain'], onDegraded: [] } });
      spec.given([applied(p)]).when(drift(true)).thenState((s) => expect(s.status === 'Active' && s.active.drift).toBeTruthy());
      const [raised] = monitorPolicyDecider.decide(drift(true), [applied(p)].reduce(monitorPolicyDecider.evolve, monitorPolicyDecider.initialState()));
      expect(raised).toMatchObject({ type: 'AlertRaised', data: { notify: false } });
    });

    it('a model without a policy decides nothing', () => {
      spec.given([]).when(drift(true)).then([]);
    });
  });

  describe('onDegraded', () => {
    const degraded = (on: boolean, arm = 'stable', id = 'e-perf-1'): PolicyCommand => ({
      type: 'ObservePerformance',
      version: 3,
      arm,
      degraded: on,
      metric: 'roc_auc',
      value: on ? 0.61 : 0.8,
      rule: on ? 'roc_auc 0.61 < minimum 0.75' : undefined,
      cause: { eventId: id, type: on ? 'PerformanceDegraded' : 'PerformanceEvaluated' },
    });

    it('raises a critical alert and asks for a rollback, recording the cause', () => {
      spec
        .given([applied()])
        .when(degraded(true))
        .then([
          {
            type: 'AlertRaised',
            data: {
              alertId: 'degraded-e-perf-1',
              model: 'churn',
              version: 3,
              condition: 'degraded',
              severity: 'critical',
              message: 'churn v3 (stable) degraded: roc_auc 0.61 < minimum 0.75',
              details: { arm: 'stable', metric: 'roc_auc', value: 0.61 },
              notify: true,
              cause: { eventId: 'e-perf-1', type: 'PerformanceDegraded' },
            },
          },
          {
            type: 'RollbackRequested',
            data: { model: 'churn', version: 3, condition: 'degraded', reason: 'churn v3 (stable) degraded: roc_auc 0.61 < minimum 0.75', cause: { eventId: 'e-perf-1', type: 'PerformanceDegraded' } },
          },
        ]);
    });

    it('tracks each arm on its own and resolves when the arm is back within policy', () => {
      const history = [applied(), ...monitorPolicyDecider.decide(degraded(true), [applied()].reduce(monitorPolicyDecider.evolve, monitorPolicyDecider.initialState()))];
      spec.given(history).when(degraded(true, 'stable', 'e-perf-2')).then([]);
      spec.given(history).when(degraded(true, 'candidate', 'e-perf-3')).thenState((s) => expect(s.status === 'Active' && Object.keys(s.active).sort()).toEqual(['degraded:candidate', 'degraded:stable']));
      spec.given(history).when(degraded(false, 'stable', 'e-perf-4')).then([
        { type: 'AlertResolved', data: { alertId: 'degraded-e-perf-1', model: 'churn', condition: 'degraded', message: 'churn v3 (stable) back within policy: roc_auc 0.8', cause: { eventId: 'e-perf-4', type: 'PerformanceEvaluated' } } },
      ]);
    });
  });

  describe('canary promoteAfter / rollbackIf', () => {
    const canary = (predictions: number, candidate: Record<string, number>, errorRate?: number): PolicyCommand => ({
      type: 'ObserveCanary',
      deploymentId: 'dep-1',
      version: 4,
      predictions,
      errorRate,
      metrics: { candidate, stable: { roc_auc: 0.8 } },
      cause: { eventId: `e-canary-${predictions}`, type: 'PerformanceEvaluated' },
    });

    it('keeps watching before promoteAfter predictions when no rule is broken', () => {
      spec.given([applied()]).when(canary(1999, { roc_auc: 0.79 }, 0.01)).then([]);
    });

    it('promotes at promoteAfter predictions, once', () => {
      const promote: PolicyEvent = { type: 'CanaryPromotionRequested', data: { model: 'churn', version: 4, deploymentId: 'dep-1', predictions: 2000, cause: { eventId: 'e-canary-2000', type: 'PerformanceEvaluated' } } };
      spec.given([applied()]).when(canary(2000, { roc_auc: 0.79 }, 0.01)).then([promote]);
      spec.given([applied(), promote]).when(canary(2500, { roc_auc: 0.79 })).then([]);
    });

    it('rolls back when the metric drops more than roc_auc_drop, even before promoteAfter', () => {
      const events = monitorPolicyDecider.decide(canary(300, { roc_auc: 0.76 }), [applied()].reduce(monitorPolicyDecider.evolve, monitorPolicyDecider.initialState()));
      expect(events.map((e) => e.type)).toEqual(['AlertRaised', 'RollbackRequested']);
      expect(events[1].data).toMatchObject({ deploymentId: 'dep-1', condition: 'canary', reason: 'canary v4 of churn (deployment dep-1) rolled back: roc_auc dropped 0.04 (0.8 → 0.76) > 0.03' });
      spec.given([applied(), ...events]).when(canary(2000, { roc_auc: 0.79 })).then([]);
    });

    it('rolls back on an error rate above errorRate; a drop within the limit is not a breach', () => {
      const events = monitorPolicyDecider.decide(canary(2000, { roc_auc: 0.78 }, 0.05), [applied()].reduce(monitorPolicyDecider.evolve, monitorPolicyDecider.initialState()));
      expect(events[1]).toMatchObject({ type: 'RollbackRequested', data: { reason: 'canary v4 of churn (deployment dep-1) rolled back: error rate 0.05 > 0.02' } });
    });

    it('a lower-is-better metric drops when it rises', () => {
      const p = policy({ actions: { onDrift: [], onDegraded: [], canary: { promoteAfter: 10, rollbackIf: { log_loss_drop: 0.1 } } } });
      const cmd: PolicyCommand = { ...(canary(5, { log_loss: 0.55 }) as Extract<PolicyCommand, { type: 'ObserveCanary' }>), metrics: { candidate: { log_loss: 0.55 }, stable: { log_loss: 0.4 } } };
      const events = monitorPolicyDecider.decide(cmd, [applied(p)].reduce(monitorPolicyDecider.evolve, monitorPolicyDecider.initialState()));
      expect(events.map((e) => e.type)).toEqual(['AlertRaised', 'RollbackRequested']);
    });

    it('a policy without a canary section decides nothing', () => {
      spec.given([applied(policy({ actions: { onDrift: [], onDegraded: [] } }))]).when(canary(5000, { roc_auc: 0.5 })).then([]);
    });
  });

  describe('schedule', () => {
    const fire = (scheduledAt: string, catchUp = false): PolicyCommand => ({ type: 'FireSchedule', model: 'churn', scheduledAt, catchUp });

    it('records the firing with its scheduled time and triggers retraining', () => {
      spec
        .given([applied()])
        .when(fire('2026-03-01T03:00:00.000Z'))
        .then([
          { type: 'RetrainingScheduleFired', data: { model: 'churn', cron: '0 3 * * 0', scheduledAt: '2026-03-01T03:00:00.000Z', catchUp: false } },
          {
            type: 'RetrainingTriggered',
            data: {
              triggerId: deterministicId('retraining', 'churn', 'churn@2026-03-01T03:00:00.000Z'),
              model: 'churn',
              reason: { kind: 'schedule', message: 'scheduled retraining (0 3 * * 0) due 2026-03-01T03:00:00.000Z', scheduledAt: '2026-03-01T03:00:00.000Z' },
              policySha256: sha,
              cause: { eventId: 'churn@2026-03-01T03:00:00.000Z', type: 'RetrainingScheduleFired' },
            },
          },
        ]);
    });

    it('never fires the same or an earlier time twice', () => {
      const fired = monitorPolicyDecider.decide(fire('2026-03-01T03:00:00.000Z'), [applied()].reduce(monitorPolicyDecider.evolve, monitorPolicyDecider.initialState()));
      spec.given([applied(), ...fired]).when(fire('2026-03-01T03:00:00.000Z', true)).then([]);
      spec.given([applied(), ...fired]).when(fire('2026-02-22T03:00:00.000Z', true)).then([]);
      spec.given([applied(), ...fired]).when(fire('2026-03-08T03:00:00.000Z')).thenState((s) => expect(s.lastScheduledAt).toBe('2026-03-08T03:00:00.000Z'));
    });

    it('a policy without a schedule fires nothing', () => {
      spec.given([applied(policy({ schedule: undefined }))]).when(fire('2026-03-01T03:00:00.000Z')).then([]);
    });
  });

  it('manual retraining needs a policy', () => {
    spec.given([]).when({ type: 'TriggerRetraining', model: 'churn', message: 'by hand', cause: { eventId: 'c1', type: 'Command' } }).then(IllegalStateError, /no monitoring policy/);
  });
});
