import { streams, toNewEvent, type DomainEventInput, type EventData, type EventType } from '@mlp/contracts';
import { MemoryEventStore, runProcessManager } from '@mlp/eventstore';
import { parsePolicy, policySha256 } from './policy';
import { policyReactionsProcessManager } from './policy-reactions.process-manager';

let clock = Date.parse('2026-03-01T00:00:00.000Z');
const event = <T extends EventType>(e: DomainEventInput<T>) => toNewEvent(e, { now: new Date((clock += 1000)).toISOString(), correlationId: 'c', causationId: null, actor: 'test' }, { codeVersion: 'test' });
const evaluated = (version: number, arm: string, accuracy: number, seq: number) =>
  event({ type: 'PerformanceEvaluated', data: { model: 'churn', version, arm, labelled: 100, correct: Math.round(accuracy * 100), metrics: { accuracy }, reference: { accuracy: 0.9 }, from: 'a', to: 'b', seq } });

/** The reactions on the real in-memory store: monitor findings and serving's rollout state feed the policy decider. */
describe('policy reactions', () => {
  const policy = parsePolicy({
    model: 'churn',
    performance: { metric: 'accuracy', minimum: 0.7 },
    actions: { onDrift: [], onDegraded: ['alert'], canary: { promoteAfter: 500, rollbackIf: { accuracy_drop: 0.1 } } },
    alerts: { webhook: 'http://127.0.0.1:9/hook' },
  });

  async function react(store: MemoryEventStore) {
    const pm = await runProcessManager(store, policyReactionsProcessManager());
    await pm.caughtUp;
    await pm.stop();
    return (await store.readStream(streams.monitor('churn'))).filter((e) => !['MonitoringPolicyApplied', 'PerformanceEvaluated', 'PerformanceDegraded'].includes(e.type));
  }

  it('a candidate window worse than the stable version by more than the allowed drop asks for a rollback of that rollout', async () => {
    const store = new MemoryEventStore();
    await store.appendToStream(streams.monitor('churn'), [event({ type: 'MonitoringPolicyApplied', data: { model: 'churn', policy, sha256: policySha256(policy) } })]);
    await store.appendToStream(streams.monitor('churn'), [evaluated(1, 'production', 0.9, 100)]);
    await store.appendToStream(streams.deployment('churn'), [
      event({
        type: 'DeploymentStarted',
        data: { model: 'churn', deploymentId: 'dep-7', strategy: 'canary', alias: 'production', stableVersion: 1, candidateVersion: 2, weights: { stable: 90, candidate: 10 }, actor: 'retraining' },
      }),
    ]);
    const candidate = evaluated(2, 'candidate', 0.74, 120);
    await store.appendToStream(streams.monitor('churn'), [evaluated(2, 'candidate', 0.86, 60), candidate]);

    const decided = await react(store);
    expect(decided.map((e) => e.type)).toEqual(['AlertRaised', 'RollbackRequested']);
    expect(decided[1].data).toEqual({
      model: 'churn',
      version: 2,
      deploymentId: 'dep-7',
      condition: 'canary',
      reason: 'canary v2 of churn (deployment dep-7) rolled back: accuracy dropped 0.16 (0.9 → 0.74) > 0.1',
      cause: { eventId: candidate.id, type: 'PerformanceEvaluated' },
    } satisfies EventData<'RollbackRequested'>);
    expect(decided[1].causationId).toBe(candidate.id);
  });

  it('degraded then back within the policy: one alert, resolved; nothing decided without a rollout for candidate windows', async () => {
    const store = new MemoryEventStore();
    await store.appendToStream(streams.monitor('churn'), [event({ type: 'MonitoringPolicyApplied', data: { model: 'churn', policy, sha256: policySha256(policy) } })]);
    const degraded = event({ type: 'PerformanceDegraded', data: { model: 'churn', version: 1, arm: 'production', metric: 'accuracy', value: 0.6, reference: 0.9, rule: 'accuracy 0.6 < minimum 0.7', windowSeq: 100 } });
    await store.appendToStream(streams.monitor('churn'), [evaluated(1, 'production', 0.6, 100), degraded, evaluated(1, 'production', 0.65, 200), evaluated(1, 'production', 0.8, 300), evaluated(2, 'candidate', 0.1, 10)]);
    const decided = await react(store);
    expect(decided.map((e) => [e.type, (e.data as { alertId: string }).alertId])).toEqual([
      ['AlertRaised', `degraded-${degraded.id}`],
      ['AlertResolved', `degraded-${degraded.id}`],
    ]);
  });
});
