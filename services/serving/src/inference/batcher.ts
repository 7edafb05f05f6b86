import { DeadlineExceededError, OverloadedError } from './serving-errors';

/**
 * What the batcher runs: one synchronous predict over the inputs of several
 * requests (`rows` rows in all, in order): rows × outputSize values.
 */
export interface BatchModel<T> {
  readonly outputSize: number;
  predict(inputs: readonly T[], rows: number): Float32Array;
}

export interface BatcherOptions {
  /** Rows per predict call at most (a single larger request still runs, alone). */
  maxBatchSize: number;
  /** Longest a request waits for others to join it; 0 runs what is queued at the next turn of the event loop. */
  maxLatencyMs: number;
  /** Rows waiting at most; past it a request is refused at once (load shedding). */
  maxQueueRows: number;
  /** Called after each predict with the rows it ran. */
  onBatch?: (rows: number, requests: number) => void;
  /** A batch waits for at least this many rows (or maxLatencyMs): for traffic whose latency nobody waits on (shadow mirrors). Default 1. */
  minBatchRows?: number;
}

interface Pending<T> {
  input: T;
  n: number;
  resolve: (out: Float32Array) => void;
  reject: (err: unknown) => void;
  /** performance.now() past which the request fails with a 504 (Infinity: no deadline). */
  deadline: number;
  timeoutMs: number;
  settled: boolean;
}

/**
 * Adaptive micro-batching for one loaded version. Requests queue their
 * preprocessed rows; a batch runs when the queue holds `maxBatchSize` rows,
 * when it holds as many rows as recent batches had (so under steady
 * concurrency a batch waits for its peers, and a lone client never waits),
 * or after `maxLatencyMs`. Each request has its own deadline, independent of
 * the batching window: a request whose deadline passes leaves the queue with
 * a 504 and the others are unaffected. The queue is bounded.
 */
export class Batcher<T> {
  private queue: Pending<T>[] = [];
  private queuedRows = 0;
  private timer?: NodeJS.Timeout;
  private immediate?: NodeJS.Immediate;
  /** One timer for every queued request's deadline (armed at the earliest), not one per request. */
  private deadlineTimer?: NodeJS.Timeout;
  private deadlineAt = Infinity;
  /** Moving average of recent batch sizes (rows): the adaptive target. */
  private typical = 1;
  private closed = false;

  constructor(
    private readonly model: BatchModel<T>,
    private readonly options: BatcherOptions,
  ) {}

  /** Rows waiting now. */
  get depth(): number {
    return this.queuedRows;
  }

  /**
   * The rows' outputs (n × outputSize), or OverloadedError / DeadlineExceededError.
   * A request that fills a batch by itself (always, with maxBatchSize 1) runs at
   * once when nothing is queued, without an event-loop turn. Concurrency is not
   * visible here before requests reach the queue (they wait in their sockets
   * while one is parsed), so a lone small request still waits for the next turn.
   */
  submit(input: T, n: number, timeoutMs: number): Promise<Float32Array> {
    if (this.closed) return Promise.reject(new OverloadedError('this model version is being unloaded; retry'));
    if (this.queuedRows > 0 && this.queuedRows + n > this.options.maxQueueRows) {
      return Promise.reject(new OverloadedError(`the queue of this model version is full (${this.queuedRows} rows waiting, MLP_SERVING_MAX_QUEUE=${this.options.maxQueueRows}); retry later`));
    }
    if (this.runsAlone(n)) {
      try {
        return Promise.resolve(this.runNow(input, n)!);
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return new Promise<Float32Array>((resolve, reject) => {
      const bounded = timeoutMs > 0 && Number.isFinite(timeoutMs);
      const p: Pending<T> = { input, n, resolve, reject, deadline: bounded ? performance.now() + timeoutMs : Infinity, timeoutMs, settled: false };
      if (p.deadline < this.deadlineAt) this.armDeadline(p.deadline);
      this.queue.push(p);
      this.queuedRows += n;
      this.schedule();
    });
  }

  /**
   * `submit` without a promise when the request runs at once (it fills a
   * batch by itself and nothing is queued): its outputs, or what predict
   * throws. Undefined when it would wait: then `submit` it.
   */
  runNow(input: T, n: number): Float32Array | undefined {
    if (this.closed || !this.runsAlone(n)) return undefined;
    const out = this.model.predict([input], n);
    this.options.onBatch?.(n, 1);
    return out;
  }

  private runsAlone(n: number): boolean {
    return this.options.maxBatchSize <= n && this.queue.length === 0 && !this.immediate && !this.timer;
  }

  /** Refuses new requests; queued ones still run. */
  close(): void {
    this.closed = true;
  }

  private schedule(): void {
    const target = Math.min(this.options.maxBatchSize, Math.max(this.options.minBatchRows ?? 1, Math.floor(this.typical)));
    if (this.queuedRows >= target || this.options.maxLatencyMs <= 0) {
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = undefined;
      }
      this.immediate ??= setImmediate(() => this.flush());
    } else {
      this.timer ??= setTimeout(() => this.flush(), this.options.maxLatencyMs);
    }
  }

  private armDeadline(at: number): void {
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineAt = at;
    this.deadlineTimer = setTimeout(() => this.expireDue(), Math.max(0, at - performance.now()));
  }

  /** Fails the queued requests whose deadline has passed (504); re-arms for the next one. */
  private expireDue(): void {
    this.deadlineTimer = undefined;
    this.deadlineAt = Infinity;
    // A timer may fire a fraction of a millisecond before the deadline by this clock.
    const now = performance.now() + 1;
    let next = Infinity;
    const kept: Pending<T>[] = [];
    for (const p of this.queue) {
      if (p.deadline > now) {
        kept.push(p);
        if (p.deadline < next) next = p.deadline;
        continue;
      }
      this.queuedRows -= p.n;
      p.settled = true;
      p.reject(new DeadlineExceededError(`the request did not get its prediction within ${p.timeoutMs} ms (MLP_SERVING_TIMEOUT_MS)`));
    }
    this.queue = kept;
    if (next < Infinity) this.armDeadline(next);
  }

  private flush(): void {
    this.immediate = undefined;
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.queue.length === 0) return;
    const batch: Pending<T>[] = [];
    let rows = 0;
    while (this.queue.length > 0 && (batch.length === 0 || rows + this.queue[0].n <= this.options.maxBatchSize)) {
      const p = this.queue.shift()!;
      batch.push(p);
      rows += p.n;
    }
    this.queuedRows -= rows;
    this.typical = 0.7 * this.typical + 0.3 * rows;
    if (this.queue.length === 0 && this.deadlineTimer) {
      clearTimeout(this.deadlineTimer);
      this.deadlineTimer = undefined;
      this.deadlineAt = Infinity;
    }
    this.run(batch, rows);
    if (this.queue.length > 0) this.schedule();
  }

  private run(batch: Pending<T>[], rows: number): void {
    let out: Float32Array;
    try {
      out = this.model.predict(
        batch.map((p) => p.input),
        rows,
      );
    } catch (err) {
      // One bad request must not fail its batch-mates: each runs again alone.
      if (batch.length > 1) for (const p of batch) this.run([p], p.n);
      else this.settle(batch[0], undefined, err);
      return;
    }
    this.options.onBatch?.(rows, batch.length);
    const k = this.model.outputSize;
    let offset = 0;
    for (const p of batch) {
      this.settle(p, out.subarray(offset * k, (offset + p.n) * k));
      offset += p.n;
    }
  }

  private settle(p: Pending<T>, out: Float32Array | undefined, err?: unknown): void {
    if (p.settled) return;
    p.settled = true;
    if (out) p.resolve(out);
    else p.reject(err);
  }
}
