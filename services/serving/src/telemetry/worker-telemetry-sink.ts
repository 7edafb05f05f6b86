import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { InfrastructureError, type FeedbackTelemetry } from '@mlp/contracts';
import { packPredictions } from './packed-predictions';
import type { PredictionEntry } from './prediction-entry';
import type { TelemetrySink } from './telemetry-sink';

type Op = 'predictions' | 'feedback' | 'model' | 'close';

/**
 * The embedded SQLite sink run on a worker thread: a flush posts the
 * buffered entries packed into flat arrays (structured clone, one message
 * per batch) and the
 * worker builds the rows and writes them in one transaction. The serving
 * thread keeps only the buffer push per request.
 */
export class WorkerTelemetrySink implements TelemetrySink {
  readonly kind = 'sqlite';
  readonly findsRequests = true;
  private readonly worker: Worker;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  private next = 1;
  private failed?: Error;

  constructor(file: string) {
    const script = join(__dirname, `telemetry-sink.worker${__filename.endsWith('.ts') ? '.ts' : '.js'}`);
    this.worker = new Worker(script, { workerData: { file }, execArgv: workerExecArgv(script) });
    this.worker.unref();
    this.worker.on('message', (m: { id: number; result?: unknown; error?: string }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error !== undefined) p.reject(new InfrastructureError(`telemetry sink: ${m.error}`, { code: 'TELEMETRY_SINK_FAILED' }));
      else p.resolve(m.result);
    });
    const fail = (err: Error) => {
      this.failed = err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    this.worker.on('error', (err) => fail(new InfrastructureError(`telemetry worker failed: ${err.message}`, { code: 'TELEMETRY_SINK_FAILED', cause: err })));
    this.worker.on('exit', (code) => fail(new InfrastructureError(`telemetry worker exited (${code})`, { code: 'TELEMETRY_SINK_FAILED' })));
  }

  writePredictions(entries: readonly PredictionEntry[]): Promise<void> {
    // Packed into flat arrays first: cloning one object per request cost the worker more than inserting its rows.
    return this.call('predictions', packPredictions(entries)) as Promise<void>;
  }

  writeFeedback(records: readonly FeedbackTelemetry[]): Promise<void> {
    return this.call('feedback', records) as Promise<void>;
  }

  modelOfRequest(requestId: string): Promise<string | undefined> {
    return this.call('model', requestId) as Promise<string | undefined>;
  }

  async close(): Promise<void> {
    if (!this.failed) await this.call('close').catch(() => undefined);
    await this.worker.terminate();
  }

  private call(op: Op, arg?: unknown): Promise<unknown> {
    if (this.failed) return Promise.reject(this.failed);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ id, op, arg });
    });
  }
}

/**
 * Sources run as TypeScript (tests, `npm start`, benches) need the repo's
 * register hook in the worker too; the built service (.js) needs nothing.
 */
function workerExecArgv(script: string): string[] {
  // Per-process flags (profilers, inspector) are refused by a Worker.
  const inherited = process.execArgv.filter((a) => !/^--(cpu-prof|heap-prof|perf-|inspect)/.test(a));
  if (!script.endsWith('.ts')) return inherited;
  const register = join(__dirname, '..', '..', '..', '..', 'tools', 'scripts', 'register.js');
  if (inherited.some((a) => a.includes('register')) || !existsSync(register)) return inherited;
  return [...inherited, '-r', register];
}
