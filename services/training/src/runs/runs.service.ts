import { randomUUID } from 'node:crypto';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { ArtifactStore } from '@mlp/artifacts';
import {
  DomainError,
  IllegalStateError,
  InfrastructureError,
  NotFoundError,
  streams,
  subjects,
  type CommandMetadata,
  type EventData,
  type TrainingSetResult,
} from '@mlp/contracts';
import { aggregate, codeVersion, handleCommand, type EventStore } from '@mlp/eventstore';
import { MLP_CLIENT, type MlpClient } from '@mlp/messaging';
import {
  createSampler,
  initBackend,
  lowerIsBetter,
  MedianPruner,
  parseSearchSpace,
  parseTrainingSpec,
  parseTrainingSpecYaml,
  primaryMetric,
  runTrial,
  SeededRng,
  seeds,
  type TrainingSpec,
  type TrialRecord,
} from '@mlp/ml';
import { ARTIFACT_STORE, EVENT_STORE, resolveDatasetVersion } from '@mlp/service-kit';
import { TRAINING_CONFIG, type TrainingConfig } from '../training-config';
import { TRIAL_QUEUE, type TrialDelivery, type TrialQueue } from '../queue/trial-queue';
import { storeModel } from '../engine/model-bundle';
import { buildRunContext, RunContextCache, type RunContext } from './run-context';
import { runDecider, type RunCommand } from './run.decide';
import { completedTrials, type RunState } from './run';
import { evaluateFinalModel, fitFinalModel } from './final-model';
import { modelCard } from './model-card';
import { RunsQueryService } from './runs-query.service';

const POLL_MS = 200;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface StartRunInput {
  yaml?: string;
  spec?: unknown;
}

export interface ReplayResult {
  runId: string;
  identical: boolean;
  original: string;
  replayed: string;
  backend: string;
}

/**
 * Training runs: accepts a spec, records everything needed to reproduce the
 * run, coordinates its search (batch-synchronous, so the suggested trials
 * depend only on the seed and the completed batches, never on timing), works
 * trials from the shared queue, fits and evaluates the final model and stores
 * its artifacts. A restarted instance resumes the runs it coordinated.
 */
@Injectable()
export class RunsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly contexts = new RunContextCache();
  private readonly coordinating = new Map<string, Promise<void>>();
  /** Runs this process knows are being cancelled (checked between epochs). */
  private readonly cancelled = new Set<string>();
  private stopping = false;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(ARTIFACT_STORE) private readonly artifacts: ArtifactStore,
    @Inject(MLP_CLIENT) private readonly client: MlpClient,
    @Inject(TRAINING_CONFIG) private readonly config: TrainingConfig,
    @Inject(TRIAL_QUEUE) private readonly queue: TrialQueue,
    private readonly queries: RunsQueryService,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.work((d) => this.executeTrial(d), this.config.MLP_TRAINING_WORKERS);
    void this.resumeMine();
  }

  /** Stops running trials at their next epoch, then closes the queue (unacked trials go to other workers). */
  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.queue.close();
  }

  // ------------------------------------------------------------ commands

  async start(input: StartRunInput, meta: CommandMetadata): Promise<{ runId: string; experiment: string; status: string }> {
    const spec = input.yaml !== undefined ? parseTrainingSpecYaml(input.yaml) : parseTrainingSpec(input.spec);
    const backend = await initBackend(spec.backend);
    const data = await this.resolveData(spec, meta);
    const runId = randomUUID();
    await this.ensureExperiment(spec.experiment, meta);
    await this.command(runId, {
      type: 'RequestRun',
      data: {
        runId,
        experiment: spec.experiment,
        spec: spec as unknown as Record<string, unknown>,
        seed: spec.seed,
        inputs: data.inputs,
        data: data.data,
        featureViews: data.featureViews,
        backend: backend.backend,
        simd: backend.simd,
        libraries: { '@tensorflow/tfjs': backend.tfjsVersion, node: process.version },
        codeVersion: codeVersion(),
        coordinator: this.config.instance,
      },
    }, meta);
    this.coordinate(runId, meta);
    return { runId, experiment: spec.experiment, status: 'Running' };
  }

  async cancel(runId: string, reason: string | undefined, meta: CommandMetadata): Promise<{ runId: string; status: string }> {
    await this.command(runId, { type: 'RequestCancel', ...(reason ? { reason } : {}) }, meta);
    this.cancelled.add(runId);
    return { runId, status: 'Cancelling' };
  }

  /** Re-executes the final fit from the recorded events and inputs and compares the weights' sha256. */
  async replay(runId: string, meta: CommandMetadata): Promise<ReplayResult> {
    const state = await this.state(runId);
    if (state.status === 'None') throw new NotFoundError(`run ${runId} does not exist`, { code: 'RUN_NOT_FOUND' });
    if (state.status !== 'Completed' || !state.completed) throw new IllegalStateError(`run ${runId} is ${state.status}; only completed runs can be replayed`, { code: 'RUN_NOT_COMPLETED' });
    const ctx = await buildRunContext(this.artifacts, state.request);
    if (state.split && ctx.plan.indicesSha256 !== state.split.indicesSha256) {
      throw new IllegalStateError(`replay split the data differently (indices sha256 ${ctx.plan.indicesSha256} vs ${state.split.indicesSha256})`, { code: 'REPLAY_DIVERGED' });
    }
    const trained = await fitFinalModel(ctx, state.completed.params);
    try {
      const replayed = await trained.model.weightsSha256();
      const backend = await initBackend(ctx.spec.backend);
      const original = state.completed.weightsSha256;
      await this.command(runId, { type: 'RecordReplay', data: { runId, identical: replayed === original, original, replayed, backend: backend.backend, simd: backend.simd } }, meta);
      return { runId, identical: replayed === original, original, replayed, backend: backend.backend };
    } finally {
      trained.model.dispose();
    }
  }

  async state(runId: string): Promise<RunState> {
    return aggregate(runDecider, await this.store.readStream(streams.run(runId)));
  }

  // ------------------------------------------------------------ data

  private async resolveData(spec: TrainingSpec, meta: CommandMetadata) {
    if (spec.data.dataset) {
      const v = await resolveDatasetVersion(this.store, spec.data.dataset.name, spec.data.dataset.version);
      return {
        inputs: [{ ref: `dataset:${v.dataset}@${v.version}`, sha256: v.sha256 }],
        data: { artifactKey: v.artifactKey, sha256: v.sha256, rows: v.accepted },
        featureViews: [],
      };
    }
    const ts = spec.data.trainingSet!;
    const built = await this.client.send<TrainingSetResult>(subjects.cmd.featureStore.buildTrainingSet, { entities: ts.entities, timestampColumn: ts.timestampColumn, features: ts.features }, meta, { timeoutMs: 120_000 });
    const featureViews = built.inputs
      .map((i) => /^featureview:([^@]+)@(\d+)/.exec(i.ref))
      .filter((m): m is RegExpExecArray => !!m)
      .map((m) => ({ name: m[1], version: Number(m[2]) }));
    return {
      inputs: [...built.inputs, { ref: `trainingset:${built.trainingSetId}`, sha256: built.sha256 }],
      data: { artifactKey: built.artifactKey, sha256: built.sha256, rows: built.rows, trainingSetId: built.trainingSetId },
      featureViews,
    };
  }

  private async ensureExperiment(experiment: string, meta: CommandMetadata): Promise<void> {
    await handleCommand(
      this.store,
      streams.experiment(experiment),
      {
        initialState: () => false,
        evolve: () => true,
        decide: (_c: null, exists: boolean) => (exists ? [] : [{ type: 'ExperimentCreated' as const, data: { experiment } }]),
      },
      null,
      meta,
    );
  }

  private context(runId: string, request: EventData<'TrainingRunRequested'>): Promise<RunContext> {
    return this.contexts.get(runId, () => buildRunContext(this.artifacts, request));
  }

  private command(runId: string, command: RunCommand, meta: CommandMetadata) {
    // Workers and the coordinator append to one run stream concurrently: retry conflicts generously.
    return handleCommand(this.store, streams.run(runId), runDecider, command, meta, { maxRetries: 25 });
  }

  // ------------------------------------------------------------ coordination

  private coordinate(runId: string, meta: CommandMetadata): void {
    if (this.coordinating.has(runId)) return;
    const job = this.runSearch(runId, meta)
      .catch(async (err: unknown) => {
        if (this.stopping) return;
        const message = err instanceof Error ? err.message : String(err);
        await this.command(runId, { type: 'FailRun', error: message, ...(err instanceof DomainError ? { code: err.code } : {}) }, meta).catch(() => undefined);
      })
      .finally(() => {
        this.coordinating.delete(runId);
        this.contexts.drop(runId);
      });
    this.coordinating.set(runId, job);
  }

  /** Resolves when the run this instance coordinates has ended (tests and the embedded demo wait on it). */
  async settled(runId: string): Promise<void> {
    await this.coordinating.get(runId);
  }

  /** Runs this instance coordinated that were still running when it stopped: resume them from their events. */
  private async resumeMine(): Promise<void> {
    for (const run of this.queries.list({ limit: Number.MAX_SAFE_INTEGER })) {
      if ((run.status === 'Running' || run.status === 'Cancelling') && run.coordinator === this.config.instance) {
        this.coordinate(run.runId, { now: new Date().toISOString(), correlationId: run.runId, causationId: null, actor: this.config.instance });
      }
    }
  }

  private async runSearch(runId: string, meta: CommandMetadata): Promise<void> {
    let state = await this.state(runId);
    if (state.status !== 'Running') return;
    const ctx = await this.context(runId, state.request);
    const { spec, prepared, plan } = ctx;
    if (!state.prepared) {
      await this.command(
        runId,
        {
          type: 'RecordPreparation',
          prepared: { runId, rows: prepared.rows, droppedMissingLabel: prepared.droppedMissingLabel, features: Object.keys(prepared.features), dropped: prepared.dropped, warnings: prepared.warnings, classes: prepared.classes },
          split: {
            runId,
            method: spec.split.method,
            sizes: { train: plan.holdout.train.length, test: plan.holdout.test.length },
            indicesSha256: plan.indicesSha256,
            cv: { method: spec.cv?.method ?? 'holdout', folds: plan.folds.length },
          },
        },
        meta,
      );
    }
    const metric = primaryMetric(spec);
    const direction = lowerIsBetter.has(metric) ? 'minimize' : 'maximize';
    const search = spec.search;
    const sampler = search ? createSampler(search.method, parseSearchSpace(search.space), search.method === 'tpe' ? { direction } : search.method === 'grid' && search.gridSize ? { grid: search.gridSize } : undefined) : undefined;
    const total = search?.trials ?? 1;
    const parallel = search?.parallelism ?? 1;
    for (let next = 0, batch = 0; next < total; batch++) {
      state = await this.state(runId);
      if (await this.stopIfCancelled(runId, state, meta)) return;
      // Only trials of earlier batches inform the suggestions: the same seed gives the same batches on resume.
      const history: TrialRecord[] = completedTrials(state)
        .filter((t) => t.trial < next)
        .map((t) => ({ number: t.trial, params: t.params as TrialRecord['params'], state: t.status, ...(t.metrics[metric] !== undefined ? { value: t.metrics[metric] } : {}) }));
      const n = Math.min(parallel, total - next);
      const params = sampler ? sampler.suggestBatch(history, n, new SeededRng((seeds.search(spec.seed) + batch) >>> 0)) : [{}];
      if (params.length === 0) break;
      const numbers = params.map((_, i) => next + i);
      const trials = state.status === 'None' ? {} : state.trials;
      for (const [i, p] of params.entries()) if (!trials[numbers[i]]?.completed) await this.queue.enqueue({ runId, trial: numbers[i], params: p });
      if (!(await this.waitForTrials(runId, numbers, meta))) return;
      next += params.length;
    }
    state = await this.state(runId);
    if (await this.stopIfCancelled(runId, state, meta)) return;
    const done = completedTrials(state).filter((t) => t.status !== 'failed' && t.metrics[metric] !== undefined);
    if (done.length === 0) {
      const errors = completedTrials(state).map((t) => t.error).filter(Boolean);
      throw new IllegalStateError(`no trial completed: ${errors[0] ?? `no trial reported ${metric}`}`, { code: 'NO_TRIAL_COMPLETED' });
    }
    const best = [...done].sort((a, b) => (direction === 'minimize' ? a.metrics[metric] - b.metrics[metric] : b.metrics[metric] - a.metrics[metric]) || a.trial - b.trial)[0];
    await this.finish(runId, ctx, best, meta);
  }

  private async stopIfCancelled(runId: string, state: RunState, meta: CommandMetadata): Promise<boolean> {
    if (state.status !== 'Running') return true;
    if (!state.cancelRequested) return false;
    this.cancelled.add(runId);
    await this.command(runId, { type: 'ConfirmCancel', reason: 'cancelled on request' }, meta);
    return true;
  }

  /** Polls the run until every trial in `numbers` completed; false when the run ended or was cancelled meanwhile. */
  private async waitForTrials(runId: string, numbers: number[], meta: CommandMetadata): Promise<boolean> {
    for (;;) {
      if (this.stopping) return false;
      const state = await this.state(runId);
      if (state.status !== 'Running') return false;
      if (state.cancelRequested) {
        await this.stopIfCancelled(runId, state, meta);
        return false;
      }
      if (numbers.every((n) => state.trials[n]?.completed)) return true;
      await sleep(POLL_MS);
    }
  }

  private async finish(runId: string, ctx: RunContext, best: EventData<'TrialCompleted'>, meta: CommandMetadata): Promise<void> {
    let pending: { epoch: number; metrics: Record<string, number> }[] = [];
    const trained = await fitFinalModel(ctx, best.params, async (e) => {
      pending.push(e);
      if (pending.length >= 10) {
        const epochs = pending;
        pending = [];
        await this.command(runId, { type: 'RecordEpochs', data: { runId, attempt: 1, epochs } }, meta);
      }
      if (this.cancelled.has(runId)) throw new IllegalStateError('cancelled', { code: 'RUN_CANCELLING' });
    });
    try {
      if (pending.length) await this.command(runId, { type: 'RecordEpochs', data: { runId, attempt: 1, epochs: pending } }, meta);
      const evaluation = await evaluateFinalModel(ctx, trained, this.store, this.artifacts);
      const { spec, prepared } = ctx;
      const stored = await storeModel(this.artifacts, trained, { task: spec.task, label: spec.data.label, inputColumns: Object.keys(prepared.features), classes: prepared.classes });
      const state = await this.state(runId);
      if (state.status !== 'Running' || !state.prepared || !state.split) throw new IllegalStateError(`run ${runId} ended while finishing`, { code: 'RUN_ENDED' });
      const reportBytes = Buffer.from(JSON.stringify({ ...evaluation.report, weightsSha256: stored.weightsSha256, params: best.params, bestTrial: best.trial }, null, 2));
      const report = await this.artifacts.put(reportBytes, { contentType: 'application/json', size: reportBytes.length });
      const card = Buffer.from(
        modelCard({ request: state.request, prepared: state.prepared, split: state.split, trials: completedTrials(state), evaluation: evaluation.data, params: best.params, weightsSha256: stored.weightsSha256 }),
      );
      const cardKey = await this.artifacts.put(card, { contentType: 'text/markdown', size: card.length });
      await this.command(
        runId,
        {
          type: 'CompleteRun',
          evaluation: evaluation.data,
          completed: {
            runId,
            ...(ctx.spec.search ? { bestTrial: best.trial } : {}),
            params: best.params,
            metrics: evaluation.data.metrics,
            modelArtifactKey: stored.modelKey,
            weightsArtifactKey: stored.weightsKey,
            weightsSha256: stored.weightsSha256,
            preprocessingArtifactKey: stored.preprocessingKey,
            reportArtifactKey: report.key,
            modelCardArtifactKey: cardKey.key,
            blessed: evaluation.data.blessed,
          },
        },
        meta,
      );
    } finally {
      trained.model.dispose();
    }
  }

  // ------------------------------------------------------------ worker

  /** One trial from the queue. Throws only for infrastructure failures (the queue then redelivers it). */
  private async executeTrial(delivery: TrialDelivery): Promise<void> {
    const { runId, trial, params } = delivery.message;
    const meta: CommandMetadata = { now: new Date().toISOString(), correlationId: runId, causationId: null, actor: this.config.instance };
    const state = await this.state(runId);
    if (state.status !== 'Running' || state.cancelRequested || state.trials[trial]?.completed) return;
    const ctx = await this.context(runId, state.request);
    try {
      await this.command(runId, { type: 'StartTrial', data: { runId, trial, params, attempt: delivery.attempt, worker: this.config.instance } }, meta);
    } catch (err) {
      if (err instanceof IllegalStateError) return; // ended, cancelling or already done
      throw err;
    }
    const { spec } = ctx;
    const metric = primaryMetric(spec);
    const direction = lowerIsBetter.has(metric) ? 'minimize' : 'maximize';
    const pruning = spec.search?.pruning;
    const cumulative = (folds: readonly Record<string, number>[]) => folds.map((_, k) => folds.slice(0, k + 1).reduce((s, f) => s + (f[metric] ?? Number.NaN), 0) / (k + 1));
    let result;
    try {
      result = await runTrial(ctx.prepared, spec, ctx.plan.folds, params, seeds.trial(spec.seed, trial), {
        shouldStop: () => this.cancelled.has(runId) || this.stopping,
        afterFold: async (fold, scores, epochs) => {
          delivery.heartbeat();
          if (epochs.length) await this.command(runId, { type: 'RecordEpochs', data: { runId, trial, fold, attempt: delivery.attempt, epochs } }, meta);
          const now = await this.state(runId);
          if (now.status !== 'Running' || now.cancelRequested) {
            this.cancelled.add(runId);
            return false;
          }
          if (!pruning) return false;
          const others = completedTrials(now).filter((t) => t.trial !== trial && t.status === 'complete').map((t) => cumulative(t.folds));
          return new MedianPruner({ direction, nStartupTrials: pruning.startupTrials }).shouldPrune(cumulative(scores), others);
        },
      });
    } catch (err) {
      if (this.stopping) throw err;
      if (err instanceof IllegalStateError && (err.code === 'RUN_ENDED' || err.code === 'RUN_CANCELLING')) return;
      // Infrastructure trouble: leave the trial to the queue, which delivers it again.
      if (err instanceof InfrastructureError || !(err instanceof Error)) throw err;
      await this.command(runId, { type: 'CompleteTrial', data: { runId, trial, params, status: 'failed', metrics: {}, std: {}, folds: [], pruned: false, error: err.message, worker: this.config.instance } }, meta).catch(() => undefined);
      return;
    }
    if (this.stopping) throw new Error('worker stopping');
    if (this.cancelled.has(runId)) return;
    await this.command(
      runId,
      { type: 'CompleteTrial', data: { runId, trial, params, status: result.status, metrics: result.metrics, std: result.std, folds: result.folds, pruned: result.status === 'pruned', worker: this.config.instance } },
      meta,
    ).catch((err: unknown) => {
      if (!(err instanceof IllegalStateError)) throw err;
    });
  }
}
