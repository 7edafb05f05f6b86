import { Batcher, type BatchModel } from './batcher';
import { DeadlineExceededError, OverloadedError } from './serving-errors';

/** Rows of several requests, one after the other. */
function stack(xs: readonly Float32Array[], n: number): Float32Array {
  const x = new Float32Array(n);
  let offset = 0;
  for (const part of xs) {
    x.set(part, offset);
    offset += part.length;
  }
  return x;
}

/** A model that doubles its single input and records the size of every predict call. */
function doubler(): BatchModel<Float32Array> & { calls: number[] } {
  const calls: number[] = [];
  return {
    calls,
    outputSize: 1,
    predict(xs: readonly Float32Array[], n: number) {
      calls.push(n);
      return stack(xs, n).map((v) => v * 2);
    },
  };
}

const rows = (...values: number[]) => new Float32Array(values);

describe('Batcher', () => {
  it('runNow answers a request that fills a batch by itself without a promise, and leaves one that would wait to submit', async () => {
    const model = doubler();
    const alone = new Batcher(model, { maxBatchSize: 2, maxLatencyMs: 0, maxQueueRows: 100 });
    expect(Array.from(alone.runNow(rows(1, 2), 2)!)).toEqual([2, 4]);
    expect(alone.runNow(rows(1), 1)).toBeUndefined();
    const queued = alone.submit(rows(5), 1, 1000);
    expect(alone.runNow(rows(3, 4), 2)).toBeUndefined();
    expect(Array.from(await queued)).toEqual([10]);
    expect(model.calls).toEqual([2, 1]);
    alone.close();
    expect(alone.runNow(rows(1, 2), 2)).toBeUndefined();
    await expect(alone.submit(rows(1, 2), 2, 1000)).rejects.toBeInstanceOf(OverloadedError);
  });

  it('runNow throws what predict throws', () => {
    const failing: BatchModel<Float32Array> = {
      outputSize: 1,
      predict: () => {
        throw new Error('bad rows');
      },
    };
    const b = new Batcher(failing, { maxBatchSize: 1, maxLatencyMs: 0, maxQueueRows: 100 });
    expect(() => b.runNow(rows(1), 1)).toThrow('bad rows');
  });

  it('coalesces concurrent requests into one predict call and gives each its own rows back', async () => {
    const model = doubler();
    const b = new Batcher(model, { maxBatchSize: 64, maxLatencyMs: 0, maxQueueRows: 100 });
    const out = await Promise.all([b.submit(rows(1), 1, 1000), b.submit(rows(2, 3), 2, 1000), b.submit(rows(4), 1, 1000)]);
    expect(out.map((o) => Array.from(o))).toEqual([[2], [4, 6], [8]]);
    expect(model.calls).toEqual([4]);
  });

  it('with minBatchRows, rows arriving one turn apart wait for each other (shadow mirrors) instead of running one by one', async () => {
    const turn = () => new Promise((r) => setImmediate(r));
    const run = async (minBatchRows?: number) => {
      const model = doubler();
      const b = new Batcher(model, { maxBatchSize: 64, maxLatencyMs: 60_000, maxQueueRows: 100, ...(minBatchRows ? { minBatchRows } : {}) });
      const out: Promise<Float32Array>[] = [];
      for (const v of [1, 2, 3]) {
        out.push(b.submit(rows(v), 1, 120_000));
        await turn();
      }
      expect((await Promise.all(out)).map((o) => Array.from(o))).toEqual([[2], [4], [6]]);
      return model.calls;
    };
    expect(await run()).toEqual([1, 1, 1]);
    expect(await run(3)).toEqual([3]);
  });

  it('never runs more than maxBatchSize rows at once (a larger request runs alone)', async () => {
    const model = doubler();
    const b = new Batcher(model, { maxBatchSize: 2, maxLatencyMs: 0, maxQueueRows: 100 });
    const out = await Promise.all([b.submit(rows(1), 1, 1000), b.submit(rows(2), 1, 1000), b.submit(rows(3), 1, 1000), b.submit(rows(4, 5, 6), 3, 1000)]);
    expect(out.map((o) => Array.from(o))).toEqual([[2], [4], [6], [8, 10, 12]]);
    expect(model.calls).toEqual([2, 1, 3]);
  });

  it('per-request deadlines are independent of the batching window', async () => {
    const model = doubler();
    // Once batches of 8 were seen, a lone request waits up to maxLatencyMs (10 s) for company...
    const b = new Batcher(model, { maxBatchSize: 8, maxLatencyMs: 10_000, maxQueueRows: 100 });
    await Promise.all(Array.from({ length: 8 }, (_, i) => b.submit(rows(i), 1, 1000)));
    await Promise.all(Array.from({ length: 8 }, (_, i) => b.submit(rows(i), 1, 1000)));
    // ...but its own 30 ms deadline ends it with a 504, and a request with a long deadline is not affected.
    const patient = b.submit(rows(7), 1, 60_000);
    await expect(b.submit(rows(1), 1, 30)).rejects.toBeInstanceOf(DeadlineExceededError);
    expect(b.depth).toBe(1);
    // Enough company arrives: the patient request runs, without the expired one.
    const company = Array.from({ length: 7 }, (_, i) => b.submit(rows(i), 1, 60_000));
    expect(Array.from(await patient)).toEqual([14]);
    await Promise.all(company);
    expect(model.calls.slice(2)).toEqual([8]);
  });

  it('each queued request meets its own deadline, in turn (one timer re-armed for the next)', async () => {
    const model = doubler();
    const b = new Batcher(model, { maxBatchSize: 8, maxLatencyMs: 10_000, maxQueueRows: 100 });
    await Promise.all(Array.from({ length: 8 }, (_, i) => b.submit(rows(i), 1, 1000)));
    await Promise.all(Array.from({ length: 8 }, (_, i) => b.submit(rows(i), 1, 1000)));
    const later = b.submit(rows(2), 1, 300);
    let laterSettled = false;
    later.catch(() => undefined).finally(() => (laterSettled = true));
    await expect(b.submit(rows(1), 1, 20)).rejects.toBeInstanceOf(DeadlineExceededError);
    expect(laterSettled).toBe(false);
    expect(b.depth).toBe(1);
    await expect(later).rejects.toBeInstanceOf(DeadlineExceededError);
    expect(b.depth).toBe(0);
    expect(model.calls).toEqual([8, 8]);
  });

  it('sheds load past the bounded queue with an OverloadedError (503 + Retry-After)', async () => {
    const model = doubler();
    const b = new Batcher(model, { maxBatchSize: 64, maxLatencyMs: 0, maxQueueRows: 3 });
    const accepted = [b.submit(rows(1, 2), 2, 1000), b.submit(rows(3), 1, 1000)];
    const shed = b.submit(rows(4), 1, 1000);
    await expect(shed).rejects.toBeInstanceOf(OverloadedError);
    await expect(shed).rejects.toMatchObject({ status: 503, retryAfterSeconds: 1, code: 'OVERLOADED' });
    expect((await Promise.all(accepted)).map((o) => Array.from(o))).toEqual([[2, 4], [6]]);
  });

  it('a request that fills a batch by itself runs at once, in the same turn of the event loop', async () => {
    const model = doubler();
    const b = new Batcher(model, { maxBatchSize: 4, maxLatencyMs: 10_000, maxQueueRows: 100 });
    const full = b.submit(rows(1, 2, 3, 4), 4, 1000);
    // It ran synchronously inside submit: the model saw it before any await.
    expect(model.calls).toEqual([4]);
    expect(Array.from(await full)).toEqual([2, 4, 6, 8]);
  });

  it('a failing predict fails only its batch', async () => {
    let fail = true;
    const b = new Batcher<Float32Array>(
      { outputSize: 1, predict: (xs, n) => (fail ? (() => { throw new Error('boom'); })() : stack(xs, n)) },
      { maxBatchSize: 64, maxLatencyMs: 0, maxQueueRows: 100 },
    );
    await expect(b.submit(rows(1), 1, 1000)).rejects.toThrow('boom');
    fail = false;
    expect(Array.from(await b.submit(rows(5), 1, 1000))).toEqual([5]);
  });

  it('a request that makes the batch fail fails alone: its batch-mates run again without it', async () => {
    const calls: number[] = [];
    const b = new Batcher<Float32Array>(
      {
        outputSize: 1,
        predict: (xs, n) => {
          calls.push(n);
          const x = stack(xs, n);
          if (x.some((v) => v < 0)) throw new Error('negative input');
          return x;
        },
      },
      { maxBatchSize: 64, maxLatencyMs: 0, maxQueueRows: 100 },
    );
    const results = await Promise.allSettled([b.submit(rows(1), 1, 1000), b.submit(rows(-1), 1, 1000), b.submit(rows(2, 3), 2, 1000)]);
    expect(results.map((r) => (r.status === 'fulfilled' ? Array.from(r.value) : (r.reason as Error).message))).toEqual([[1], 'negative input', [2, 3]]);
    expect(calls).toEqual([4, 1, 1, 2]);
  });
});
