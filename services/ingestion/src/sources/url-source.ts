import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { join, posix } from 'node:path';
import { pipeline, type Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import { DomainError, ForbiddenError, InfrastructureError, ValidationError } from '@mlp/contracts';
import { detectFormat } from '@mlp/data';
import { describeError, HttpStatusError, pinnedRequest, UrlPolicy, withRetry, type OnRetry, type RetryPolicy } from '@mlp/service-kit';
import type { InputFormat } from '../engine/read-source';
import type { AcquiredSource } from './acquired-source';
import { HashingFileWriter, type DigestResult } from './content-digest';
import { checkFormat, formatFromContentType, formatFromName } from './source-format';

export interface UrlSourceOptions {
  /** Which URLs may be fetched (scheme, hosts, addresses); every redirect is checked again. */
  policy: UrlPolicy;
  /** Skips detection from the URL path, the content type and the first bytes. */
  format?: InputFormat;
  retry: RetryPolicy;
  onRetry: OnRetry;
  /** An attempt is abandoned (and retried) when no response or no body bytes arrive for this long. Default 30 000. */
  timeoutMs?: number;
  /** A larger body fails at once with a ValidationError. Default: no limit. */
  maxBytes?: number;
  /** Redirects followed per attempt. Default 5. */
  maxRedirects?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_REDIRECTS = 5;
/** The whole pre-check takes at most this long: it holds up the request that starts the job. */
const PRECHECK_TIMEOUT_MS = 5_000;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

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
 * as Basic authorization (to the URL's own origin only, not after a redirect
 * elsewhere). The format is `opts.format`, else the URL path's extension,
 * else the content type, else the first bytes.
 *
 * `opts.policy` is asked before every connection, the first and each
 * redirect's (followed here, at most `maxRedirects`): a refusal is a 403
 * SOURCE_NOT_ALLOWED, never retried. The connection goes to the addresses
 * the policy checked, not to a second DNS answer.
 */
export async function urlSource(url: string, workDir: string, opts: UrlSourceOptions): Promise<AcquiredSource> {
  const target = parseUrl(url);
  const format = opts.format === undefined ? undefined : checkFormat(opts.format);
  const description = `url ${redactUrl(target)}`;
  const headers = requestHeaders(target);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (opts.maxBytes !== undefined && !(opts.maxBytes >= 0)) {
    throw new ValidationError('maxBytes must be a number ≥ 0', [{ path: 'maxBytes', message: 'a number ≥ 0' }]);
  }
  await mkdir(workDir, { recursive: true });
  const base = join(workDir, `url-${randomUUID()}`);

  const label = `download of ${redactUrl(target)}`;
  const limits: DownloadLimits = { description, timeoutMs, maxBytes: opts.maxBytes, maxRedirects: opts.maxRedirects ?? DEFAULT_MAX_REDIRECTS, policy: opts.policy };
  const { digest, contentType, final } = await withRetry(() => download(target, headers, `${base}.part`, limits), opts.retry, opts.onRetry, { label }).catch(
    (err: Error) => {
      if (err instanceof DomainError) throw err;
      throw new InfrastructureError(`${label} failed: ${err.message}`, { code: 'DOWNLOAD_FAILED', cause: err });
    },
  );

  let resolved: InputFormat;
  try {
    resolved =
      format ??
      formatFromName(posix.basename(target.pathname)) ??
      (final.pathname !== target.pathname ? formatFromName(posix.basename(final.pathname)) : undefined) ??
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

/**
 * The pre-check of a URL source before its job starts (and before any event):
 * follows the redirects with HEAD requests, no body fetched, asking `policy`
 * before each connection, and throws 403 SOURCE_NOT_ALLOWED when a hop leads
 * where the policy refuses. Whatever else happens (no answer in `timeoutMs`,
 * an error status, a server that does not answer HEAD, too many redirects)
 * is not decided here: the job's download repeats the chain with GET, checks
 * every hop again, retries what is transient and records the failure.
 */
export async function checkUrlRedirects(url: string, policy: UrlPolicy, opts: { timeoutMs?: number; maxRedirects?: number } = {}): Promise<void> {
  const target = parseUrl(url);
  const headers = requestHeaders(target);
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), opts.timeoutMs ?? PRECHECK_TIMEOUT_MS);
  try {
    const { res } = await follow(target, headers, 'HEAD', { description: `url ${redactUrl(target)}`, maxRedirects: opts.maxRedirects ?? DEFAULT_MAX_REDIRECTS, policy }, controller.signal);
    res.resume();
  } catch (err) {
    if (err instanceof ForbiddenError) throw err;
    // Not a refusal: left to the job's download (see above), which meets the same failure and records it.
  } finally {
    clearTimeout(timer);
    controller.abort(); // closes a connection still open
  }
}

/** Headers of every request for `target`; `user:pass@` becomes Basic authorization and leaves the URL. */
function requestHeaders(target: URL): Record<string, string> {
  const headers: Record<string, string> = { 'user-agent': 'mlp-ingestion', 'accept-encoding': 'gzip, deflate, br' };
  if (target.username || target.password) {
    const user = decodeURIComponent(target.username);
    const password = decodeURIComponent(target.password);
    headers.authorization = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    target.username = '';
    target.password = '';
  }
  return headers;
}

function parseUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // The input is not echoed: it may hold credentials.
    throw new ValidationError('not a valid URL', [{ path: 'source.url', message: 'not a valid URL' }]);
  }
  return UrlPolicy.checkScheme(parsed);
}

interface RedirectLimits {
  description: string;
  maxRedirects: number;
  policy: UrlPolicy;
}

interface DownloadLimits extends RedirectLimits {
  timeoutMs: number;
  maxBytes?: number;
}

/**
 * Requests `target`, following redirects (at most `maxRedirects`), each hop
 * checked by the policy and connected to the addresses it checked; resolves
 * with the first response that is not a redirect and the URL that gave it.
 */
async function follow(target: URL, headers: Record<string, string>, method: 'GET' | 'HEAD', limits: RedirectLimits, signal: AbortSignal): Promise<{ res: IncomingMessage; final: URL }> {
  let current = target;
  let sent = headers;
  for (let hop = 0; ; hop++) {
    const addresses = await limits.policy.resolve(current);
    const res = await pinnedRequest(current, { method, headers: sent, addresses, signal });
    const location = res.headers.location;
    if (!REDIRECTS.has(res.statusCode ?? 0) || !location) return { res, final: current };
    res.resume();
    if (hop >= limits.maxRedirects) {
      throw new InfrastructureError(`${limits.description} redirects more than ${limits.maxRedirects} times`, { code: 'TOO_MANY_REDIRECTS' });
    }
    let next: URL;
    try {
      next = new URL(location, current);
    } catch {
      throw new InfrastructureError(`${limits.description} redirects to an invalid URL`, { code: 'BAD_REDIRECT' });
    }
    UrlPolicy.checkScheme(next);
    next.username = '';
    next.password = '';
    next.hash = '';
    // Credentials go to the origin they were given for, not to wherever it redirects.
    if (next.origin !== current.origin) sent = Object.fromEntries(Object.entries(sent).filter(([k]) => k !== 'authorization'));
    current = next;
  }
}

/** One attempt: GET into `path` (created fresh, deleted on failure), following redirects. */
async function download(
  target: URL,
  headers: Record<string, string>,
  path: string,
  limits: DownloadLimits,
): Promise<{ digest: DigestResult; contentType: string | null; final: URL }> {
  const controller = new AbortController();
  const idle = Object.assign(new Error(`no data from ${limits.description} for ${limits.timeoutMs} ms`), { code: 'ETIMEDOUT' });
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(idle), limits.timeoutMs);
  };
  await rm(path, { force: true }); // a previous attempt's leftovers, if its cleanup failed
  const writer = await HashingFileWriter.create(path);
  let res: IncomingMessage | undefined;
  try {
    arm();
    const followed = await follow(target, headers, 'GET', limits, controller.signal);
    res = followed.res;
    const current = followed.final;
    const status = res.statusCode ?? 0;
    if (status < 200 || status > 299) {
      res.resume();
      throw new HttpStatusError(status, res.statusMessage ?? '', limits.description);
    }
    const declared = Number(res.headers['content-length'] ?? NaN);
    const encoding = (res.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (limits.maxBytes !== undefined && encoding === 'identity' && declared > limits.maxBytes) {
      res.resume();
      throw tooLarge(limits);
    }
    for await (const chunk of decoded(res, encoding, limits.description)) {
      arm();
      const bytes = chunk as Buffer;
      if (limits.maxBytes !== undefined && writer.sizeBytes + bytes.byteLength > limits.maxBytes) throw tooLarge(limits);
      await writer.write(bytes);
    }
    clearTimeout(timer);
    const type = res.headers['content-type'];
    return { digest: await writer.finish(), contentType: typeof type === 'string' ? type : null, final: current };
  } catch (err) {
    await writer.discard();
    // An abort surfaces as AbortError or as the reason depending on where it hit: report the reason.
    if (controller.signal.aborted && controller.signal.reason === idle) throw idle;
    if (err instanceof DomainError) throw err;
    throw new Error(describeError(err as Error), { cause: err });
  } finally {
    clearTimeout(timer);
    res?.destroy();
    controller.abort(); // releases the connection if the body was not fully read
  }
}

/** The body with its content-encoding undone (gzip, deflate, br). */
function decoded(res: IncomingMessage, encoding: string, description: string): Readable {
  const decoder =
    encoding === 'gzip' || encoding === 'x-gzip'
      ? createGunzip()
      : encoding === 'deflate'
        ? createInflate()
        : encoding === 'br'
          ? createBrotliDecompress()
          : encoding === 'identity'
            ? undefined
            : null;
  if (decoder === null) {
    res.resume();
    throw new ValidationError(`${description} is sent with an unsupported content-encoding "${encoding}"`, [{ path: 'source.url', message: `content-encoding ${encoding}` }]);
  }
  return decoder ? pipeline(res, decoder, () => undefined) : res;
}

function tooLarge(limits: DownloadLimits): ValidationError {
  return new ValidationError(`${limits.description} is larger than the limit of ${limits.maxBytes} bytes`, [
    { path: 'source.url', message: `larger than ${limits.maxBytes} bytes` },
  ]);
}
