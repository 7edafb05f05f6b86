import type { ArtifactStore } from '@mlp/artifacts';
import { deterministicId, streams, toNewEvent, type EventData, type RecordedEvent } from '@mlp/contracts';
import { codeVersion, type EventStore, type ProcessManager } from '@mlp/eventstore';
import { lowerIsBetter, modelSpecFor, parseTrainingSpec, primaryMetric } from '@mlp/ml';
import { runDecider, type RunCommand } from '../runs/run.decide';
import type { RunEvent } from '../runs/run';
import { onlineFit, type OnlineFitResult } from './online-fit';

export const ONLINE_LEARNING_PM = 'training.online-learning';
/** Epochs of one online update, from the served weights. */
export const ONLINE_EPOCHS = 5;

/**
 * Online learning, on the retraining path: `OnlineUpdateRequested` →
 * `RetrainingRunStarted` (trigger id derived from the update, source run =
 * the served version's run) → `onlineFit` from that version's weights on the
 * update rows → a run recorded through the run decider (TrainingRunRequested
 * whose data is the rows artifact and whose inputs name the base weights,
 * ModelEvaluated on a held-out 20% of the rows against the served version,
 * TrainingRunCompleted; or TrainingRunFailed). From there the retraining
 * manager registers a blessed run and asks for a canary as for any retrain.
 * The served version's artifacts are only read.
 */
export function onlineLearningProcessManager(deps: { artifacts: ArtifactStore }): ProcessManager {
  return {
    name: ONLINE_LEARNING_PM,
    filter: 'all',
    canHandle: (e) => e.type === 'OnlineUpdateRequested',
    async handle(event, ctx) {
      const update = event.data as EventData<'OnlineUpdateRequested'>;
      const triggerId = deterministicId('online-update', update.model, update.updateId);
      const runId = deterministicId('online-run', triggerId);
      if (await ctx.store.streamExists(streams.run(runId))) return; // handled before a restart
      const base = await baseRun(ctx.store, update.model, update.version);
      const stream = streams.retraining(triggerId);
      if (!base) {
        await ctx.append(stream, [{ type: 'RetrainingEnded', data: { triggerId, model: update.model, outcome: 'no-spec', detail: `version ${update.version} of '${update.model}' has no completed training run to continue from` } }]);
        return;
      }
      // Recorded before the run, so the retraining manager knows the run when it completes.
      await ctx.append(stream, [{ type: 'RetrainingRunStarted', data: { triggerId, model: update.model, runId, sourceRunId: base.runId, reason: `online update ${update.updateId}: ${update.rows} labelled rows on version ${update.version}` } }]);
      const spec = parseTrainingSpec(base.requested.spec);
      const request: EventData<'TrainingRunRequested'> = {
        ...base.requested,
        runId,
        seed: parseInt(update.sha256.slice(0, 8), 16) & 0x7fffffff,
        inputs: [...base.requested.inputs, { ref: `model:${update.model}@${update.version}`, sha256: base.completed.weightsSha256 }, { ref: `online-rows:${update.updateId}`, sha256: update.sha256 }],
        data: { artifactKey: update.rowsArtifactKey, sha256: update.sha256, rows: update.rows },
        codeVersion: codeVersion(),
        coordinator: `process-manager:${ONLINE_LEARNING_PM}`,
      };
      const commands: RunCommand[] = [{ type: 'RequestRun', data: request }];
      try {
        const fit = await onlineFit(deps.artifacts, {
          base: { modelKey: base.completed.modelArtifactKey, preprocessingKey: base.completed.preprocessingArtifactKey, weightsSha256: base.completed.weightsSha256 },
          model: modelSpecFor(spec, base.completed.params),
          rowsArtifactKey: update.rowsArtifactKey,
          epochs: ONLINE_EPOCHS,
          seed: request.seed,
        });
        commands.push(await completion(deps.artifacts, runId, primaryMetric(spec), update, base, fit));
      } catch (err) {
        commands.push({ type: 'FailRun', error: (err instanceof Error ? err.message : String(err)).slice(0, 2000), code: 'ONLINE_UPDATE_FAILED' });
      }
      // The run's events through its decider, appended once (ids derived from the run): a crash before this repeats the fit.
      let state = runDecider.initialState();
      const decided: RunEvent[] = [];
      for (const c of commands) {
        const events = runDecider.decide(c, state);
        state = events.reduce(runDecider.evolve, state);
        decided.push(...events);
      }
      const meta = { now: new Date().toISOString(), correlationId: event.correlationId, causationId: event.id, actor: `process-manager:${ONLINE_LEARNING_PM}` };
      await ctx.store.appendToStream(
        streams.run(runId),
        decided.map((e, i) => toNewEvent(e, meta, { codeVersion: codeVersion(), id: deterministicId(ONLINE_LEARNING_PM, runId, String(i)) })),
        { expectedRevision: 'no_stream' },
      );
    },
  };
}

type BaseRun = { runId: string; requested: EventData<'TrainingRunRequested'>; completed: EventData<'TrainingRunCompleted'> };

/** The run behind a registered version, with its request and completion. */
async function baseRun(store: EventStore, model: string, version: number): Promise<BaseRun | undefined> {
  const registered = (await store.readStream(streams.model(model))).find((e) => e.type === 'ModelVersionRegistered' && (e.data as { version: number }).version === version);
  const runId = (registered?.data as { runId?: string } | undefined)?.runId;
  if (!runId) return undefined;
  const events = await store.readStream(streams.run(runId));
  const find = <T extends 'TrainingRunRequested' | 'TrainingRunCompleted'>(type: T) => events.find((e: RecordedEvent) => e.type === type)?.data as EventData<T> | undefined;
  const [requested, completed] = [find('TrainingRunRequested'), find('TrainingRunCompleted')];
  return requested && completed ? { runId, requested, completed } : undefined;
}

/** Evaluation (blessed when the primary metric is no worse than the served version's on the held-out rows), report and card. */
async function completion(artifacts: ArtifactStore, runId: string, metric: string, update: EventData<'OnlineUpdateRequested'>, base: BaseRun, fit: OnlineFitResult): Promise<RunCommand> {
  const value = fit.evaluation.metrics[metric];
  const was = fit.evaluation.baseMetrics[metric];
  const delta = value === undefined || was === undefined ? undefined : lowerIsBetter.has(metric) ? was - value : value - was;
  const passed = delta !== undefined && delta >= 0;
  const rule = `no worse than version ${update.version} on ${fit.evaluation.rows} held-out update rows`;
  const put = async (body: string, contentType: string) => (await artifacts.put(Buffer.from(body), { contentType, size: Buffer.byteLength(body) })).key;
  const report = { runId, kind: 'online-update', updateId: update.updateId, baseRunId: base.runId, baseVersion: update.version, baseWeightsSha256: fit.baseWeightsSha256, rows: fit.rows, skipped: fit.skipped, heldOut: fit.evaluation, loss: fit.loss, blessed: passed };
  const card = `# ${update.model}: online update of version ${update.version}\n\nContinued from run ${base.runId} (weights ${fit.baseWeightsSha256}) for ${fit.loss.length} epochs on ${fit.rows} labelled feedback rows (${update.rowsArtifactKey}).\n${metric} on ${fit.evaluation.rows} held-out update rows: ${value} (version ${update.version}: ${was}).\n`;
  return {
    type: 'CompleteRun',
    evaluation: {
      runId,
      metrics: fit.evaluation.metrics,
      slices: {},
      fairness: {},
      baseline: { kind: 'production', model: update.model, version: update.version, metrics: fit.evaluation.baseMetrics },
      comparison: { [metric]: { value: value ?? Number.NaN, ...(was !== undefined ? { baseline: was } : {}), ...(delta !== undefined ? { delta } : {}), passed, rule } },
      blessed: passed,
      ...(passed ? {} : { gateFailures: [`${metric} ${value} fails "${rule}" (version ${update.version}: ${was})`] }),
    },
    completed: {
      runId,
      params: base.completed.params,
      metrics: fit.evaluation.metrics,
      modelArtifactKey: fit.modelKey,
      weightsArtifactKey: fit.weightsKey,
      weightsSha256: fit.weightsSha256,
      preprocessingArtifactKey: fit.preprocessingKey,
      reportArtifactKey: await put(JSON.stringify(report), 'application/json'),
      modelCardArtifactKey: await put(card, 'text/markdown'),
      blessed: passed,
    },
  };
}
