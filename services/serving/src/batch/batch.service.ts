import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { ArtifactStore } from '@mlp/artifacts';
import { categories, NotFoundError, parseOrThrow, startBatchInferenceSchema, streams, ValidationError, type BatchJobView, type CommandMetadata } from '@mlp/contracts';
import { handleCommand, type EventStore } from '@mlp/eventstore';
import { ARTIFACT_STORE, EVENT_STORE, resolveDatasetVersion } from '@mlp/service-kit';
import { loadVersion } from '../models/loaded-version';
import type { VersionInfo } from '../models/served-models';
import { ServingRuntime } from '../serving-runtime';
import { batchJobDecider, batchJobView, type BatchJob, type BatchJobEvent } from './batch-job';
import { resolveBatchModel } from './batch-model';
import { BatchRunner, disposePrepared, openInput, planColumns, type PreparedRun } from './batch-runner';

/** How many jobs' folds {@link BatchService.view} keeps. */
const FOLDS_KEPT = 256;

/**
 * Batch inference jobs of this serving instance. A submitted job is checked
 * (model version, input readable, every model input a column), recorded as
 * BatchInferenceStarted and queued; jobs run one at a time per instance, in
 * the background, on the saved pipeline and model of the version the job
 * resolved. On start the instance reads the `batch` category and queues
 * every job that started and never finished, so a process killed mid-job
 * resumes it from its last checkpoint. Shutdown stops the running job at
 * the next chunk boundary, leaving it to resume.
 */
@Injectable()
export class BatchService implements OnApplicationBootstrap, OnApplicationShutdown {
  readonly runner: BatchRunner;
  private queue: Promise<void> = Promise.resolve();
  private readonly queued = new Set<string>();
  private readonly abort = new AbortController();
  private readonly tmpDir: string;
  /** Folds of recently viewed jobs, least recently updated first. */
  private readonly folds = new Map<string, { state: BatchJob; revision: number; startedAt: string; updatedAt: string }>();

  constructor(
    private readonly runtime: ServingRuntime,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(ARTIFACT_STORE) private readonly artifacts: ArtifactStore,
  ) {
    this.tmpDir = join(resolve(runtime.config.home), 'tmp', 'batch');
    this.runner = new BatchRunner({
      store,
      artifacts,
      load: (info: VersionInfo) => loadVersion(store, artifacts, info, runtime.config.backend),
      instance: runtime.config.instance,
      tmpDir: this.tmpDir,
      logger: runtime.logger,
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    const jobs = await this.unfinished();
    // Temp dirs of runs that were killed (input copy, DuckDB spill, parts) go before their jobs run again.
    const leftovers = await readdir(this.tmpDir).catch(() => [] as string[]);
    for (const name of leftovers) if (jobs.some((jobId) => name.startsWith(`batch-${jobId}-`))) await rm(join(this.tmpDir, name), { recursive: true, force: true });
    for (const jobId of jobs) this.enqueue(jobId);
  }

  async onApplicationShutdown(): Promise<void> {
    this.abort.abort();
    await this.queue;
  }

  /** Checks and records a new job, queues it, and returns its view (202). */
  async start(body: unknown, meta: CommandMetadata): Promise<BatchJobView> {
    const t0 = performance.now();
    const dto = parseOrThrow(startBatchInferenceSchema, body, 'batch inference request');
    const { info, alias } = await resolveBatchModel(this.store, dto.model);
    let input: { kind: 'upload' | 'dataset'; artifactKey: string; sha256?: string; dataset?: { name: string; version: number } };
    if ('upload' in dto.input) {
      if (!(await this.artifacts.exists(dto.input.upload))) throw new NotFoundError(`no uploaded input ${dto.input.upload}: POST the file to /batch/inputs first`, { code: 'INPUT_NOT_FOUND' });
      input = { kind: 'upload', artifactKey: dto.input.upload };
    } else {
      const v = await resolveDatasetVersion(this.store, dto.input.dataset, dto.input.version);
      input = { kind: 'dataset', artifactKey: v.artifactKey, sha256: v.sha256, dataset: { name: dto.input.dataset, version: v.version } };
    }
    await mkdir(this.tmpDir, { recursive: true });
    const jobId = randomUUID();
    // Named as the job's run dir: a process killed while the job runs from it has it removed on its next start.
    const dir = await mkdtemp(join(this.tmpDir, `batch-${jobId}-`));
    const loaded = await loadVersion(this.store, this.artifacts, info, this.runtime.config.backend);
    let handedOver = false;
    try {
      const local = await openInput(this.artifacts, input.artifactKey, dir, input.sha256);
      try {
        const { passthrough } = planColumns(loaded, local.columns);
        await handleCommand(this.store, streams.batch(jobId), batchJobDecider, {
          type: 'StartBatchInference',
          data: {
            jobId,
            model: { name: info.name, version: info.version, alias, weightsSha256: info.weightsSha256 },
            input: { kind: input.kind, artifactKey: input.artifactKey, sha256: local.sha256, format: local.format, rows: local.rows, passthrough, ...(input.dataset ? { dataset: input.dataset } : {}) },
            output: { format: dto.format },
            chunkRows: dto.chunkRows,
            chunks: Math.ceil(local.rows / dto.chunkRows),
            instance: this.runtime.config.instance,
          },
        }, meta);
        // A job that runs at once takes over the model and input checked here; a queued one opens its own when it starts.
        handedOver = this.queued.size === 0 && !this.abort.signal.aborted;
        this.enqueue(jobId, handedOver ? { model: { name: info.name, version: info.version }, loaded, input: local, dir } : undefined);
        if (process.env.MLP_BATCH_STAGES === '1') console.log(`BATCH_STAGES submit {"check":${Math.round(performance.now() - t0)}}`);
        return this.view(jobId);
      } finally {
        if (!handedOver) local.duck.close();
      }
    } finally {
      if (!handedOver) {
        loaded.dispose();
        await rm(dir, { recursive: true, force: true });
      }
    }
  }

  /**
   * A job as the API shows it, folded from its stream. The fold of the jobs
   * asked about lately is kept (at most {@link FOLDS_KEPT}) with the revision
   * it reached, and each request reads only the events after it: a client
   * polling a running job does not read and fold its whole stream each time.
   */
  async view(jobId: string): Promise<BatchJobView> {
    if (!/^[A-Za-z0-9_-]{1,100}$/.test(jobId)) throw new ValidationError(`invalid job id '${jobId}'`, [{ path: 'jobId', message: 'expected a job id' }]);
    const cached = this.folds.get(jobId);
    const events = await this.store.readStream(streams.batch(jobId), cached ? { from: cached.revision + 1 } : {});
    let fold = cached;
    if (events.length > 0) {
      const state = events.reduce((s, e) => batchJobDecider.evolve(s, { type: e.type, data: e.data } as BatchJobEvent), cached?.state ?? batchJobDecider.initialState());
      fold = { state, revision: events[events.length - 1].revision, startedAt: cached?.startedAt ?? events[0].occurredAt, updatedAt: events[events.length - 1].occurredAt };
      this.folds.delete(jobId);
      this.folds.set(jobId, fold);
      if (this.folds.size > FOLDS_KEPT) this.folds.delete(this.folds.keys().next().value!);
    }
    if (!fold || fold.state.status === 'Empty') throw new NotFoundError(`no batch job ${jobId}`, { code: 'BATCH_JOB_NOT_FOUND' });
    return batchJobView(fold.state, { startedAt: fold.startedAt, updatedAt: fold.updatedAt });
  }

  /** Waits until the jobs queued so far have run (tests). */
  idle(): Promise<void> {
    return this.queue;
  }

  private enqueue(jobId: string, prepared?: PreparedRun): void {
    if (this.queued.has(jobId)) {
      if (prepared) void disposePrepared(prepared);
      return;
    }
    this.queued.add(jobId);
    this.queue = this.queue
      .then(async () => {
        if (!this.abort.signal.aborted) await this.runner.run(jobId, this.abort.signal, prepared);
        else if (prepared) await disposePrepared(prepared);
      })
      .catch((err) => this.runtime.logger.error({ err, jobId }, 'batch job could not run'))
      .finally(() => this.queued.delete(jobId));
  }

  /** Jobs of the log that started and neither completed nor failed. */
  private async unfinished(): Promise<string[]> {
    const open = new Set<string>();
    for (let from = 1; ; ) {
      const page = await this.store.readAll({ fromPosition: from, maxCount: 1000, filter: { category: categories.batch } });
      for (const e of page) {
        const jobId = (e.data as { jobId: string }).jobId;
        if (e.type === 'BatchInferenceStarted') open.add(jobId);
        else if (e.type === 'BatchInferenceCompleted' || e.type === 'BatchInferenceFailed') open.delete(jobId);
      }
      if (page.length < 1000) return [...open];
      from = page[page.length - 1].position + 1;
    }
  }
}
