import { createReadStream } from 'node:fs';
import { readFile, realpath, stat } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { basename, delimiter, isAbsolute, relative, resolve, sep } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ForbiddenError, NotFoundError, ValidationError, type IngestionOutcome, type ServiceName } from '@mlp/contracts';
import { parseSchemaYaml, type DatasetSchema } from '@mlp/data';
import { callText, call, CliError, parseReply, requestHeaders, serviceUrl, unreachable } from './api';
import { PROGRESS_THRESHOLD_BYTES, renderProgress, renderWaiting, type StatusLine } from './progress';

export type InputFormat = 'csv' | 'tsv' | 'ndjson' | 'json' | 'parquet' | 'arrow';

export interface CsvOptions {
  delimiter?: string;
  header?: boolean;
  /** Strings read as missing besides the empty field. */
  nullValues?: string[];
}

/** What `mlp ingest` (and the `npm start` demo) sends. */
export interface IngestRequest {
  dataset: string;
  /** A local file path or an http(s) URL. */
  source: string;
  /** A schema YAML file declared first. */
  schemaFile?: string;
  format?: InputFormat;
  csv?: CsvOptions;
}

/** Where progress goes: null for none (--json, or not a terminal). */
export interface IngestUi {
  status: StatusLine | null;
  now?: () => number;
}

type JobStarted = { jobId: string; status: 'running' };

export const isUrl = (source: string): boolean => /^https?:\/\//i.test(source);

/**
 * Ingests one source through the ingestion service: declares the schema
 * (checked locally first, so YAML errors name the file, line and field),
 * then hands a URL to the service, or delivers a local file: read in place
 * when the platform runs on this machine and the file is under its roots
 * (no copy), else streamed as the upload body (never whole in memory), also
 * when the service refuses the path (403 SOURCE_NOT_ALLOWED: its roots
 * differ). Then polls the job until it ends.
 */
export async function ingest(request: IngestRequest, ui: IngestUi, env: NodeJS.ProcessEnv = process.env): Promise<IngestionOutcome> {
  const size = isUrl(request.source) ? undefined : await localFileSize(request.source);
  if (request.schemaFile) await declareSchemaFile(request.dataset, request.schemaFile, env);
  const options = {
    ...(request.format ? { format: request.format } : {}),
    ...(request.csv && Object.keys(request.csv).length > 0 ? { csv: request.csv } : {}),
    wait: false,
  };
  let started: JobStarted | IngestionOutcome;
  if (isUrl(request.source)) {
    started = await startIngestion(request.dataset, { kind: 'url', url: request.source }, options, env);
  } else {
    const inPlace = await readableInPlace(request.source, env);
    const byPath = inPlace ? await startIngestion(request.dataset, { kind: 'file', path: inPlace }, options, env).catch(refusedPath) : undefined;
    started = byPath ?? (await uploadFile(request, size ?? 0, ui, env));
  }
  if (started.status !== 'running') return started as IngestionOutcome;
  return waitForJob(started.jobId, ui, env);
}

function startIngestion(dataset: string, source: unknown, options: object, env: NodeJS.ProcessEnv): Promise<JobStarted | IngestionOutcome> {
  return call<JobStarted | IngestionOutcome>('ingestion', 'POST', `/datasets/${encodeURIComponent(dataset)}/ingestions`, { source, ...options }, env);
}

/** The service would not read the path (outside its roots, or not there on its side): upload instead. */
function refusedPath(err: unknown): undefined {
  if (err instanceof ForbiddenError && err.code === 'SOURCE_NOT_ALLOWED') return undefined;
  if (err instanceof NotFoundError && err.code === 'FILE_NOT_FOUND') return undefined;
  throw err;
}

/**
 * The directories the platform on this machine reads files from, as this
 * environment configures them: MLP_INGEST_ROOTS, else `<MLP_HOME>/inbox`.
 */
export function localRoots(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.MLP_INGEST_ROOTS) {
    return env.MLP_INGEST_ROOTS.split(new RegExp(`[,${delimiter === ';' ? ';' : ':'}\n]`)).map((s) => s.trim()).filter(Boolean).map((p) => resolve(p));
  }
  return [resolve(env.MLP_HOME || '.mlp', 'inbox')];
}

/** Whether the ingestion service answers on this machine (a loopback URL): only then can it read our files. */
export function platformIsLocal(env: NodeJS.ProcessEnv = process.env): boolean {
  const host = new URL(serviceUrl('ingestion', env)).hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

/** The path to send when the platform is local and the file is (really) under its roots; undefined to upload. */
export async function readableInPlace(path: string, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  if (!platformIsLocal(env)) return undefined;
  const real = await realpath(path).catch(() => undefined);
  if (!real) return undefined;
  for (const root of localRoots(env)) {
    const realRoot = await realpath(root).catch(() => undefined);
    const rel = realRoot === undefined ? undefined : relative(realRoot, real);
    // The absolute path as given, not the real one: its name (extension) is what the format is detected from.
    if (rel !== undefined && rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel)) return resolve(path);
  }
  return undefined;
}

/** Size of a local input; a clear error when it is not a readable file. */
export async function localFileSize(path: string): Promise<number> {
  const info = await stat(path).catch((err: NodeJS.ErrnoException) => {
    throw new CliError(err.code === 'ENOENT' ? `no such file: ${path}` : `cannot read ${path}: ${err.message}`);
  });
  if (!info.isFile()) throw new CliError(`not a file: ${path}`);
  return info.size;
}

/** Reads and checks a schema file, then declares it (PUT, YAML). */
export async function declareSchemaFile(dataset: string, file: string, env: NodeJS.ProcessEnv = process.env): Promise<DatasetSchema> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new CliError(err.code === 'ENOENT' ? `no such schema file: ${file}` : `cannot read ${file}: ${err.message}`);
  });
  const schema = checkSchemaYaml(text, file);
  await callText('ingestion', 'PUT', `/datasets/${encodeURIComponent(dataset)}/schema`, text, 'text/yaml', env);
  return schema;
}

/**
 * Parses a schema YAML like the service does, naming `file` in every problem:
 * `invalid dataset schema in s.yaml:` then one `s.yaml:4:23 columns.b.min: expected number…` line each.
 */
export function checkSchemaYaml(text: string, file: string): DatasetSchema {
  try {
    return parseSchemaYaml(text, file);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    const lines = err.message.split('\n');
    const problems = lines.length > 1 ? lines.slice(1).map((l) => l.trim()) : lines;
    throw new CliError(`invalid dataset schema in ${file}:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

/** The upload query: format, file name (for format detection), CSV options, wait. */
export function uploadQuery(request: Pick<IngestRequest, 'source' | 'format' | 'csv'>, wait: boolean): string {
  const q = new URLSearchParams();
  if (request.format) q.set('format', request.format);
  q.set('filename', basename(request.source));
  q.set('wait', String(wait));
  if (request.csv?.delimiter !== undefined) q.set('delimiter', request.csv.delimiter);
  if (request.csv?.header !== undefined) q.set('header', String(request.csv.header));
  for (const n of request.csv?.nullValues ?? []) q.append('null', n);
  return q.toString();
}

/** Streams a local file as the upload body, with a progress bar for large ones. */
async function uploadFile(request: IngestRequest, size: number, ui: IngestUi, env: NodeJS.ProcessEnv): Promise<JobStarted | IngestionOutcome> {
  const path = `/datasets/${encodeURIComponent(request.dataset)}/upload?${uploadQuery(request, false)}`;
  const bar = size > PROGRESS_THRESHOLD_BYTES ? ui.status : null;
  const now = ui.now ?? Date.now;
  const t0 = now();
  const reply = await streamBody('PUT', path, createReadStream(request.source), size, env, (sent) => bar?.update(renderProgress(sent, size, now() - t0)));
  bar?.done(renderProgress(size, size, now() - t0));
  return reply as JobStarted | IngestionOutcome;
}

/** Infers a schema from a sample: a local file, or a URL streamed through. */
export async function inferSchema(
  dataset: string,
  source: string,
  options: { format?: InputFormat; delimiter?: string },
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ yaml: string; schema: DatasetSchema; candidateKeys: string[][] }> {
  const q = new URLSearchParams();
  if (options.format) q.set('format', options.format);
  q.set('filename', basename(isUrl(source) ? new URL(source).pathname : source) || 'sample');
  if (options.delimiter !== undefined) q.set('delimiter', options.delimiter);
  const path = `/datasets/${encodeURIComponent(dataset)}/infer-schema?${q}`;
  if (!isUrl(source)) {
    const size = await localFileSize(source);
    return (await streamBody('POST', path, createReadStream(source), size, env)) as { yaml: string; schema: DatasetSchema; candidateKeys: string[][] };
  }
  const res = await fetch(source).catch((err: Error) => {
    throw new CliError(`cannot fetch ${source}: ${err.message}`);
  });
  if (!res.ok || !res.body) throw new CliError(`cannot fetch ${source}: HTTP ${res.status}`);
  const length = Number(res.headers.get('content-length'));
  return (await streamBody('POST', path, Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), Number.isFinite(length) && length > 0 ? length : undefined, env)) as {
    yaml: string;
    schema: DatasetSchema;
    candidateKeys: string[][];
  };
}

/**
 * Polls `GET /ingestions/:jobId` until the job is no longer running,
 * showing `validating… 1.2s` meanwhile. A job the read model has not seen
 * yet (404 right after the start) is asked again.
 */
export async function waitForJob(jobId: string, ui: IngestUi, env: NodeJS.ProcessEnv = process.env): Promise<IngestionOutcome> {
  const now = ui.now ?? Date.now;
  const t0 = now();
  let delay = 100;
  try {
    for (;;) {
      const outcome = await call<IngestionOutcome>('ingestion', 'GET', `/ingestions/${encodeURIComponent(jobId)}`, undefined, env).catch((err: unknown) => {
        if (err instanceof NotFoundError && now() - t0 < 10_000) return undefined;
        throw err;
      });
      if (outcome && outcome.status !== 'running') return outcome;
      ui.status?.update(renderWaiting(now() - t0));
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(500, Math.round(delay * 1.5));
    }
  } finally {
    ui.status?.done();
  }
}

/**
 * Sends a stream as a request body to a service (ingestion unless named) (content-length
 * when the size is known, chunked otherwise) and parses the JSON reply.
 * `onBytes` sees the bytes handed to the socket so far. When the service
 * answers before taking the whole body (a 400 on the dataset name, say),
 * that answer is what the caller gets.
 */
export function streamBody(method: string, path: string, body: Readable, size: number | undefined, env: NodeJS.ProcessEnv, onBytes?: (sent: number) => void, service: ServiceName = 'ingestion'): Promise<unknown> {
  const url = new URL(`${serviceUrl(service, env)}${path}`);
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const headers: Record<string, string> = { ...requestHeaders(env), 'content-type': 'application/octet-stream', accept: 'application/json' };
  if (size !== undefined) headers['content-length'] = String(size);
  let sent = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      sent += chunk.length;
      onBytes?.(sent);
      done(null, chunk);
    },
  });
  return new Promise((resolve, reject) => {
    let answered = false;
    let failure: NodeJS.ErrnoException | undefined;
    const req = send(url, { method, headers }, (res) => {
      answered = true;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        try {
          resolve(parseReply(res.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'), method, url.toString()));
        } catch (err) {
          reject(err);
        }
      });
    });
    const fail = (err: NodeJS.ErrnoException) => {
      if (answered || failure) return;
      failure = err;
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOTFOUND' || err.code === 'EHOSTUNREACH') return reject(unreachable(service, env));
      // The service may have answered and closed early: give its reply a moment to arrive.
      setTimeout(() => {
        if (!answered) reject(err.code === 'ENOENT' || err.code === 'EACCES' ? new CliError(`cannot read the input: ${err.message}`) : new CliError(`upload failed: ${err.message}`));
      }, 1000);
    };
    req.on('error', fail);
    pipeline(body, counter, req).catch(fail);
  });
}
