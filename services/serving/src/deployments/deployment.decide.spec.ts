import { IllegalStateError, NotFoundError, ValidationError, validateEventData, type PolicyDecision } from '@mlp/contracts';
import { deciderSpec } from '@mlp/testing';
import { deploymentDecider, type DeploymentCommand } from './deployment.decide';
import type { DeploymentEvent } from './deployment';

const spec = deciderSpec(deploymentDecider);
const base = { model: 'churn', reason: '', actor: 'ana' };
const start = (over: Partial<Extract<DeploymentCommand, { type: 'StartDeployment' }>> = {}): DeploymentCommand => ({
  type: 'StartDeployment',
  ...base,
  deploymentId: 'd1',
  strategy: 'canary',
  alias: 'production',
  version: 2,
  aliasVersion: 1,
  registered: true,
  auto: false,
  ...over,
});
/** The event as the store returns it (defaults applied). */
const started = (data: Record<string, unknown>): DeploymentEvent => ({
  type: 'DeploymentStarted',
  data: validateEventData('DeploymentStarted', { ...base, deploymentId: 'd1', strategy: 'canary', alias: 'production', stableVersion: 1, candidateVersion: 2, weights: { stable: 90, candidate: 10 }, ...data }),
});
const shifted = (from: number, to: number, by: 'hand' | 'schedule' = 'hand'): DeploymentEvent => ({
  type: 'TrafficShifted',
  data: { ...base, deploymentId: 'd1', from: { stable: 100 - from, candidate: from }, to: { stable: 100 - to, candidate: to }, by },
});
const shift = (candidate: number, stable = 100 - candidate, by: 'hand' | 'schedule' | 'policy' = 'hand', deploymentId?: string): DeploymentCommand => ({
  type: 'ShiftTraffic',
  ...base,
  weights: { stable, candidate },
  by,
  ...(deploymentId ? { deploymentId } : {}),
});
const promote = (loadedVersions: number[], by: 'hand' | 'policy' = 'hand', decision?: PolicyDecision, deploymentId?: string): DeploymentCommand => ({
  type: 'PromoteDeployment',
  ...base,
  loadedVersions,
  by,
  ...(decision ? { decision } : {}),
  ...(deploymentId ? { deploymentId } : {}),
});
const rollback = (by: 'hand' | 'policy' = 'hand', decision?: PolicyDecision, deploymentId?: string): DeploymentCommand => ({ type: 'RollbackDeployment', ...base, by, ...(decision ? { decision } : {}), ...(deploymentId ? { deploymentId } : {}) });
const promoted = (version = 2, previousVersion = 1, deploymentId = 'd1'): DeploymentEvent[] => [
  { type: 'DeploymentPromoted', data: { ...base, deploymentId, alias: 'production', version, previousVersion, by: 'hand', policy: null, decision: null } },
  { type: 'DeploymentCompleted', data: { model: 'churn', deploymentId, outcome: 'promoted', stableVersion: version } },
];

describe('Deployment decider: starting a rollout', () => {
  it('starts each strategy with its split: blue-green all at once, canary 10 %, ab 50 %, shadow answers from stable and mirrors 10 %', () => {
    spec.given([]).when(start()).then([started({})]);
    spec.given([]).when(start({ strategy: 'blue-green' })).then([started({ strategy: 'blue-green', weights: { stable: 0, candidate: 100 } })]);
    spec.given([]).when(start({ strategy: 'ab', sticky: { header: 'x-mlp-key' } })).then([started({ strategy: 'ab', weights: { stable: 50, candidate: 50 }, sticky: { header: 'x-mlp-key' } })]);
    spec.given([]).when(start({ strategy: 'shadow' })).then([started({ strategy: 'shadow', weights: { stable: 100, candidate: 0 }, mirrorPercent: 10 })]);
    spec.given([]).when(start({ strategy: 'shadow', weight: 25 })).then([started({ strategy: 'shadow', weights: { stable: 100, candidate: 0 }, mirrorPercent: 25 })]);
    spec.given([]).when(start({ weight: 30 })).then([started({ weights: { stable: 70, candidate: 30 } })]);
  });

  it('allows one active rollout per model', () => {
    spec.given([started({})]).when(start({ deploymentId: 'd2', version: 3 })).then(IllegalStateError, /already has an active canary rollout \(d1: v1 → v2\)/);
    // Once it is over, the next one may start.
    spec.given([started({}), ...promoted()]).when(start({ deploymentId: 'd2', version: 3, aliasVersion: 2 })).then([started({ deploymentId: 'd2', stableVersion: 2, candidateVersion: 3 })]);
  });

  it('needs a registered candidate, a stable version to start from, and a candidate that is not already stable', () => {
    spec.given([]).when(start({ registered: false })).then(NotFoundError, /has no version 2/);
    spec.given([]).when(start({ aliasVersion: null })).then(IllegalStateError, /holds no version/);
    spec.given([]).when(start({ aliasVersion: 2 })).then(IllegalStateError, /already holds/);
  });

  it('keeps weights in range per strategy, and the policy, schedule and stickiness to the strategies they apply to', () => {
    spec.given([]).when(start({ strategy: 'blue-green', weight: 50 })).then(ValidationError, /weight: blue-green switches all traffic at once/);
    spec.given([]).when(start({ weight: 100 })).then(ValidationError, /1..99/);
    spec.given([]).when(start({ weight: 0 })).then(ValidationError, /1..99/);
    spec.given([]).when(start({ strategy: 'ab', weight: 100 })).then(ValidationError, /1..99/);
    spec.given([]).when(start({ strategy: 'shadow', weight: 0 })).then(ValidationError, /1..100/);
    spec.given([]).when(start({ strategy: 'ab', auto: true })).then(ValidationError, /canary rollouts only/);
    spec.given([]).when(start({ strategy: 'blue-green', schedule: { steps: [50], everySeconds: 60 } })).then(ValidationError, /canary rollouts only/);
    spec.given([]).when(start({ strategy: 'shadow', sticky: { header: 'x-k' } })).then(ValidationError, /ab and canary/);
    spec.given([]).when(start({ weight: 30, schedule: { steps: [20, 50], everySeconds: 60 } })).then(ValidationError, /exceed the starting weight 30/);
  });

  it('records the automatic policy (defaults when none is given) and the schedule, starting at its first step', () => {
    const defaults = { minRequests: 100, maxErrorRate: 0.05, maxP99Ms: 1000, metrics: [] };
    spec.given([]).when(start({ auto: true })).then([started({ policy: defaults })]);
    const policy = { minRequests: 500, maxErrorRate: 0.01, maxP99Ms: 50, metrics: [{ metric: 'accuracy', op: '>=' as const, value: 0.8 }] };
    spec.given([]).when(start({ auto: true, policy })).then([started({ policy })]);
    const schedule = { steps: [5, 25, 50], everySeconds: 300 };
    spec.given([]).when(start({ schedule })).then([started({ schedule, weights: { stable: 95, candidate: 5 } })]);
  });
});

describe('Deployment decider: moving traffic', () => {
  it('shifts a canary or A/B split by hand; weights must sum to 100', () => {
    spec.given([started({})]).when(shift(50)).then([shifted(10, 50)]);
    spec.given([started({})]).when(shift(50, 40)).then(ValidationError, /weights must sum to 100 \(stable 40 \+ candidate 50 = 90\)/);
    spec.given([started({})]).when(shift(120, -20)).then(ValidationError, /0..100/);
    spec.given([started({})]).when(shift(10)).then([]);
    spec.given([started({ strategy: 'ab', weights: { stable: 50, candidate: 50 } })]).when(shift(20)).then([shifted(50, 20)]);
  });

  it('refuses shifts on blue-green and shadow rollouts, and without an active rollout', () => {
    spec.given([started({ strategy: 'blue-green', weights: { stable: 0, candidate: 100 } })]).when(shift(50)).then(IllegalStateError, /switches all traffic at once/);
    spec.given([started({ strategy: 'shadow', weights: { stable: 100, candidate: 0 }, mirrorPercent: 10 })]).when(shift(50)).then(IllegalStateError, /answers from the stable version only/);
    spec.given([]).when(shift(50)).then(IllegalStateError, /no active rollout/);
    spec.given([started({}), ...promoted()]).when(shift(50)).then(IllegalStateError, /no active rollout/);
  });

  it('moves a scheduled canary only to its next step, so instances racing on the same tick append one shift', () => {
    const schedule = { steps: [5, 25, 50], everySeconds: 60 };
    const s = started({ schedule, weights: { stable: 95, candidate: 5 } });
    spec.given([s]).when(shift(25, 75, 'schedule', 'd1')).then([shifted(5, 25, 'schedule')]);
    spec.given([s, shifted(5, 25, 'schedule')]).when(shift(25, 75, 'schedule', 'd1')).then([]);
    spec.given([s, shifted(5, 25, 'schedule')]).when(shift(50, 50, 'schedule', 'd1')).then([shifted(25, 50, 'schedule')]);
    spec.given([s, shifted(5, 25, 'schedule'), shifted(25, 50, 'schedule')]).when(shift(100, 0, 'schedule', 'd1')).then([]);
    // A tick for a rollout that is over, or for another one, does nothing.
    spec.given([s, ...promoted()]).when(shift(25, 75, 'schedule', 'd1')).then([]);
    spec.given([s]).when(shift(25, 75, 'schedule', 'd0')).then([]);
  });
});

describe('Deployment decider: promotion and rollback', () => {
  const decision: PolicyDecision = { outcome: 'promote', requests: 120, errors: 0, errorRate: 0, p99Ms: 4.2, metrics: {}, reasons: [] };
  const policy = { minRequests: 100, maxErrorRate: 0.05, maxP99Ms: 1000, metrics: [] };

  it('promotes only a loaded candidate, and completes the rollout on it', () => {
    spec.given([started({})]).when(promote([1])).then(IllegalStateError, /version 2 of 'churn' is not loaded here yet/);
    spec.given([started({})]).when(promote([1, 2])).then(promoted());
    spec.given([started({})]).when(promote([1, 2])).thenState((s) => expect(s).toEqual({ status: 'Idle', model: 'churn', stableVersion: 2, outcome: 'promoted', alias: 'production', lastDecision: null }));
    spec.given([]).when(promote([2])).then(IllegalStateError, /no active rollout/);
  });

  it('keeps the policy and its decision in the event when the policy promotes or rolls back', () => {
    spec
      .given([started({ policy })])
      .when(promote([1, 2], 'policy', decision, 'd1'))
      .then([
        { type: 'DeploymentPromoted', data: { ...base, deploymentId: 'd1', alias: 'production', version: 2, previousVersion: 1, by: 'policy', policy, decision } },
        { type: 'DeploymentCompleted', data: { model: 'churn', deploymentId: 'd1', outcome: 'promoted', stableVersion: 2 } },
      ]);
    const bad: PolicyDecision = { ...decision, outcome: 'rollback', errors: 60, errorRate: 0.5, reasons: ['error rate 0.5 > 0.05'] };
    spec
      .given([started({ policy })])
      .when(rollback('policy', bad, 'd1'))
      .then([
        { type: 'DeploymentRolledBack', data: { ...base, deploymentId: 'd1', restoredVersion: 1, candidateVersion: 2, by: 'policy', policy, decision: bad } },
        { type: 'DeploymentCompleted', data: { model: 'churn', deploymentId: 'd1', outcome: 'rolled-back', stableVersion: 1 } },
      ]);
    spec.given([started({ policy })]).when(rollback('policy', bad, 'd1')).thenState((s) => expect(s).toMatchObject({ status: 'Idle', stableVersion: 1, outcome: 'rolled-back', lastDecision: bad }));
    // A second instance deciding the same rollout after it ended appends nothing.
    spec.given([started({ policy }), ...promoted()]).when(rollback('policy', bad, 'd1')).then([]);
    spec.given([started({ policy }), ...promoted()]).when(promote([1, 2], 'policy', decision, 'd1')).then([]);
  });

  it('always restores the last stable state on rollback, whatever the split had become', () => {
    const rolledBack = (restoredVersion: number, candidateVersion: number, deploymentId = 'd1'): DeploymentEvent[] => [
      { type: 'DeploymentRolledBack', data: { ...base, deploymentId, restoredVersion, candidateVersion, by: 'hand', policy: null, decision: null } },
      { type: 'DeploymentCompleted', data: { model: 'churn', deploymentId, outcome: 'rolled-back', stableVersion: restoredVersion } },
    ];
    spec.given([started({}), shifted(10, 50), shifted(50, 90)]).when(rollback()).then(rolledBack(1, 2));
    spec.given([started({ strategy: 'blue-green', weights: { stable: 0, candidate: 100 } })]).when(rollback()).then(rolledBack(1, 2));
    // After v2 was promoted, the stable state is v2: a rollout of v3 rolls back to v2, not v1.
    const second = started({ deploymentId: 'd2', stableVersion: 2, candidateVersion: 3 });
    spec.given([started({}), ...promoted(), second, shifted(10, 40)]).when(rollback()).then(rolledBack(2, 3, 'd2'));
    spec.given([started({}), ...promoted(), second]).when(rollback()).thenState((s) => expect(s).toEqual({ status: 'Idle', model: 'churn', stableVersion: 2, outcome: 'rolled-back', alias: 'production', lastDecision: null }));
    spec.given([]).when(rollback()).then(IllegalStateError, /no active rollout/);
  });

  it('names a rollout that is over when an operator targets it', () => {
    spec.given([started({})]).when(rollback('hand', undefined, 'd0')).then(IllegalStateError, /d0 of 'churn' is over; d1 is active/);
  });
});
