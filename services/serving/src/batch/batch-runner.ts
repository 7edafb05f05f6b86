import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, mkdtemp, open, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { downloadToFile, type ArtifactStore, type PutResult } from '@mlp/artifacts';
import { DomainError, InfrastructureError, streams, ValidationError, type CommandMetadata, type EventData } from '@mlp/contracts';
import { literal, openDuck, type Duck } from '@mlp/duckdb';
import { handleCommand, type EventStore } from '@mlp/eventstore';
import type { Logger } from '@mlp/service-kit';
import type { LoadedVersion } from '../models/loaded-version';
import type { VersionInfo } from '../models/served-models';
import { csvHeader, fileColumns, outputLayout, partFormat, predictChunk, type OutputLayout } from './batch-chunk';
import { isRowGroupPart, PARQUET_MAGIC, parquetFooter, readRowGroupPart, type PlacedPart } from './parquet-parts';
import { checkColumns, describeInput, inputSource, readChunks, type InputColumn } from './batch-input';
import { batchJobDecider, foldBatchJob, type BatchJob, type BatchJobCommand } from './batch-job';
import { resolveBatchModel } from './batch-model';

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

/** The job's run was stopped (shutdown): it stays Running in the log and resumes on the next start. */
export class BatchStopped extends Error {}

/** Parquet files start with `PAR1`; anything else is read as CSV. */
async function sniffFormat(path: string): Promise<'parquet' | 'csv'> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    return bytesRead === 4 && head.toString('latin1') === 'PAR1' ? 'parquet' : 'csv';
  } finally {
    await handle.close();
  }
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
 * Runs one job from its last checkpoint. Each chunk is validated, predicted
 * and rendered (batch-chunk.ts); its part files are stored (content
 * addressed, so storing a chunk again after a crash writes the same key)
 * and only then is the BatchInferenceProgressed checkpoint appended, with
 * the expected revision: a second runner on the same job loses the race and
 * stops. After the last chunk the parts are assembled in row order into one
 * output (and one rejects) file of the requested format.
 */
export class BatchRunner {
  constructor(private readonly deps: BatchRunnerDeps) {}

  async run(jobId: string, signal?: AbortSignal): Promise<BatchJob> {
    const stream = streams.batch(jobId);
    const history = await this.deps.store.readStream(stream);
    let state = foldBatchJob(history);
    if (state.status !== 'Running') return state;
    const started = state.started;
    const meta: CommandMetadata = { now: '', correlationId: history[0].correlationId, causationId: history[0].id, actor: `serving:${this.deps.instance}` };
    const execute = async (command: BatchJobCommand) => {
      const result = await handleCommand(this.deps.store, stream, batchJobDecider, command, { ...meta, now: new Date().toISOString() }, { maxRetries: 0 });
      state = result.state;
    };
    await mkdir(this.deps.tmpDir, { recursive: true });
    const dir = await mkdtemp(join(this.deps.tmpDir, `batch-${jobId}-`));
    let loaded: LoadedVersion | undefined;
    let input: LocalInput | undefined;
    const fromChunk = state.parts.length;
    // Chunk k is stored and checkpointed while chunk k+1 is read and predicted; checkpoints stay in order.
    let storing: Promise<void> = Promise.resolve();
    try {
      const { info } = await resolveBatchModel(this.deps.store, `${started.model.name}:${started.model.version}`);
      loaded = await this.deps.load(info);
      input = await openInput(this.deps.artifacts, started.input.artifactKey, dir, started.input.sha256);
      const { layout } = planColumns(loaded, input.columns);
      // Parts already stored keep their form: a job resumed from CSV parts goes on with CSV parts.
      const format = fromChunk > 0 && !(await this.isRowGroupPart(state.parts[0].part)) ? 'csv' : partFormat(started.output.format, layout);
      if (fromChunk > 0) this.deps.logger?.info({ jobId, fromChunk, chunks: started.chunks }, 'batch job resumes from its last checkpoint');
      for await (const chunk of readChunks(input.duck, input.source, input.columns, loaded.inputSchema.inputs, started.input.passthrough, started.chunkRows, fromChunk, format === 'rowgroup')) {
        if (signal?.aborted) break;
        const result = predictChunk(loaded, chunk, layout, format);
        await storing;
        storing = (async () => {
          const part = await this.storePart(result.part, result.predicted);
          const rejects = result.rejects === null ? null : await this.storePart(result.rejects, result.rejected);
          await execute({
            type: 'RecordBatchChunk',
            data: { jobId, chunk: chunk.index, rows: chunk.n, predicted: result.predicted, rejected: result.rejected, part, rejects, instance: this.deps.instance },
          });
          this.deps.onChunk?.(jobId, chunk.index);
        })();
        // Handled here so a failure waits for the await above (or below) instead of being an unhandled rejection.
        storing.catch(() => undefined);
      }
      await storing;
      if (signal?.aborted) throw new BatchStopped('stopped');
      if (state.status !== 'Running') return state;
      const parts = state.parts;
      const assemble = (name: string, files: StoredFile[], columns: OutputLayout['output']) =>
        format === 'rowgroup' ? this.concatenate(dir, name, files, columns, started.input.passthrough.length) : this.assemble(input!.duck, dir, name, files, columns, started.output.format);
      const output = await assemble('output', parts.map((p) => p.part), layout.output);
      const rejectParts = parts.flatMap((p) => (p.rejects ? [p.rejects] : []));
      const rejects = rejectParts.length ? await assemble('rejects', rejectParts, layout.rejects) : null;
      // The files are stored: the temp dir goes before the job is recorded as completed.
      input.duck.close();
      input = undefined;
      await rm(dir, { recursive: true, force: true });
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
      return state;
    } catch (err) {
      // The checkpoint in flight lands (or fails) before the job is marked failed.
      await storing.catch(() => undefined);
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
      input?.duck.close();
      await rm(dir, { recursive: true, force: true });
    }
  }

  private async storePart(part: Buffer | string, rows: number): Promise<StoredFile> {
    const body = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
    const put: PutResult = await this.deps.artifacts.put(body, { contentType: typeof part === 'string' ? 'text/csv' : 'application/octet-stream' });
    return { artifactKey: put.key, sha256: put.sha256, bytes: put.size, rows };
  }

  private async isRowGroupPart(part: StoredFile): Promise<boolean> {
    return isRowGroupPart(await this.deps.artifacts.getBuffer(part.artifactKey));
  }

  /**
   * Row-group parts as one Parquet file: `PAR1`, each part's column chunks
   * as stored (checked against its sha256), in chunk order, then the footer
   * naming them. No row is decoded or encoded again.
   */
  private async concatenate(dir: string, name: string, parts: readonly StoredFile[], columns: OutputLayout['output'], kept: number): Promise<StoredFile> {
    const out = join(dir, `${name}.parquet`);
    const file = await open(out, 'w');
    const placed: PlacedPart[] = [];
    let offset = 0;
    const write = async (bytes: Buffer) => {
      await file.write(bytes, 0, bytes.length, offset);
      offset += bytes.length;
    };
    try {
      await write(PARQUET_MAGIC);
      for (const part of parts) {
        const bytes = await this.deps.artifacts.getBuffer(part.artifactKey);
        const sha256 = createHash('sha256').update(bytes).digest('hex');
        if (sha256 !== part.sha256) throw new InfrastructureError(`part ${part.artifactKey} has sha256 ${sha256}, not ${part.sha256}`, { code: 'ARTIFACT_CORRUPT' });
        const { rows, columns: chunks, body } = readRowGroupPart(bytes);
        placed.push({ offset, rows, columns: chunks });
        await write(body);
      }
      await write(parquetFooter(fileColumns(columns, kept), placed));
    } finally {
      await file.close();
    }
    const put = await this.deps.artifacts.put(createReadStream(out), { contentType: 'application/vnd.apache.parquet', size: offset });
    return { artifactKey: put.key, sha256: put.sha256, bytes: put.size, rows: placed.reduce((n, p) => n + p.rows, 0) };
  }

  /**
   * The parts as one file: read as typed CSV by DuckDB and written as Parquet
   * or CSV. The parts are listed in chunk order and the duck preserves
   * insertion order, so rows come out by `_row` without a sort (no sort
   * memory, whatever the row count).
   */
  private async assemble(duck: Duck, dir: string, name: string, parts: readonly StoredFile[], columns: OutputLayout['output'], format: 'parquet' | 'csv'): Promise<StoredFile> {
    const partsDir = join(dir, name);
    await mkdir(partsDir, { recursive: true });
    const paths: string[] = [];
    if (parts.length === 0) {
      // An input without rows: the file still has its columns.
      const empty = join(partsDir, 'empty.csv');
      await writeFile(empty, csvHeader(columns));
      paths.push(empty);
    }
    for (const [i, part] of parts.entries()) {
      const path = join(partsDir, `${String(i).padStart(6, '0')}.csv`);
      await downloadToFile(this.deps.artifacts, part.artifactKey, path, { expectedSha256: part.sha256 });
      paths.push(path);
    }
    const out = join(dir, `${name}.${format}`);
    const types = `{${columns.map((c) => `${literal(c.name)}: ${literal(c.type)}`).join(', ')}}`;
    const read = `read_csv([${paths.map((p) => literal(p)).join(', ')}], header = true, auto_detect = false, columns = ${types}, allow_quoted_nulls = false, quote = '"', escape = '"', delim = ',')`;
    const options = format === 'parquet' ? `FORMAT parquet, COMPRESSION zstd` : `FORMAT csv, HEADER true`;
    const copied = await duck.one<{ Count: number | string }>(`COPY (SELECT * FROM ${read}) TO ${literal(out)} (${options})`);
    const { size } = await stat(out);
    const put = await this.deps.artifacts.put(createReadStream(out), { contentType: format === 'parquet' ? 'application/vnd.apache.parquet' : 'text/csv', size });
    return { artifactKey: put.key, sha256: put.sha256, bytes: put.size, rows: Number(copied.Count) };
  }
}
