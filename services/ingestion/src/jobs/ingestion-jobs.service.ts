import { createReadStream } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Optional, type OnApplicationShutdown, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { ArtifactStore } from '@mlp/artifacts';
import {
  DomainError,
  NotFoundError,
  sourceSpecSchema,
  streams,
  type CommandMetadata,
  type EventInput,
  type IngestionOutcome,
  type SourceSpec,
} from '@mlp/contracts';
import { diffSchemas, parseDatasetSchema, schemaHash, summarizeReport, type DatasetSchema, type QualityReport } from '@mlp/data';
import { aggregate, handleCommand, ProjectionRunner, type EventStore } from '@mlp/eventstore';
import { ARTIFACT_STORE, commandMetadata, EVENT_STORE, ProjectionCatalog, SERVICE_LOGGER, type Logger } from '@mlp/service-kit';
import { datasetDecider, type DatasetCommand } from '../datasets/dataset.decide';
import { latestAccepted, versionWithSource, type VersionRecord } from '../datasets/dataset';
import { DatasetsProjection } from '../datasets/datasets.projection';
import { processFile } from '../engine/process-file';
import type { CsvOptions, InputFormat } from '../engine/read-source';
import { localFileSource, rootedFileSource } from '../sources/file-source';
import { authorizeSource, SOURCE_POLICY, type SourcePolicy } from '../sources/source-policy';
import { urlSource } from '../sources/url-source';
import { postgresSource } from '../sources/postgres-source';
import type { RetryPolicy } from '@mlp/service-kit';
import type { AcquiredSource } from '../sources/file-source';
import { INGESTION_CONFIG, type IngestionConfig } from './ingestion-config';
import { ingestionJobDecider } from './ingestion-job';
import { IngestionJobsProjection, type IngestionJobView } from './ingestion-jobs.projection';

/** A source already turned into a local file by the caller (upload, push buffer, stream batch). */
export interface LocalSource {
  kind: 'upload' | 'push' | 'stream';
  path: string;
  uri: string;
  streamRange?: { first: number; last: number };
}

export interface IngestRequest {
  dataset: string;
  source: SourceSpec | LocalSource;
  format?: InputFormat;
  csv?: CsvOptions;
  jobId?: string;
  meta?: CommandMetadata;
}

const SECRET_PARAM = /token|key|secret|signature|password|credential/i;

/** Sources that can be read again after a crash (their spec was recorded). */
function resumable(spec: Record<string, unknown>): boolean {
  return spec.kind === 'file' || spec.kind === 'url' || spec.kind === 'postgres';
}

/**
 * Runs ingestion jobs: acquire the source (retrying, each retry an event),
 * skip bytes already ingested, validate in DuckDB, store Parquet + quarantine
 * + report as artifacts, then record the version on the dataset. The version
 * becomes visible only with its event, after every artifact is stored, so a
 * crash never leaves half a version; unfinished jobs are resumed or failed on
 * start-up from their events.
 */
@Injectable()
export class IngestionJobsService implements OnModuleInit, OnModuleDestroy, OnApplicationShutdown {
  readonly datasets = new DatasetsProjection();
  readonly jobs = new IngestionJobsProjection();
  private readonly datasetsRunner: ProjectionRunner<DatasetsProjection>;
  private readonly jobsRunner: ProjectionRunner<IngestionJobsProjection>;
  private readonly worker: string;
  private readonly active = new Map<string, Promise<IngestionOutcome>>();

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(ARTIFACT_STORE) private readonly artifacts: ArtifactStore,
    @Inject(INGESTION_CONFIG) private readonly config: IngestionConfig,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
    @Inject(SOURCE_POLICY) private readonly sources: SourcePolicy,
    @Optional() @Inject(ProjectionCatalog) catalog?: ProjectionCatalog,
  ) {
    this.datasetsRunner = new ProjectionRunner(store, this.datasets);
    this.jobsRunner = new ProjectionRunner(store, this.jobs);
    catalog?.register(this.datasetsRunner, () => new DatasetsProjection());
    catalog?.register(this.jobsRunner, () => new IngestionJobsProjection());
    this.worker = config.MLP_WORKER_ID ?? `ingestion@${hostname()}`;
  }

  async onModuleInit(): Promise<void> {
    await Promise.all([this.datasetsRunner.start(), this.jobsRunner.start()]);
    void this.recover();
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.allSettled(this.active.values());
  }

  /** After every module's onModuleDestroy: final push/stream flushes still need the read models. */
  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled(this.active.values());
    await Promise.all([this.datasetsRunner.stop(), this.jobsRunner.stop()]);
  }

  /**
   * Starts a job and returns its id at once; `done` settles with the outcome (never rejects).
   * A source the policy refuses (403 SOURCE_NOT_ALLOWED, 404, 400) is thrown here, before any event.
   */
  async start(request: IngestRequest): Promise<{ jobId: string; done: Promise<IngestionOutcome> }> {
    if (request.source.kind === 'file' || request.source.kind === 'url' || request.source.kind === 'postgres') {
      await authorizeSource(this.sources, request.source);
    }
    const jobId = request.jobId ?? randomUUID();
    const meta = request.meta ?? commandMetadata();
    const { kind, uri, spec } = describeSource(request.source);
    await handleCommand(
      this.store,
      streams.ingestion(jobId),
      ingestionJobDecider,
      {
        type: 'StartIngestion',
        started: { jobId, dataset: request.dataset, source: { kind, uri, spec }, format: request.format ?? null, options: { csv: request.csv ?? null }, worker: this.worker },
      },
      meta,
    );
    const done = this.run(jobId, request, meta);
    this.active.set(jobId, done);
    void done.finally(() => this.active.delete(jobId));
    return { jobId, done };
  }

  async ingest(request: IngestRequest): Promise<IngestionOutcome> {
    return (await this.start(request)).done;
  }

  /** Read-your-writes for dataset commands handled elsewhere. */
  waitForDatasets(position: number): Promise<void> {
    return this.datasetsRunner.waitFor(position);
  }

  /** The job's current outcome, from the read models. */
  async outcome(jobId: string): Promise<IngestionOutcome> {
    const job = this.jobs.get(jobId);
    if (!job) throw new NotFoundError(`ingestion job '${jobId}' does not exist`, { code: 'JOB_NOT_FOUND' });
    return this.outcomeOf(job);
  }

  private async run(jobId: string, request: IngestRequest, meta: CommandMetadata): Promise<IngestionOutcome> {
    const workDir = join(tmpdir(), `mlp-ingest-${jobId}`);
    const jobStream = streams.ingestion(jobId);
    let acquired: AcquiredSource | undefined;
    try {
      await mkdir(workDir, { recursive: true });
      const datasetStream = streams.dataset(request.dataset);
      const history = await this.store.readStream(datasetStream);
      const state = aggregate(datasetDecider, history);
      const previous = latestAccepted(state);
      acquired = await this.acquire(jobId, request, workDir, meta, previous);

      const duplicate = versionWithSource(state, acquired.sha256);
      if (duplicate) {
        await this.completeJob(jobStream, meta, null, duplicate.version);
        return this.outcomeOfVersion(jobId, request.dataset, duplicate, true);
      }
      const declared = state.status === 'Registered' && state.declared ? parseDatasetSchema(state.declared.schema) : undefined;
      const result = await processFile(
        { path: acquired.path, format: request.format ?? acquired.format, csv: request.csv },
        { dataset: request.dataset, schema: declared, workDir },
      );

      const [acceptedArtifact, quarantineArtifact, reportArtifact] = await Promise.all([
        this.putFile(result.acceptedFile, 'application/vnd.apache.parquet'),
        result.quarantineFile ? this.putFile(result.quarantineFile, 'application/vnd.apache.parquet') : Promise.resolve(null),
        this.artifacts.put(Buffer.from(JSON.stringify(result.report)), { contentType: 'application/json' }),
      ]);
      const failedChecks = result.report.checks.filter((c) => !c.passed).map((c) => ({ check: c.check, message: c.message }));
      const schemaChanges = previous ? await this.schemaChanges(previous, result.schema, result.report) : null;
      const source = describeSource(request.source);
      const version: DatasetCommand & { type: 'RecordDatasetVersion' } = {
        type: 'RecordDatasetVersion',
        name: request.dataset,
        version: {
          jobId,
          source: { kind: source.kind, uri: source.uri, spec: source.spec },
          format: request.format ?? acquired.format,
          sourceSha256: acquired.sha256,
          artifactKey: acceptedArtifact.key,
          sha256: acceptedArtifact.sha256,
          rows: result.rows,
          accepted: result.accepted,
          quarantined: result.quarantined,
          schemaHash: schemaHash(result.schema),
          schema: result.schema,
          inferred: result.inferred,
          reportArtifactKey: reportArtifact.key,
          quarantineArtifactKey: quarantineArtifact?.key ?? null,
          report: { ...summarizeReport(result.report) },
          status: failedChecks.length > 0 ? 'rejected' : 'accepted',
          watermark: acquired.watermark ?? null,
          streamRange: 'streamRange' in request.source ? (request.source.streamRange ?? null) : null,
        } satisfies Omit<EventInput<'DatasetVersionIngested'>, 'version' | 'dataset'>,
        quarantineReasons: result.reasons as Record<string, number>,
        failedChecks,
        schemaChanges: previous && schemaChanges ? { previousVersion: previous.version, diff: schemaChanges } : null,
      };
      const recorded = await handleCommand(this.store, datasetStream, datasetDecider, version, meta);
      const stored = recorded.state.status === 'Registered' ? versionWithSource(recorded.state, acquired.sha256) : undefined;
      if (!stored) throw new DomainError('version was not recorded', { code: 'INGESTION_FAILED' });
      const isNew = recorded.events.some((e) => e.type === 'DatasetVersionIngested');
      await this.completeJob(jobStream, meta, isNew ? stored.version : null, isNew ? null : stored.version);
      await this.datasetsRunner.waitFor(recorded.position);
      return this.outcomeOfVersion(jobId, request.dataset, stored, !isNew);
    } catch (err) {
      const error = err as Error & { code?: string };
      this.logger.warn({ err, jobId }, `ingestion ${jobId} failed`);
      await handleCommand(this.store, jobStream, ingestionJobDecider, { type: 'FailIngestion', error: error.message, code: error.code ?? 'INGESTION_FAILED' }, meta).catch(
        (e: unknown) => this.logger.error({ err: e, jobId }, 'could not record the failure'),
      );
      return { ...emptyOutcome(jobId, request.dataset), status: 'failed', error: error.message };
    } finally {
      await acquired?.release?.().catch((err: unknown) => this.logger.warn({ err, jobId }, 'could not release the source file'));
      await rm(workDir, { recursive: true, force: true });
    }
  }

  private async completeJob(jobStream: string, meta: CommandMetadata, version: number | null, duplicateOf: number | null): Promise<void> {
    const r = await handleCommand(this.store, jobStream, ingestionJobDecider, { type: 'CompleteIngestion', version, duplicateOf }, meta);
    await this.jobsRunner.waitFor(r.position);
  }

  private async acquire(
    jobId: string,
    request: IngestRequest,
    workDir: string,
    meta: CommandMetadata,
    previous: VersionRecord | undefined,
  ): Promise<AcquiredSource> {
    const retry: RetryPolicy = {
      attempts: this.config.MLP_INGEST_RETRY_ATTEMPTS,
      baseDelayMs: this.config.MLP_INGEST_RETRY_BASE_MS,
      maxDelayMs: this.config.MLP_INGEST_RETRY_MAX_MS,
    };
    const onRetry = async (info: { attempt: number; error: Error; delayMs: number }) => {
      await handleCommand(
        this.store,
        streams.ingestion(jobId),
        ingestionJobDecider,
        { type: 'RecordIngestionRetry', attempt: info.attempt, error: info.error.message, delayMs: info.delayMs },
        meta,
      );
    };
    const source = request.source;
    switch (source.kind) {
      // Checked again here, not only at start: a resumed job's source may have moved, or the policy changed.
      case 'file':
        return rootedFileSource(this.sources.files, source.path, { format: request.format });
      case 'url':
        return urlSource(source.url, workDir, { policy: this.sources.urls, format: request.format, retry, onRetry });
      case 'postgres': {
        // Incremental: continue after the last version's watermark of the same query.
        const after = source.watermarkColumn ? (previous?.watermark ?? null) : null;
        const acquired = await postgresSource(
          {
            connection: await this.sources.postgres.resolve(source.connection),
            query: source.query,
            watermark: source.watermarkColumn ? { column: source.watermarkColumn, after } : undefined,
          },
          workDir,
          { retry, onRetry },
        );
        return acquired;
      }
      default:
        return localFileSource(source.path, { format: request.format });
    }
  }

  private async putFile(path: string, contentType: string) {
    const { size } = await stat(path);
    return this.artifacts.put(createReadStream(path), { contentType, size });
  }

  private async schemaChanges(previous: VersionRecord, schema: DatasetSchema, report: QualityReport): Promise<Record<string, unknown>[]> {
    let previousReport: QualityReport | undefined;
    try {
      previousReport = JSON.parse((await this.artifacts.getBuffer(previous.reportArtifactKey)).toString('utf8')) as QualityReport;
    } catch (err) {
      this.logger.warn({ err }, `report of version ${previous.version} unavailable; comparing schemas only`);
    }
    const diff = diffSchemas({ schema: parseDatasetSchema(previous.schema), report: previousReport }, { schema, report });
    return diff.map((change) => ({ ...change }));
  }

  /** After a crash: this worker's unfinished jobs are run again when their source can be re-read, else failed. */
  private async recover(): Promise<void> {
    for (const job of this.jobs.running()) {
      if (job.started.worker !== this.worker || this.active.has(job.jobId)) continue;
      const meta: CommandMetadata = { ...commandMetadata(), actor: this.worker, causationId: job.jobId };
      const { source } = job.started;
      // The recorded spec is read back through its schema: a job recorded under an older shape is failed, not guessed at.
      const spec = resumable(source.spec) ? sourceSpecSchema.safeParse(source.spec) : undefined;
      if (spec?.success) {
        this.logger.info({ jobId: job.jobId }, 'resuming ingestion interrupted by a restart');
        const done = this.run(
          job.jobId,
          { dataset: job.dataset, source: spec.data, format: (job.started.format as InputFormat | null) ?? undefined, csv: (job.started.options as { csv?: CsvOptions }).csv ?? undefined },
          meta,
        );
        this.active.set(job.jobId, done);
        void done.finally(() => this.active.delete(job.jobId));
      } else {
        await handleCommand(
          this.store,
          streams.ingestion(job.jobId),
          ingestionJobDecider,
          {
            type: 'FailIngestion',
            error: spec
              ? `interrupted by a restart; the recorded ${source.kind} source can no longer be read (${spec.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')})`
              : `interrupted by a restart; the ${source.kind} data of this job was not stored`,
            code: 'INTERRUPTED',
          },
          meta,
        ).catch((err: unknown) => this.logger.error({ err, jobId: job.jobId }, 'could not fail interrupted job'));
      }
    }
  }

  private outcomeOfVersion(jobId: string, dataset: string, v: VersionRecord, duplicate: boolean): IngestionOutcome {
    const report = v.report as { reasons?: Record<string, number>; failedChecks?: string[] };
    const changes = this.datasets.get(dataset)?.versions.find((x) => x.version === v.version)?.schemaChanges.length ?? 0;
    return {
      jobId,
      dataset,
      status: duplicate ? 'duplicate' : v.status,
      version: duplicate ? null : v.version,
      duplicateOf: duplicate ? v.version : null,
      rows: v.rows,
      accepted: v.accepted,
      quarantined: v.quarantined,
      artifact: v.artifactKey,
      sha256: v.sha256,
      quarantineArtifact: v.quarantineArtifactKey,
      reportArtifact: v.reportArtifactKey,
      reasons: report.reasons ?? {},
      failedChecks: report.failedChecks ?? [],
      schemaChanges: changes,
    };
  }

  private outcomeOf(job: IngestionJobView): IngestionOutcome {
    if (job.status === 'running') return { ...emptyOutcome(job.jobId, job.dataset), status: 'running' };
    if (job.status === 'failed') return { ...emptyOutcome(job.jobId, job.dataset), status: 'failed', error: job.error ?? undefined };
    const number = job.version ?? job.duplicateOf;
    const v = this.datasets.get(job.dataset)?.versions.find((x) => x.version === number);
    if (!v) return { ...emptyOutcome(job.jobId, job.dataset), status: 'running' };
    return this.outcomeOfVersion(job.jobId, job.dataset, v, job.version === null);
  }
}

function emptyOutcome(jobId: string, dataset: string): IngestionOutcome {
  return {
    jobId,
    dataset,
    status: 'running',
    version: null,
    duplicateOf: null,
    rows: 0,
    accepted: 0,
    quarantined: 0,
    artifact: null,
    sha256: null,
    quarantineArtifact: null,
    reportArtifact: null,
    reasons: {},
    failedChecks: [],
    schemaChanges: 0,
  };
}

/** The source as recorded in events: a description without secrets and the parameters to run it again. */
export function describeSource(source: SourceSpec | LocalSource): { kind: SourceSpec['kind'] | LocalSource['kind']; uri: string; spec: Record<string, unknown> } {
  switch (source.kind) {
    case 'file':
      return { kind: 'file', uri: source.path, spec: { ...source } };
    case 'url': {
      const u = new URL(source.url);
      const secret = Boolean(u.username || u.password) || [...u.searchParams.keys()].some((k) => SECRET_PARAM.test(k));
      u.username = '';
      u.password = '';
      u.search = '';
      // A URL carrying credentials is not kept: such a job cannot be resumed after a crash.
      return { kind: 'url', uri: u.toString(), spec: secret ? {} : { ...source } };
    }
    case 'postgres':
      return {
        kind: 'postgres',
        uri: `postgres (connection ${source.connection}): ${source.query.slice(0, 200)}`,
        spec: { ...source },
      };
    default:
      return { kind: source.kind, uri: source.uri, spec: {} };
  }
}

