import { categories, streams, type CommandMetadata, type EventData, type RecordedEvent } from '@mlp/contracts';
import { aggregate, handleCommand, type EventStore, type ProcessManager } from '@mlp/eventstore';
import type { MonitoringPolicy } from '@mlp/contracts';
import { monitorPolicyDecider, type PolicyCommand } from './monitor-policy.decide';
import { isLowerBetter } from './policy';

export const POLICY_REACTIONS_PM = 'monitoring.policy';

/**
 * Feeds the monitors' findings (stream `monitor-<model>`) to the model's
 * policy decider: DriftDetected / a clean DriftReportComputed, and
 * PerformanceDegraded / a PerformanceEvaluated within the policy; a
 * candidate arm's PerformanceEvaluated during a rollout also feeds the
 * canary rules. The decider dedupes, so a re-delivered event decides nothing twice.
 */
export function policyReactionsProcessManager(): ProcessManager {
  return {
    name: POLICY_REACTIONS_PM,
    filter: { category: categories.monitor },
    canHandle: (e) => ['DriftDetected', 'DriftReportComputed', 'PerformanceDegraded', 'PerformanceEvaluated'].includes(e.type),
    async handle(event, ctx) {
      const model = (event.data as { model: string }).model;
      const stream = streams.monitor(model);
      const meta: CommandMetadata = { now: event.occurredAt, correlationId: event.correlationId, causationId: event.id, actor: `process-manager:${POLICY_REACTIONS_PM}` };
      const cause = { eventId: event.id, type: event.type };
      const history = await ctx.store.readStream(stream);
      const state = aggregate(monitorPolicyDecider, history);
      if (state.status !== 'Active') return;
      for (const command of await commandsFor(event, state.policy, history, ctx.store, cause)) {
        await handleCommand(ctx.store, stream, monitorPolicyDecider, command, meta);
      }
    },
  };
}

async function commandsFor(event: RecordedEvent, policy: MonitoringPolicy, history: RecordedEvent[], store: EventStore, cause: { eventId: string; type: string }): Promise<PolicyCommand[]> {
  switch (event.type) {
    case 'DriftDetected': {
      const d = event.data as EventData<'DriftDetected'>;
      return [{ type: 'ObserveDrift', version: d.version, drifted: true, driftShare: d.driftShare, driftedFeatures: d.driftedFeatures, cause }];
    }
    case 'DriftReportComputed': {
      const d = event.data as EventData<'DriftReportComputed'>;
      if (d.datasetDrift || d.prediction?.drifted) return []; // DriftDetected follows
      return [{ type: 'ObserveDrift', version: d.version, drifted: false, driftShare: d.driftShare, driftedFeatures: [], cause }];
    }
    case 'PerformanceDegraded': {
      const d = event.data as EventData<'PerformanceDegraded'>;
      return [{ type: 'ObservePerformance', version: d.version, arm: d.arm, degraded: true, metric: d.metric, value: d.value, rule: d.rule, cause }];
    }
    case 'PerformanceEvaluated': {
      const d = event.data as EventData<'PerformanceEvaluated'>;
      const commands: PolicyCommand[] = [];
      const metric = policy.performance?.metric;
      if (metric && d.metrics[metric] !== undefined && withinPolicy(policy, metric, d.metrics[metric], d.reference[metric])) {
        commands.push({ type: 'ObservePerformance', version: d.version, arm: d.arm, degraded: false, metric, value: d.metrics[metric], cause });
      }
      if (d.arm === 'candidate' && policy.actions.canary) {
        const rollout = await activeRollout(store, d.model);
        if (rollout && rollout.candidateVersion === d.version) {
          commands.push({ type: 'ObserveCanary', deploymentId: rollout.deploymentId, version: d.version, predictions: d.seq, metrics: { candidate: d.metrics, stable: latestStableMetrics(history, event, rollout.stableVersion) }, cause });
        }
      }
      return commands;
    }
    default:
      return [];
  }
}

/** The policy's floor (`minimum`, a ceiling for lower-is-better metrics) and largest drop from the holdout value. */
export function withinPolicy(policy: MonitoringPolicy, metric: string, value: number, reference: number | undefined): boolean {
  const perf = policy.performance;
  if (!perf) return true;
  const lower = isLowerBetter(metric);
  if (perf.minimum !== undefined && (lower ? value > perf.minimum : value < perf.minimum)) return false;
  if (perf.maxDrop !== undefined && reference !== undefined && (lower ? value - reference : reference - value) > perf.maxDrop) return false;
  return true;
}

/** The rollout in progress for a model (DeploymentStarted without DeploymentCompleted), from `deployment-<model>`. */
export async function activeRollout(store: EventStore, model: string): Promise<EventData<'DeploymentStarted'> | undefined> {
  let active: EventData<'DeploymentStarted'> | undefined;
  for (const e of await store.readStream(streams.deployment(model))) {
    if (e.type === 'DeploymentStarted') active = e.data as EventData<'DeploymentStarted'>;
    else if (e.type === 'DeploymentCompleted' || e.type === 'DeploymentPromoted' || e.type === 'DeploymentRolledBack') active = undefined;
  }
  return active;
}

/** The stable version's latest window before `before`: its `stable` arm during the rollout, or its alias's arm (`production`) before it. */
function latestStableMetrics(history: RecordedEvent[], before: RecordedEvent, stableVersion: number): Record<string, number> {
  for (let i = history.length - 1; i >= 0; i--) {
    const e = history[i];
    if (e.position >= before.position && before.position >= 0) continue;
    if (e.type !== 'PerformanceEvaluated') continue;
    const d = e.data as EventData<'PerformanceEvaluated'>;
    if (d.version === stableVersion && d.arm !== 'candidate' && d.arm !== 'shadow') return d.metrics;
  }
  return {};
}
