import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { parseArgs } from 'node:util';
import type { BatchJobView, StartBatchInferenceInput } from '@mlp/contracts';
import { call, CliError, UsageError } from '../api';
import { download, downloadStatus } from '../download';
import { streamBody } from '../ingestion-client';
import { printJson } from '../output';
import { PROGRESS_THRESHOLD_BYTES, renderProgress, type StatusLine } from '../progress';

const USAGE = `usage: mlp batch-predict <model[@alias|:version]> --input <file.csv|file.parquet|dataset[:version]> --output <file.parquet|file.csv>
       [--rejects <file>] [--chunk-rows n] [--json]`;

const DATASET_REF = /^([A-Za-z0-9][A-Za-z0-9_-]*)(?::([1-9][0-9]*))?$/;
const rows = (n: number) => `${Math.round(n).toLocaleString('en-US')} rows`;

/** What `mlp batch-predict --json` prints: the finished job and where its files were written. */
export interface BatchPredictOutput {
  job: BatchJobView;
  output: string;
  rejects: string | null;
}

/**
 * `mlp batch-predict`: a local file is uploaded to serving (streamed, with
 * a progress bar over 1 MB), a name that is no file is read as a dataset
 * version; the job runs in serving in chunks while a bar shows the rows
 * done; the output (and the rejected rows with their reasons, if any) are
 * downloaded over HTTP, checked against their sha256. Exit 0 when the job
 * completed, 1 when it failed.
 */
export async function batchPredict(args: string[], json: boolean, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let parsed: { values: { input?: string; output?: string; rejects?: string; 'chunk-rows'?: string }; positionals: string[] };
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: { input: { type: 'string' }, output: { type: 'string' }, rejects: { type: 'string' }, 'chunk-rows': { type: 'string' } } });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${USAGE}`);
  }
  const [model] = parsed.positionals;
  const { input, output } = parsed.values;
  if (!model || parsed.positionals.length > 1) throw new UsageError(`one model is needed\n${USAGE}`);
  if (!input || !output) throw new UsageError(`--input and --output are required\n${USAGE}`);
  const format = extname(output).toLowerCase().slice(1);
  if (format !== 'parquet' && format !== 'csv') throw new UsageError(`--output must end in .parquet or .csv, not '${extname(output) || output}'\n${USAGE}`);
  const chunkRows = parsed.values['chunk-rows'] === undefined ? undefined : Number(parsed.values['chunk-rows']);
  if (chunkRows !== undefined && (!Number.isInteger(chunkRows) || chunkRows < 1)) throw new UsageError(`--chunk-rows must be a positive integer\n${USAGE}`);
  const status = downloadStatus(json);

  const request: StartBatchInferenceInput = { model, input: await batchInput(input, status, env), format, ...(chunkRows ? { chunkRows } : {}) };
  const started = await call<BatchJobView>('serving', 'POST', '/batch/jobs', request, env);
  const job = await follow(started, status, env);
  if (job.status === 'failed') {
    if (json) printJson({ job, output: null, rejects: null });
    else console.error(`batch job ${job.jobId} failed (${job.error?.code}): ${job.error?.reason}`);
    return 1;
  }
  await download('serving', `/batch/jobs/${job.jobId}/output`, output, { sha256: job.output!.sha256, status, label: 'downloading output', env });
  let rejectsPath: string | null = null;
  if (job.rejects) {
    rejectsPath = parsed.values.rejects ?? output.replace(/\.(parquet|csv)$/i, `.rejects.${format}`);
    await download('serving', `/batch/jobs/${job.jobId}/rejects`, rejectsPath, { sha256: job.rejects.sha256, status, label: 'downloading rejects', env });
  }
  if (json) {
    printJson({ job, output, rejects: rejectsPath } satisfies BatchPredictOutput);
    return 0;
  }
  console.log(`${job.model.name} version ${job.model.version}${job.model.alias ? ` (@${job.model.alias})` : ''}: ${rows(job.rowsDone)} in ${job.chunks} chunks (job ${job.jobId})`);
  console.log(`  predicted ${rows(job.predicted)} → ${output}  sha256 ${job.output!.sha256}`);
  if (rejectsPath) console.log(`  rejected  ${rows(job.rejected)} → ${rejectsPath} (each with its reasons)`);
  else console.log('  rejected  0 rows');
  console.log(`  input sha256 ${job.input.sha256}`);
  return 0;
}

/** A local file is uploaded; otherwise `name[:version]` names a dataset version. */
async function batchInput(input: string, status: StatusLine | null, env: NodeJS.ProcessEnv): Promise<StartBatchInferenceInput['input']> {
  const size = await stat(input).then((s) => (s.isFile() ? s.size : undefined), () => undefined);
  if (size === undefined) {
    const m = DATASET_REF.exec(input);
    if (!m) throw new CliError(`${input} is neither a file nor a dataset name (dataset or dataset:version)`);
    return { dataset: m[1], ...(m[2] ? { version: Number(m[2]) } : {}) };
  }
  const bar = size > PROGRESS_THRESHOLD_BYTES ? status : null;
  const t0 = Date.now();
  const reply = (await streamBody('POST', '/batch/inputs', createReadStream(input), size, env, (sent) => bar?.update(renderProgress(sent, size, Date.now() - t0)), 'serving')) as { key: string };
  bar?.done(renderProgress(size, size, Date.now() - t0));
  return { upload: reply.key };
}

/** Polls the job until it is no longer running, with a bar over the rows done. */
async function follow(job: BatchJobView, status: StatusLine | null, env: NodeJS.ProcessEnv): Promise<BatchJobView> {
  const t0 = Date.now();
  let delay = 100;
  try {
    while (job.status === 'running') {
      status?.update(renderProgress(job.rowsDone, job.input.rows, Date.now() - t0, 'predicting', rows));
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(500, Math.round(delay * 1.5));
      job = await call<BatchJobView>('serving', 'GET', `/batch/jobs/${encodeURIComponent(job.jobId)}`, undefined, env);
    }
    status?.done(renderProgress(job.rowsDone, job.input.rows, Date.now() - t0, 'predicting', rows));
    return job;
  } catch (err) {
    status?.done();
    throw err;
  }
}
