import { setTimeout as sleepFor } from 'node:timers/promises';
import { DomainError, InfrastructureError, ValidationError } from '@mlp/contracts';

export interface RetryPolicy {
  /** Total tries, the first included (1 = no retry). */
  attempts: number;
  /** Cap of the first retry's delay; doubles per attempt. */
  baseDelayMs: number;
  /** Upper bound of any delay. */
  maxDelayMs: number;
}

export interface RetryInfo {
  /** The attempt that just failed (1-based). */
  attempt: number;
  error: Error;
  /** How long withRetry sleeps before the next attempt. */
  delayMs: number;
}

export type OnRetry = (info: RetryInfo) => Promise<void>;

export interface RetryOptions {
  /** What is being tried, for the final error (`download of https://…`); no secrets. */
  label?: string;
  /** Test seams: a uniform random in [0, 1) and the sleep. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** A response outside 2xx. `description` names the resource without credentials. */
export class HttpStatusError extends InfrastructureError {
  readonly status: number;
  constructor(status: number, statusText: string, description: string) {
    super(`HTTP ${status}${statusText ? ` ${statusText}` : ''} from ${description}`, { code: 'HTTP_STATUS', details: { status } });
    this.status = status;
  }
}

/** Socket-level failures worth another try (refused, reset, timed out, transient DNS). */
const retryableSystemCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
]);

/** undici errors of a failed or interrupted exchange (not argument, abort or size errors). */
const retryableUndiciCodes = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);

/**
 * SQLSTATEs of transient PostgreSQL failures: 08 connection exception,
 * 53 insufficient resources (too many connections, out of memory/disk),
 * 57P01-57P03 admin/crash shutdown and "cannot connect now", 57P05 idle
 * session timeout, 40001 serialization failure, 40P01 deadlock.
 * 57P04 (database dropped) is final.
 */
const retryableSqlState = /^(08[0-9A-Z]{3}|53[0-9A-Z]{3}|57P0[1235]|40001|40P01)$/;

/** node-postgres client errors raised without a code when the connection is lost or times out. */
const pgConnectionMessages = [
  /^Connection terminated/,
  /^timeout expired$/,
  /^Query read timeout$/,
  /^Client has encountered a connection error/,
];

/**
 * Whether another attempt may succeed: HTTP 5xx/429, socket and DNS-retry
 * failures (also inside `fetch failed` / AggregateError), undici timeouts and
 * socket errors, timeouts, and transient PostgreSQL failures. Everything
 * else, notably 4xx and SQL errors in the query, is final.
 */
export function isRetryable(err: unknown): boolean {
  return check(err, 0);
}

function check(err: unknown, depth: number): boolean {
  if (depth > 8 || err === null || typeof err !== 'object') return false;
  if (err instanceof HttpStatusError) return err.status >= 500 || err.status === 429;
  // Our own verdicts are final: bad input, not found, or retries already spent.
  if (err instanceof DomainError && (!(err instanceof InfrastructureError) || err.code === 'RETRIES_EXHAUSTED')) return false;
  const e = err as { code?: unknown; name?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string') {
    if (retryableSystemCodes.has(e.code) || retryableUndiciCodes.has(e.code) || retryableSqlState.test(e.code)) return true;
  }
  if (e.name === 'TimeoutError') return true; // AbortSignal.timeout
  if (typeof e.message === 'string' && pgConnectionMessages.some((re) => re.test(e.message as string))) return true;
  if (Array.isArray(e.errors) && e.errors.some((inner) => check(inner, depth + 1))) return true;
  return check(e.cause, depth + 1);
}

/**
 * Calls `fn(attempt)` until it resolves, at most `policy.attempts` times.
 * A failure that isRetryable is followed by `onRetry` (awaited) and a sleep of
 * full-jitter exponential backoff: random(0, min(maxDelayMs, baseDelayMs·2^(attempt-1))).
 * A failure that is not retryable is rethrown as is, at once. When the last
 * attempt fails, its error is thrown wrapped in an InfrastructureError.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  policy: RetryPolicy,
  onRetry: OnRetry,
  options: RetryOptions = {},
): Promise<T> {
  validatePolicy(policy);
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? ((ms: number) => sleepFor(ms).then(() => undefined));
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (caught) {
      const error = asError(caught);
      if (!isRetryable(error)) throw error;
      if (attempt >= policy.attempts) {
        throw new InfrastructureError(`${options.label ?? 'operation'} failed after ${attempt} attempt${attempt === 1 ? '' : 's'}: ${describeError(error)}`, {
          code: 'RETRIES_EXHAUSTED',
          details: { attempts: attempt },
          cause: error,
        });
      }
      const delayMs = backoffDelay(attempt, policy, random);
      await onRetry({ attempt, error, delayMs });
      await sleep(delayMs);
    }
  }
}

/** Full jitter: a uniform delay in [0, min(maxDelayMs, baseDelayMs·2^(attempt-1))], in whole ms. */
export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(random() * cap);
}

/** An error's message plus its causes' (`fetch failed: connect ECONNREFUSED …`); the code when the message is empty. */
export function describeError(err: Error): string {
  const parts: string[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < 5 && isErrorLike(current); depth++) {
    const code = (current as { code?: unknown }).code;
    const inner = (current as { errors?: unknown }).errors;
    const text = current.message || (Array.isArray(inner) && isErrorLike(inner[0]) ? inner[0].message : '') || (typeof code === 'string' ? code : current.name);
    if (!parts.some((p) => p.includes(text))) parts.push(text);
    current = current.cause;
  }
  return parts.join(': ');
}

/** Error by shape, not instanceof: errors from another realm (Node's fetch under a test VM) are errors too. */
function isErrorLike(value: unknown): value is Error {
  return value instanceof Error || (typeof value === 'object' && value !== null && typeof (value as Error).message === 'string');
}

function asError(value: unknown): Error {
  return isErrorLike(value) ? value : new Error(String(value));
}

function validatePolicy(policy: RetryPolicy): void {
  const issues = [
    ...(Number.isInteger(policy.attempts) && policy.attempts >= 1 ? [] : [{ path: 'retry.attempts', message: 'an integer ≥ 1' }]),
    ...(Number.isFinite(policy.baseDelayMs) && policy.baseDelayMs >= 0 ? [] : [{ path: 'retry.baseDelayMs', message: 'a number ≥ 0' }]),
    ...(Number.isFinite(policy.maxDelayMs) && policy.maxDelayMs >= 0 ? [] : [{ path: 'retry.maxDelayMs', message: 'a number ≥ 0' }]),
  ];
  if (issues.length > 0) throw new ValidationError(`invalid retry policy: ${issues.map((i) => `${i.path} must be ${i.message}`).join('; ')}`, issues);
}
