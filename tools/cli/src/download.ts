import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import type { ServiceName } from '@mlp/contracts';
import { CliError, parseReply, requestHeaders, serviceUrl, unreachable } from './api';
import { progressEnabled, renderProgress, StatusLine, type ProgressStream } from './progress';

export interface DownloadOptions {
  /** The hex sha256 the bytes must have; otherwise the service's `x-content-sha256` header is checked when it sends one. */
  sha256?: string;
  /** A progress bar on this status line (none when null or absent). */
  status?: StatusLine | null;
  /** The progress label, e.g. `downloading training set`. */
  label?: string;
  env?: NodeJS.ProcessEnv;
  now?: () => number;
}

export interface Downloaded {
  output: string;
  bytes: number;
  sha256: string;
}

/** A status line for a download: on a terminal (or MLP_PROGRESS=1), never with --json. */
export function downloadStatus(json: boolean, stream: ProgressStream = process.stderr, env: NodeJS.ProcessEnv = process.env): StatusLine | null {
  return progressEnabled(stream, json, env) ? new StatusLine(stream) : null;
}

/**
 * GETs `path` from a service and streams the body into `output`: the
 * response is piped through a hash and a byte counter into a temp file next
 * to `output`, which is renamed only when the byte count matches the
 * content-length and the sha256 matches the expected one. Nothing is
 * buffered whole, and a broken or wrong download leaves `output` untouched.
 * An error reply comes back as the typed DomainError the service sent.
 */
export async function download(service: ServiceName, path: string, output: string, opts: DownloadOptions = {}): Promise<Downloaded> {
  const env = opts.env ?? process.env;
  const now = opts.now ?? Date.now;
  const url = `${serviceUrl(service, env)}${path}`;
  let response: Response;
  try {
    response = await fetch(url, { headers: requestHeaders(env) });
  } catch {
    throw unreachable(service, env);
  }
  if (!response.ok || !response.body) {
    parseReply(response.status, await response.text(), 'GET', url);
    throw new CliError(`GET ${url} answered HTTP ${response.status} without a body`);
  }
  const lengthHeader = response.headers.get('content-length');
  const total = lengthHeader === null ? undefined : Number(lengthHeader);
  const expected = opts.sha256 ?? response.headers.get('x-content-sha256') ?? undefined;
  const label = opts.label ?? 'downloading';
  const status = opts.status ?? null;
  const target = resolve(output);
  const temp = join(dirname(target), `.${basename(target)}.${process.pid}.part`);
  const hash = createHash('sha256');
  let bytes = 0;
  const t0 = now();
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      bytes += chunk.length;
      status?.update(renderProgress(bytes, total, now() - t0, label));
      done(null, chunk);
    },
  });
  try {
    try {
      await pipeline(Readable.fromWeb(response.body as NodeReadableStream<Uint8Array>), meter, createWriteStream(temp));
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code && /^E[A-Z]+$/.test(e.code) && e.syscall) throw new CliError(`cannot write ${output}: ${e.message}`);
      throw new CliError(`the download of ${url} broke off after ${bytes} bytes${total === undefined ? '' : ` of ${total}`}: ${e.message}; ${output} not written`);
    }
    if (total !== undefined && bytes !== total) {
      throw new CliError(`the download of ${url} gave ${bytes} bytes, not the ${total} announced; ${output} not written`);
    }
    const sha256 = hash.digest('hex');
    if (expected !== undefined && sha256 !== expected) {
      throw new CliError(`the download of ${url} hashes to ${sha256}, not ${expected}; ${output} not written`);
    }
    await rename(temp, target);
    status?.done(renderProgress(bytes, total, now() - t0, label));
    return { output, bytes, sha256 };
  } catch (err) {
    status?.done();
    throw err;
  } finally {
    await rm(temp, { force: true });
  }
}
