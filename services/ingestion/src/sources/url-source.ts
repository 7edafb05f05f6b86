import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { DomainError, InfrastructureError, ValidationError } from '@mlp/contracts';
import { detectFormat } from '@mlp/data';
import type { InputFormat } from '../engine/read-source';
import type { AcquiredSource } from './acquired-source';
import { HashingFileWriter, type DigestResult } from './content-digest';
import { describeError, HttpStatusError, withRetry, type OnRetry, type RetryPolicy } from './retry';
import { checkFormat, formatFromContentType, formatFromName } from './source-format';

export interface UrlSourceOptions {
  /** Skips detection from the URL path, the content type and the first bytes. */
  format?: InputFormat;
  retry: RetryPolicy;
  onRetry: OnRetry;
  /** An attempt is abandoned (and retried) when no response or no body bytes arrive for this long. Default 30 000. */
  timeoutMs?: number;
  /** A larger body fails at once with a ValidationError. Default: no limit. */
  maxBytes?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** Query parameters that carry secrets: tokens, API keys, signatures (S3, GCS, Azure SAS), passwords. */
const secretParam = /token|key|secret|sig|pass|pwd|credential|auth/i;

/**
 * The URL without what must not be stored or logged: `user:pass@`, query
 * parameters named like a secret, and the fragment.
 */
export function redactUrl(input: string | URL): string {
  const url = new URL(String(input));
  url.username = '';
  url.password = '';
  url.hash = '';
  const secrets = [...url.searchParams.keys()].filter((name) => secretParam.test(name));
  for (const name of secrets) url.searchParams.delete(name);
  return url.toString();
}

/**
 * Downloads an http(s) URL to a new file in `workDir`, streaming: bytes are
 * hashed as they are written, never held whole in memory. Each attempt starts
 * over in a fresh file; failed attempts leave no file behind. Transient
 * failures (5xx, 429, refused/reset connections, timeouts) are retried by
 * `opts.retry`, other statuses fail at once. `user:pass@` in the URL is sent
 * as Basic authorization. The format is `opts.format`, else the URL path's
 * extension, else the content type, else the first bytes.
 */
export async function urlSource(url: string, workDir: string, opts: UrlSourceOptions): Promise<AcquiredSource> {
  const target = parseUrl(url);
  const format = opts.format === undefined ? undefined : checkFormat(opts.format);
  const description = `url ${redactUrl(target)}`;
  const headers: Record<string, string> = { 'user-agent': 'mlp-ingestion' };
  if (target.username || target.password) {
    const user = decodeURIComponent(target.username);
    const password = decodeURIComponent(target.password);
    headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    target.username = '';
    target.password = '';
  }
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (opts.maxBytes !== undefined && !(opts.maxBytes >= 0)) {
    throw new ValidationError('maxBytes must be a number ≥ 0', [{ path: 'maxBytes', message: 'a number ≥ 0' }]);
  }
  await mkdir(workDir, { recursive: true });
  const base = join(workDir, `url-${randomUUID()}`);

  const label = `download of ${redactUrl(target)}`;
  const { digest, contentType } = await withRetry(
    () => download(target, headers, `${base}.part`, { description, timeoutMs, maxBytes: opts.maxBytes }),
    opts.retry,
    opts.onRetry,
    { label },
  ).catch((err: Error) => {
    if (err instanceof DomainError) throw err;
    throw new InfrastructureError(`${label} failed: ${err.message}`, { code: 'DOWNLOAD_FAILED', cause: err });
  });

  let resolved: InputFormat;
  try {
    resolved =
      format ??
      formatFromName(posix.basename(target.pathname)) ??
      formatFromContentType(contentType) ??
      detectFormat(undefined, digest.head);
  } catch (err) {
    await rm(`${base}.part`, { force: true });
    throw err;
  }
  const path = `${base}.${resolved}`;
  await rename(`${base}.part`, path);
  return { path, format: resolved, sha256: digest.sha256, sizeBytes: digest.sizeBytes, description };
}

function parseUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // The input is not echoed: it may hold credentials.
    throw new ValidationError('not a valid URL', [{ path: 'source.url', message: 'not a valid URL' }]);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new ValidationError(`unsupported URL scheme "${parsed.protocol.replace(/:$/, '')}": only http and https`, [
      { path: 'source.url', message: 'only http and https URLs' },
    ]);
  }
  return parsed;
}

interface DownloadLimits {
  description: string;
  timeoutMs: number;
  maxBytes?: number;
}

/** One attempt: GET into `path` (created fresh, deleted on failure). */
async function download(
  target: URL,
  headers: Record<string, string>,
  path: string,
  limits: DownloadLimits,
): Promise<{ digest: DigestResult; contentType: string | null }> {
  const controller = new AbortController();
  const idle = Object.assign(new Error(`no data from ${limits.description} for ${limits.timeoutMs} ms`), { code: 'ETIMEDOUT' });
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(idle), limits.timeoutMs);
  };
  await rm(path, { force: true }); // a previous attempt's leftovers, if its cleanup failed
  const writer = await HashingFileWriter.create(path);
  try {
    arm();
    const res = await fetch(target, { headers, signal: controller.signal, redirect: 'follow' });
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      throw new HttpStatusError(res.status, res.statusText, limits.description);
    }
    const declared = Number(res.headers.get('content-length') ?? NaN);
    const encoded = res.headers.has('content-encoding'); // then content-length counts compressed bytes
    if (limits.maxBytes !== undefined && !encoded && declared > limits.maxBytes) {
      await res.body?.cancel().catch(() => undefined);
      throw tooLarge(limits);
    }
    if (res.body) {
      for await (const chunk of res.body) {
        arm();
        if (limits.maxBytes !== undefined && writer.sizeBytes + chunk.byteLength > limits.maxBytes) throw tooLarge(limits);
        await writer.write(chunk);
      }
    }
    clearTimeout(timer);
    return { digest: await writer.finish(), contentType: res.headers.get('content-type') };
  } catch (err) {
    await writer.discard();
    // An abort surfaces as AbortError or as the reason depending on where it hit: report the reason.
    if (controller.signal.aborted && controller.signal.reason === idle) throw idle;
    if (err instanceof DomainError) throw err;
    // fetch says only "fetch failed": name the cause (`fetch failed: connect ECONNREFUSED …`), keep it for isRetryable.
    throw new Error(describeError(err as Error), { cause: err });
  } finally {
    clearTimeout(timer);
    controller.abort(); // releases the connection if the body was not fully read
  }
}

function tooLarge(limits: DownloadLimits): ValidationError {
  return new ValidationError(`${limits.description} is larger than the limit of ${limits.maxBytes} bytes`, [
    { path: 'source.url', message: `larger than ${limits.maxBytes} bytes` },
  ]);
}
