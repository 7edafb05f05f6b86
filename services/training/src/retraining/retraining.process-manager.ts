import { categories, deterministicId, DomainError, streams, subjects, type EventData, type MonitoringPolicy, type RecordedEvent } from '@mlp/contracts';
import type { EventStore, ProcessManager, ProcessManagerContext } from '@mlp/eventstore';
import type { MlpClient } from '@mlp/messaging';
import { lowerIsBetter } from '@mlp/ml';
import type { StartRunInput } from '../runs/runs.service';

export const RETRAINING_PM = 'training.retraining';

/** What the manager needs of the training service: start a run under a fixed id. */
export interface RunStarter {
  start(input: StartRunInput, meta: { now: string; correlationId: string; causationId: string | null; actor: string }): Promise<{ runId: string }>;
}

type Trigger = EventData<'RetrainingTriggered'>;
type RpcMeta = { correlationId: string; causationId: string; actor: string };

/**
 * The retraining loop, driven by events only (checkpointed, so a restart
 * resumes where it stopped; every step is idempotent):
 *
 * 1. `RetrainingTriggered` (monitor-*) → a run from the spec of the run behind
 *    the model's latest version, on the latest accepted data (the dataset
 *    version pin is dropped), its id derived from the trigger and its events
 *    caused by the trigger; recorded as `RetrainingRunStarted` in `retraining-<trigger>`.
 * 2. `TrainingRunCompleted` of that run → if blessed, registered in the
 *    registry (the registry's own auto-registration may win the race; either
 *    way the version is found), `RetrainingVersionRegistered`; else `RetrainingEnded`.
 * 3. → serving is asked for a canary of the new version (start-deployment,
 *    auto, with the monitoring policy's canary rules), recorded as `CanaryDeploymentRequested`.
 */
export function retrainingProcessManager(deps: { runs: RunStarter; client: MlpClient }): ProcessManager {
  return {
    name: RETRAINING_PM,
    filter: 'all',
    canHandle: (e) => e.type === 'RetrainingTriggered' || e.type === 'TrainingRunCompleted' || e.type === 'TrainingRunFailed',
    async handle(event, ctx) {
      if (event.type === 'RetrainingTriggered') return startRetraining(event, ctx, deps.runs);
      const runId = (event.data as { runId: string }).runId;
      const started = await findStart(ctx.store, runId);
      if (!started) return; // not a retraining run
      const stream = streams.retraining(started.triggerId);
      const history = await ctx.store.readStream(stream);
      if (history.some((e) => e.type === 'RetrainingEnded' || e.type === 'CanaryDeploymentRequested')) return;
      const { triggerId, model } = started;
      const end = (outcome: EventData<'RetrainingEnded'>['outcome'], detail: string) => ctx.append(stream, [{ type: 'RetrainingEnded', data: { triggerId, model, outcome, detail: detail.slice(0, 2000) } }]);
      if (event.type === 'TrainingRunFailed') {
        await end('failed', `run ${runId} failed: ${(event.data as { error?: string }).error ?? 'unknown error'}`);
        return;
      }
      if (!(event.data as EventData<'TrainingRunCompleted'>).blessed) {
        await end('not-blessed', `run ${runId} did not pass its evaluation gate; the served version stays`);
        return;
      }
      const rpcMeta: RpcMeta = { correlationId: event.correlationId, causationId: event.id, actor: `process-manager:${RETRAINING_PM}` };
      // One append per handled event: the runner derives event ids from (manager, cause, index), so a second
      // append would reuse the first one's ids and be dropped as a duplicate. A crash before it repeats the
      // registration (the registry answers with the same version) and the canary request (serving refuses a second rollout).
      const version = await register(deps.client, model, runId, triggerId, rpcMeta);
      if (version === undefined) {
        await end('not-registered', `the registry did not register run ${runId}`);
        return;
      }
      const registered = { type: 'RetrainingVersionRegistered' as const, data: { triggerId, model, runId, version } };
      const canary = (await currentPolicy(ctx.store, model))?.actions.canary;
      const rules = canary?.rollbackIf ?? {};
      const requested = { type: 'CanaryDeploymentRequested' as const, data: { triggerId, model, version, percent: canary?.percent ?? 10, ...(canary ? { promoteAfter: canary.promoteAfter } : {}), rollbackIf: rules } };
      const deployment = {
        model,
        version,
        strategy: 'canary',
        weight: Math.max(1, Math.round(requested.data.percent)),
        auto: true,
        policy: {
          ...(canary ? { minRequests: canary.promoteAfter } : {}),
          ...(rules.errorRate !== undefined ? { maxErrorRate: rules.errorRate } : {}),
          metrics: metricBounds(rules, await productionMetrics(ctx.store, model)),
        },
        reason: `retraining ${triggerId}: version ${version} from run ${runId}`,
      };
      try {
        await deps.client.send(subjects.cmd.serving.startDeployment, deployment, rpcMeta);
      } catch (err) {
        // A refusal (a rollout in progress, nothing in production yet) ends the loop with the reason; transport failures are retried.
        if (!(err instanceof DomainError) || err.name === 'InfrastructureError') throw err;
        const detail = `serving refused the canary of version ${version}: ${err.code}: ${err.message}`.slice(0, 2000);
        await ctx.append(stream, [registered, { type: 'RetrainingEnded', data: { triggerId, model, outcome: 'canary-refused', detail } }]);
        return;
      }
      await ctx.append(stream, [registered, requested]);
    },
  };
}

async function startRetraining(event: RecordedEvent, ctx: ProcessManagerContext, runs: RunStarter): Promise<void> {
  const trigger = event.data as Trigger;
  const stream = streams.retraining(trigger.triggerId);
  if (await ctx.store.streamExists(stream)) return;
  const source = await latestSpec(ctx.store, trigger.model);
  if (!source) {
    await ctx.append(stream, [{ type: 'RetrainingEnded', data: { triggerId: trigger.triggerId, model: trigger.model, outcome: 'no-spec', detail: `no training run of '${trigger.model}' to take the spec from` } }]);
    return;
  }
  const runId = deterministicId('retraining-run', trigger.triggerId);
  // A restart between the start and the record below finds the run and only records it.
  if (!(await ctx.store.streamExists(streams.run(runId)))) {
    await runs.start({ spec: onLatestData(source.spec), runId }, { now: new Date().toISOString(), correlationId: event.correlationId, causationId: event.id, actor: `process-manager:${RETRAINING_PM}` });
  }
  await ctx.append(stream, [{ type: 'RetrainingRunStarted', data: { triggerId: trigger.triggerId, model: trigger.model, runId, sourceRunId: source.runId, reason: trigger.reason.message } }]);
}

/** The spec with its data version pins dropped: the run resolves the latest accepted dataset version. */
export function onLatestData(spec: Record<string, unknown>): Record<string, unknown> {
  const copy = structuredClone(spec) as { data?: { dataset?: { version?: number }; trainingSet?: { entities?: { version?: number } } } };
  if (copy.data?.dataset) delete copy.data.dataset.version;
  if (copy.data?.trainingSet?.entities) delete copy.data.trainingSet.entities.version;
  return copy as Record<string, unknown>;
}

/** The spec of the run behind the model's latest version, else of the experiment's latest run. */
async function latestSpec(store: EventStore, model: string): Promise<{ runId: string; spec: Record<string, unknown> } | undefined> {
  const versions = (await store.readStream(streams.model(model))).filter((e) => e.type === 'ModelVersionRegistered');
  for (const runId of versions.map((e) => (e.data as { runId: string }).runId).reverse()) {
    const requested = (await store.readStream(streams.run(runId))).find((e) => e.type === 'TrainingRunRequested');
    if (requested) return { runId, spec: (requested.data as EventData<'TrainingRunRequested'>).spec };
  }
  let latest: { runId: string; spec: Record<string, unknown> } | undefined;
  await scan(store, categories.run, (e) => {
    const d = e.data as EventData<'TrainingRunRequested'>;
    if (e.type === 'TrainingRunRequested' && d.experiment === model) latest = { runId: d.runId, spec: d.spec };
  });
  return latest;
}

async function findStart(store: EventStore, runId: string): Promise<EventData<'RetrainingRunStarted'> | undefined> {
  let found: EventData<'RetrainingRunStarted'> | undefined;
  await scan(store, categories.retraining, (e) => {
    if (e.type === 'RetrainingRunStarted' && (e.data as { runId: string }).runId === runId) found = e.data as EventData<'RetrainingRunStarted'>;
  });
  return found;
}

async function scan(store: EventStore, category: string, visit: (e: RecordedEvent) => void): Promise<void> {
  for (let from = 1; ; ) {
    const page = await store.readAll({ fromPosition: from, maxCount: 1000, filter: { category } });
    for (const e of page) visit(e);
    if (page.length < 1000) return;
    from = page[page.length - 1].position + 1;
  }
}

async function register(client: MlpClient, model: string, runId: string, triggerId: string, rpcMeta: RpcMeta): Promise<number | undefined> {
  try {
    return (await client.send<{ version: number }>(subjects.cmd.registry.registerVersion, { name: model, runId, tags: { retrainingTrigger: triggerId } }, rpcMeta)).version;
  } catch (err) {
    const e = err as { code?: string; details?: { version?: number } };
    if (e.code === 'RUN_ALREADY_REGISTERED' && typeof e.details?.version === 'number') return e.details.version;
    if (err instanceof DomainError && err.name !== 'InfrastructureError') return undefined;
    throw err;
  }
}

async function currentPolicy(store: EventStore, model: string): Promise<MonitoringPolicy | undefined> {
  const applied = (await store.readStream(streams.monitor(model))).filter((e) => e.type === 'MonitoringPolicyApplied');
  return (applied[applied.length - 1]?.data as EventData<'MonitoringPolicyApplied'> | undefined)?.policy;
}

/** Holdout metrics of the version `production` points at (the stable arm of the canary). */
async function productionMetrics(store: EventStore, model: string): Promise<Record<string, number>> {
  let production: number | undefined;
  const metrics = new Map<number, Record<string, number>>();
  for (const e of await store.readStream(streams.model(model))) {
    const d = e.data as { version: number; alias?: string; metrics?: Record<string, number> };
    if (e.type === 'ModelVersionRegistered') metrics.set(d.version, d.metrics ?? {});
    if (e.type === 'ModelAliasAssigned' && d.alias === 'production') production = d.version;
    if (e.type === 'ModelAliasRemoved' && d.alias === 'production') production = undefined;
  }
  return production === undefined ? {} : (metrics.get(production) ?? {});
}

/** `<metric>_drop: d` → the candidate's live metric must stay within d of the stable version's holdout value. */
export function metricBounds(rules: Record<string, number>, stable: Record<string, number>): { metric: string; op: '>=' | '<='; value: number }[] {
  return Object.entries(rules)
    .filter(([rule]) => rule.endsWith('_drop'))
    .map(([rule, drop]) => ({ metric: rule.slice(0, -'_drop'.length), drop }))
    .filter(({ metric }) => stable[metric] !== undefined)
    .map(({ metric, drop }) => (lowerIsBetter.has(metric) ? { metric, op: '<=' as const, value: stable[metric] + drop } : { metric, op: '>=' as const, value: stable[metric] - drop }));
}
