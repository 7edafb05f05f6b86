import { InfrastructureError, ValidationError } from '@mlp/contracts';
import { backoffDelay, HttpStatusError, isRetryable, withRetry, type RetryInfo } from './retry';

const sysErr = (code: string, message = `${code} happened`) => Object.assign(new Error(message), { code });

/** A fn failing with the given errors in turn, then resolving 'ok'. */
function failing(...errors: Error[]) {
  const attempts: number[] = [];
  const fn = async (attempt: number) => {
    attempts.push(attempt);
    const err = errors[attempt - 1];
    if (err) throw err;
    return 'ok';
  };
  return { fn, attempts };
}

function recorder() {
  const retries: RetryInfo[] = [];
  const sleeps: number[] = [];
  return {
    retries,
    sleeps,
    onRetry: async (info: RetryInfo) => {
      retries.push(info);
    },
    sleep: async (ms: number) => {
      sleeps.push(ms);
    },
  };
}

describe('isRetryable', () => {
  it.each([
    ['HTTP 500', new HttpStatusError(500, 'Internal Server Error', 'x')],
    ['HTTP 503', new HttpStatusError(503, '', 'x')],
    ['HTTP 429', new HttpStatusError(429, 'Too Many Requests', 'x')],
    ['ECONNREFUSED', sysErr('ECONNREFUSED')],
    ['ECONNRESET', sysErr('ECONNRESET')],
    ['ETIMEDOUT', sysErr('ETIMEDOUT')],
    ['EAI_AGAIN', sysErr('EAI_AGAIN')],
    ['undici connect timeout', sysErr('UND_ERR_CONNECT_TIMEOUT')],
    ['undici socket', sysErr('UND_ERR_SOCKET')],
    ['fetch failed with a refused cause', new TypeError('fetch failed', { cause: sysErr('ECONNREFUSED') })],
    ['AggregateError of refusals', Object.assign(new AggregateError([sysErr('ECONNREFUSED'), sysErr('ECONNREFUSED')], ''), {})],
    ['AbortSignal.timeout', new DOMException('The operation was aborted due to timeout', 'TimeoutError')],
    ['pg connection terminated', new Error('Connection terminated unexpectedly')],
    ['pg connect timeout', new Error('Connection terminated due to connection timeout')],
    ['57P01 admin shutdown', sysErr('57P01')],
    ['57P03 cannot connect now', sysErr('57P03')],
    ['08006 connection failure', sysErr('08006')],
    ['53300 too many connections', sysErr('53300')],
    ['40001 serialization failure', sysErr('40001')],
    ['40P01 deadlock', sysErr('40P01')],
  ])('retries %s', (_, err) => {
    expect(isRetryable(err)).toBe(true);
  });

  it.each([
    ['HTTP 400', new HttpStatusError(400, 'Bad Request', 'x')],
    ['HTTP 404', new HttpStatusError(404, 'Not Found', 'x')],
    ['HTTP 401', new HttpStatusError(401, 'Unauthorized', 'x')],
    ['42601 syntax error', sysErr('42601', 'syntax error at or near "SELEC"')],
    ['42P01 undefined table', sysErr('42P01')],
    ['28P01 bad password', sysErr('28P01')],
    ['57P04 database dropped', sysErr('57P04')],
    ['ENOTFOUND', sysErr('ENOTFOUND')],
    ['undici invalid argument', sysErr('UND_ERR_INVALID_ARG')],
    ['fetch failed with a final cause', new TypeError('fetch failed', { cause: new Error('bad port') })],
    ['user abort', new DOMException('This operation was aborted', 'AbortError')],
    ['ValidationError over a refused cause', new ValidationError('bad input', [], { cause: sysErr('ECONNREFUSED') })],
    ['exhausted retries', new InfrastructureError('x failed after 3 attempts', { code: 'RETRIES_EXHAUSTED', cause: sysErr('ECONNREFUSED') })],
    ['plain error', new Error('boom')],
    ['not an error', 'ECONNREFUSED'],
    ['null', null],
  ])('does not retry %s', (_, err) => {
    expect(isRetryable(err)).toBe(false);
  });
});

describe('backoffDelay', () => {
  it('is random(0, min(max, base·2^(attempt-1)))', () => {
    const policy = { attempts: 10, baseDelayMs: 100, maxDelayMs: 1000 };
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, policy, () => 0.5))).toEqual([50, 100, 200, 400, 500, 500]);
    expect(backoffDelay(3, policy, () => 0)).toBe(0);
    expect(backoffDelay(3, policy, () => 0.999999)).toBe(400);
  });
});

describe('withRetry', () => {
  const policy = { attempts: 4, baseDelayMs: 100, maxDelayMs: 300 };

  it('retries retryable failures with exact jittered delays, calling onRetry before each sleep', async () => {
    const r = recorder();
    const errors = [sysErr('ECONNRESET'), new HttpStatusError(503, 'Service Unavailable', 'x'), sysErr('ETIMEDOUT')];
    const { fn, attempts } = failing(...errors);
    const order: string[] = [];
    const result = await withRetry(
      fn,
      policy,
      async (info) => {
        order.push(`retry ${info.attempt}`);
        await r.onRetry(info);
      },
      {
        random: () => 0.25,
        sleep: async (ms) => {
          order.push(`sleep ${ms}`);
          await r.sleep(ms);
        },
      },
    );
    expect(result).toBe('ok');
    expect(attempts).toEqual([1, 2, 3, 4]);
    // caps 100, 200, 300 (max) → a quarter of each
    expect(r.retries.map(({ attempt, error, delayMs }) => ({ attempt, error, delayMs }))).toEqual([
      { attempt: 1, error: errors[0], delayMs: 25 },
      { attempt: 2, error: errors[1], delayMs: 50 },
      { attempt: 3, error: errors[2], delayMs: 75 },
    ]);
    expect(r.sleeps).toEqual([25, 50, 75]);
    expect(order).toEqual(['retry 1', 'sleep 25', 'retry 2', 'sleep 50', 'retry 3', 'sleep 75']);
  });

  it('waits for onRetry before sleeping and trying again', async () => {
    let recorded = false;
    const { fn, attempts } = failing(sysErr('ECONNREFUSED'));
    await withRetry(
      async (attempt) => {
        if (attempt === 2) expect(recorded).toBe(true);
        return fn(attempt);
      },
      policy,
      async () => {
        await new Promise((resolve) => setTimeout(resolve, 20));
        recorded = true;
      },
      { random: () => 0 },
    );
    expect(attempts).toEqual([1, 2]);
  });

  it('fails at once on a non-retryable error, unwrapped', async () => {
    const r = recorder();
    const notFound = new HttpStatusError(404, 'Not Found', 'url http://x/a.csv');
    const { fn, attempts } = failing(notFound);
    await expect(withRetry(fn, policy, r.onRetry, { sleep: r.sleep })).rejects.toBe(notFound);
    expect(attempts).toEqual([1]);
    expect(r.retries).toHaveLength(0);
    expect(r.sleeps).toHaveLength(0);
  });

  it('stops retrying when a later failure is not retryable', async () => {
    const r = recorder();
    const syntax = sysErr('42601', 'syntax error');
    const { fn, attempts } = failing(sysErr('ECONNREFUSED'), syntax);
    await expect(withRetry(fn, policy, r.onRetry, { sleep: r.sleep })).rejects.toBe(syntax);
    expect(attempts).toEqual([1, 2]);
    expect(r.retries).toHaveLength(1);
  });

  it('wraps the last failure in an InfrastructureError naming the attempts and the cause', async () => {
    const r = recorder();
    const last = new TypeError('fetch failed', { cause: sysErr('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:9') });
    const { fn, attempts } = failing(sysErr('ECONNREFUSED'), sysErr('ECONNREFUSED'), last);
    const err = await withRetry(fn, { attempts: 3, baseDelayMs: 10, maxDelayMs: 10 }, r.onRetry, {
      sleep: r.sleep,
      random: () => 1,
      label: 'download of http://x/',
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfrastructureError);
    const infra = err as InfrastructureError;
    expect(infra.message).toBe('download of http://x/ failed after 3 attempts: fetch failed: connect ECONNREFUSED 127.0.0.1:9');
    expect(infra.code).toBe('RETRIES_EXHAUSTED');
    expect(infra.cause).toBe(last);
    expect(attempts).toEqual([1, 2, 3]);
    expect(r.retries.map((i) => i.attempt)).toEqual([1, 2]);
    expect(r.sleeps).toEqual([10, 10]);
  });

  it('with one attempt, wraps a retryable failure without calling onRetry', async () => {
    const r = recorder();
    const { fn } = failing(sysErr('ECONNRESET', 'socket hang up'));
    const err = await withRetry(fn, { attempts: 1, baseDelayMs: 1, maxDelayMs: 1 }, r.onRetry, { sleep: r.sleep }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InfrastructureError);
    expect((err as Error).message).toBe('operation failed after 1 attempt: socket hang up');
    expect(r.retries).toHaveLength(0);
  });

  it('uses a real sleep and Math.random by default', async () => {
    const { fn, attempts } = failing(sysErr('ECONNRESET'));
    const delays: number[] = [];
    const result = await withRetry(fn, { attempts: 2, baseDelayMs: 5, maxDelayMs: 5 }, async (info) => {
      delays.push(info.delayMs);
    });
    expect(result).toBe('ok');
    expect(attempts).toEqual([1, 2]);
    expect(delays[0]).toBeGreaterThanOrEqual(0);
    expect(delays[0]).toBeLessThanOrEqual(5);
  });

  it('rejects an invalid policy', async () => {
    await expect(withRetry(async () => 1, { attempts: 0, baseDelayMs: 1, maxDelayMs: 1 }, async () => undefined)).rejects.toThrow(ValidationError);
    await expect(withRetry(async () => 1, { attempts: 2, baseDelayMs: -1, maxDelayMs: 1 }, async () => undefined)).rejects.toThrow('retry.baseDelayMs');
  });
});
