import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { downloadToFile, type ArtifactStore, type PutResult } from '@mlp/artifacts';
import { DomainError, IllegalStateError, streams, toNewEvent, ValidationError, type CommandMetadata, type DomainEventInput, type EventData } from '@mlp/contracts';
import { openDuck, type Duck } from '@mlp/duckdb';
import { codeVersion, type EventStore } from '@mlp/eventstore';
import type { Logger } from '@mlp/service-kit';
import type { LoadedVersion } from '../models/loaded-version';
import type { VersionInfo } from '../models/served-models';
import { outputLayout, partPlan, predictChunk, type OutputLayout } from './batch-chunk';
import { checkColumns, describeInput, inputSource, passthroughType, readChunks, type InputChunk, type InputColumn } from './batch-input';
import { batchJobDecider, foldBatchJob, type BatchJob, type BatchJobCommand, type BatchJobEvent } from './batch-job';
import { resolveBatchModel } from './batch-model';
import { BatchStages } from './batch-stages';
import { PartWriter } from './part-writer';

type StoredFile = EventData<'BatchInferenceProgressed'>['part'];

export interface BatchRunnerDeps {
  store: EventStore;
  artifacts: ArtifactStore;
  /** Loads a registered version the way online serving does (loadVersion). */
  load(info: VersionInfo): Promise<LoadedVersion>;
  instance: string;
  /** Parent of the jobs' temp directories. */
  tmpDir: string;
  logger?: Logger;
  /** Called after each checkpoint (tests, metrics). */
  onChunk?(jobId: string, chunk: number): void;
}

/** An input file on local disk, with what DuckDB sees in it. */
export interface LocalInput {
  duck: Duck;
  source: string;
  format: 'parquet' | 'csv';
  sha256: string;
  columns: InputColumn[];
  rows: number;
}

/**
 * What the submit's checks opened for a job (batch.service.ts), handed to
 * its run when it starts at once: the run takes them over (and closes them)
 * instead of loading the model and downloading the input again.
 */
export interface PreparedRun {
  model: { name: string; version: number };
  loaded: LoadedVersion;
  input: LocalInput;
  /** The job's temp dir (`batch-<jobId>-…`), holding the input and its DuckDB. */
  dir: string;
}

/** Closes what a prepared run holds, when no run takes it over. */
export async function disposePrepared(prepared: PreparedRun): Promise<void> {
  prepared.loaded.dispose();
  prepared.input.duck.close();
  await rm(prepared.dir, { recursive: true, force: true });
}

/**
 * Chunks being written, stored and checkpointed while the next ones are
 * predicted (each holds its columns, then its part). Each store takes many
 * event-loop turns, and a turn waits for a chunk's predict: more chunks in
 * flight keep the stores from holding the loop up.
 */
const CHUNKS_IN_FLIGHT = 16;

/** The job's run was stopped (shutdown): it stays Running in the log and resumes on the next start. */
export class BatchStopped extends Error {}

/** Parquet files start with `PAR1`; anything else is read as CSV. */
async function sniffFormat(path: string): Promise<'parquet' | 'csv'> {
  return isParquet(await readHead(path)) ? 'parquet' : 'csv';
}

async function readHead(path: string): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

function isParquet(head: Buffer): boolean {
  return head.length >= 4 && head.subarray(0, 4).toString('latin1') === 'PAR1';
}

/**
 * Downloads an input artifact into `dir` (hashing it: a sha256 other than
 * `expectedSha256` is an error) and opens it in a private DuckDB that spills
 * to `dir`. The caller closes the duck.
 */
export async function openInput(artifacts: ArtifactStore, key: string, dir: string, expectedSha256?: string): Promise<LocalInput> {
  const path = join(dir, 'input');
  const { sha256 } = await downloadToFile(artifacts, key, path, expectedSha256 ? { expectedSha256 } : {});
  const format = await sniffFormat(path);
  const duck = await openDuck(join(dir, 'duck'), { threads: 1, memoryLimit: process.env.MLP_BATCH_DUCKDB_MEMORY ?? '256MB' });
  try {
    const source = inputSource(path, format);
    const { columns, rows } = await describeInput(duck, source).catch((cause: Error) => {
      throw new ValidationError(`the input is not readable ${format === 'parquet' ? 'Parquet' : 'CSV'}: ${cause.message.split('\n')[0]}`, [{ path: 'input', message: `not readable as ${format}` }], { code: 'INPUT_UNREADABLE' });
    });
    return { duck, source, format, sha256, columns, rows };
  } catch (err) {
    duck.close();
    throw err;
  }
}

/** The checks a job's input passes before it starts: every model input is a column, no column clashes with an output. */
export function planColumns(loaded: Pick<LoadedVersion, 'task' | 'classes' | 'inputSchema'>, columns: readonly InputColumn[]): { passthrough: string[]; layout: OutputLayout } {
  checkColumns(columns, loaded.inputSchema.inputs);
  const passthrough = columns.map((c) => c.name).filter((c) => !loaded.inputSchema.has(c));
  return { passthrough, layout: outputLayout(loaded, columns, passthrough) };
}

/**
 * Runs one job from its last checkpoint. Each chunk is validated and
 * predicted (batch-chunk.ts) and written as a one-row-group Parquet part (and a rejects part) with the columns' own types
 * (part-writer.ts); the parts are stored (content addressed) and only then
 * is the BatchInferenceProgressed checkpoint appended, with the expected
 * revision: a second runner on the same job loses the race and stops. After
 * the last chunk DuckDB streams the parts, in row order, into one output (and
 * one rejects) file of the requested format.
 */
export class BatchRunner {
  constructor(private readonly deps: BatchRunnerDeps) {}

  /** Runs the job; `prepared` (its submit's model and input) is taken over in any case. */
  async run(jobId: string, signal?: AbortSignal, prepared?: PreparedRun): Promise<BatchJob> {
    const stages = new BatchStages();
    try {
      return await this.runStaged(jobId, stages, signal, prepared);
    } finally {
      stages.print(jobId);
    }
  }

  private async runStaged(jobId: string, stages: BatchStages, signal?: AbortSignal, prepared?: PreparedRun): Promise<BatchJob> {
    const t0 = performance.now();
    const stream = streams.batch(jobId);
    const history = await this.deps.store.readStream(stream).catch(async (err: unknown) => {
      if (prepared) await disposePrepared(prepared);
      throw err;
    });
    let state = foldBatchJob(history);
    // Taken over only for the job it was checked for, at its start: a resumed run downloads its input again.
    const fresh = state.status === 'Running' && state.parts.length === 0 ? state.started : undefined;
    const reuse = prepared !== undefined && fresh !== undefined && prepared.model.name === fresh.model.name && prepared.model.version === fresh.model.version && prepared.input.sha256 === fresh.input.sha256;
    if (prepared && !reuse) await disposePrepared(prepared);
    const taken = reuse ? prepared : undefined;
    if (state.status !== 'Running') return state;
    const started = state.started;
    const meta: CommandMetadata = { now: '', correlationId: history[0].correlationId, causationId: history[0].id, actor: `serving:${this.deps.instance}` };
    // The runner owns the job while it runs: each command is decided on the state it holds and appended at the
    // revision it knows (a conflict means another runner took the job over), without reading the stream again per chunk.
    let revision = history[history.length - 1].revision;
    const version = codeVersion();
    const execute = async (command: BatchJobCommand) => {
      const decided = batchJobDecider.decide(command, state);
      const envelopes = decided.map((e) => toNewEvent(e as DomainEventInput<BatchJobEvent['type']>, { ...meta, now: new Date().toISOString() }, { codeVersion: version }));
      const result = await this.deps.store.appendToStream(stream, envelopes, { expectedRevision: revision });
      revision = result.nextExpectedRevision;
      state = decided.reduce(batchJobDecider.evolve, state);
    };
    await mkdir(this.deps.tmpDir, { recursive: true });
    const dir = taken ? taken.dir : await mkdtemp(join(this.deps.tmpDir, `batch-${jobId}-`));
    let loaded: LoadedVersion | undefined = taken?.loaded;
    let input: LocalInput | undefined = taken?.input;
    let writer: PartWriter | undefined;
    let previousWrite: Promise<unknown> = Promise.resolve();
    // The read of the next chunk, in flight while a chunk is predicted: settled before the input's DuckDB closes.
    let reading: Promise<IteratorResult<InputChunk>> | undefined;
    const fromChunk = state.parts.length;
    // Part files written by this run, by chunk: assembly reads them from disk instead of the store.
    const local = new Map<string, string>();
    // Up to CHUNKS_IN_FLIGHT chunks are written, stored and checkpointed while the next one is read and predicted; checkpoints stay in order.
    let storing: Promise<void> = Promise.resolve();
    const inFlight: Promise<void>[] = [];
    try {
      const { info } = await resolveBatchModel(this.deps.store, `${started.model.name}:${started.model.version}`);
      loaded ??= await stages.timeAsync('load model', () => this.deps.load(info));
      input ??= await stages.timeAsync('open input', () => openInput(this.deps.artifacts, started.input.artifactKey, dir, started.input.sha256));
      const { layout } = planColumns(loaded, input.columns);
      const byName = new Map(input.columns.map((c) => [c.name, c]));
      const plan = partPlan(layout, started.input.passthrough.map((p) => passthroughType(byName.get(p))), loaded.classes);
      if (fromChunk > 0) {
        // Parts of an earlier release (its own row-group or CSV parts) cannot be assembled with these.
        if (!isParquet((await this.deps.artifacts.getBuffer(state.parts[0].part.artifactKey)).subarray(0, 4))) {
          throw new IllegalStateError(`batch job ${jobId} was checkpointed by an earlier release in another part format: submit it again`, { code: 'BATCH_PARTS_OUTDATED' });
        }
        this.deps.logger?.info({ jobId, fromChunk, chunks: started.chunks }, 'batch job resumes from its last checkpoint');
      }
      writer = await PartWriter.open(join(dir, 'parts-duck'), plan.types);
      const partWriter = writer;
      stages.add('setup', performance.now() - t0);
      const chunks = readChunks(input.duck, input.source, input.columns, loaded.inputSchema.inputs, started.input.passthrough, started.chunkRows, fromChunk)[Symbol.asyncIterator]();
      reading = chunks.next();
      for (;;) {
        const next = await stages.timeAsync('read', () => reading!);
        if (next.done) break;
        const chunk = next.value;
        if (signal?.aborted) break;
        // Read ahead: the next chunk's DuckDB fetches run on their thread while this one is predicted.
        reading = chunks.next();
        reading.catch(() => undefined);
        const result = predictChunk(loaded, chunk, plan, stages);
        // Writes are serialized (one work table): the appender fills it on this thread, the COPY runs on DuckDB's.
        const outPath = join(dir, `part-${chunk.index}.parquet`);
        const rejectsPath = join(dir, `rejects-${chunk.index}.parquet`);
        const writing = previousWrite.then(() =>
          partWriter.write(
            result.columns,
            result.n,
            result.rejectedRows,
            [{ path: outPath, fields: plan.output, rejected: false }, ...(result.rejected > 0 ? [{ path: rejectsPath, fields: plan.rejects, rejected: true }] : [])],
            stages,
          ),
        );
        writing.catch(() => undefined);
        previousWrite = writing;
        // Parts are stored concurrently (each store waits for its fsyncs), checkpoints appended in chunk order.
        const previous = storing;
        const task = (async () => {
          await writing;
          const part = await stages.timeAsync('store part', () => this.storePart(outPath, result.predicted, local));
          const rejects = result.rejected > 0 ? await stages.timeAsync('store part', () => this.storePart(rejectsPath, result.rejected, local)) : null;
          await previous;
          await stages.timeAsync('checkpoint', () => execute({
            type: 'RecordBatchChunk',
            data: { jobId, chunk: chunk.index, rows: chunk.n, predicted: result.predicted, rejected: result.rejected, part, rejects, instance: this.deps.instance },
          }));
          this.deps.onChunk?.(jobId, chunk.index);
        })();
        // Handled here so a failure waits for an await below instead of being an unhandled rejection.
        task.catch(() => undefined);
        storing = task;
        inFlight.push(task);
        if (inFlight.length >= CHUNKS_IN_FLIGHT) await inFlight.shift();
      }
      await stages.timeAsync('drain', () => storing);
      stages.add('chunks', performance.now() - t0);
      if (signal?.aborted) throw new BatchStopped('stopped');
      if (state.status !== 'Running') return state;
      const parts = state.parts;
      const assemble = (name: string, files: StoredFile[], columns: OutputLayout['output']) => this.assemble(writer!, dir, name, files, columns, started.output.format, started.chunkRows, local);
      const output = await stages.timeAsync('assemble', () => assemble('output', parts.map((p) => p.part), layout.output));
      const rejectParts = parts.flatMap((p) => (p.rejects ? [p.rejects] : []));
      const rejects = rejectParts.length ? await stages.timeAsync('assemble', () => assemble('rejects', rejectParts, layout.rejects)) : null;
      const closing = performance.now();
      writer.close();
      writer = undefined;
      // The files are stored: the temp dir goes before the job is recorded as completed.
      input.duck.close();
      input = undefined;
      await rm(dir, { recursive: true, force: true });
      stages.add('close', performance.now() - closing);
      await execute({
        type: 'CompleteBatchInference',
        data: {
          jobId,
          model: { name: started.model.name, version: started.model.version },
          inputSha256: started.input.sha256,
          rows: started.input.rows,
          predicted: parts.reduce((n, p) => n + p.predicted, 0),
          rejected: parts.reduce((n, p) => n + p.rejected, 0),
          output: { ...output, format: started.output.format },
          rejects: rejects ? { ...rejects, format: started.output.format } : null,
          resumedFromChunk: fromChunk,
        },
      });
      stages.add('total', performance.now() - t0);
      return state;
    } catch (err) {
      // The writes and checkpoints in flight land (or fail) before the job is marked failed.
      await Promise.allSettled([previousWrite, ...inFlight, storing]);
      if (err instanceof BatchStopped) return state;
      if (err instanceof DomainError && (err.code === 'BATCH_CHUNK_OUT_OF_ORDER' || err.code === 'WRONG_EXPECTED_REVISION' || err.code === 'BATCH_JOB_NOT_RUNNING')) {
        // Another runner took the job over: it records the rest.
        this.deps.logger?.warn({ jobId, err: (err as Error).message }, 'batch job is run elsewhere');
        return foldBatchJob(await this.deps.store.readStream(stream));
      }
      const code = err instanceof DomainError ? err.code : 'BATCH_FAILED';
      const reason = (err instanceof Error ? err.message : String(err)).slice(0, 4000) || code;
      this.deps.logger?.error({ jobId, err }, 'batch job failed');
      await execute({ type: 'FailBatchInference', data: { jobId, code, reason, chunksDone: state.status === 'Running' ? state.parts.length : 0 } }).catch(() => undefined);
      return state;
    } finally {
      loaded?.dispose();
      writer?.close();
      await reading?.catch(() => undefined);
      input?.duck.close();
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Stores a part file written by the PartWriter (content addressed); assembly reads it where it is. */
  private async storePart(path: string, rows: number, local: Map<string, string>): Promise<StoredFile> {
    const body = await readFile(path);
    const put: PutResult = await this.deps.artifacts.put(body, { contentType: 'application/vnd.apache.parquet' });
    local.set(put.key, path);
    return { artifactKey: put.key, sha256: put.sha256, bytes: put.size, rows };
  }

  /**
   * The parts as one file of the requested format, written by DuckDB from
   * the parts in chunk order (streamed: rows come out by `_row`, nothing is
   * sorted or held). Parts of this run are read where they were written;
   * parts of an earlier run are downloaded and checked against their sha256.
   */
  private async assemble(
    writer: PartWriter,
    dir: string,
    name: string,
    parts: readonly StoredFile[],
    columns: OutputLayout['output'],
    format: 'parquet' | 'csv',
    rowGroupRows: number,
    local: ReadonlyMap<string, string>,
  ): Promise<StoredFile> {
    const partsDir = join(dir, name);
    await mkdir(partsDir, { recursive: true });
    const paths: string[] = [];
    for (const [i, part] of parts.entries()) {
      let path = local.get(part.artifactKey);
      if (path === undefined) {
        path = join(partsDir, `${String(i).padStart(6, '0')}.parquet`);
        await downloadToFile(this.deps.artifacts, part.artifactKey, path, { expectedSha256: part.sha256 });
      }
      paths.push(path);
    }
    const out = join(dir, `${name}.${format}`);
    const rows = await writer.assemble(paths, out, format, columns, rowGroupRows);
    const { size } = await stat(out);
    const put = await this.deps.artifacts.put(createReadStream(out), { contentType: format === 'parquet' ? 'application/vnd.apache.parquet' : 'text/csv', size });
    return { artifactKey: put.key, sha256: put.sha256, bytes: put.size, rows };
  }
}
