import type { FeedbackTelemetry } from '@mlp/contracts';
import type { PredictionEntry } from './prediction-entry';
import { TelemetryPublisher } from './telemetry-publisher';
import type { TelemetrySink } from './telemetry-sink';

/** A sink whose writes finish when the test says so: a slow telemetry store. */
class HeldSink implements TelemetrySink {
  readonly kind = 'held';
  readonly written: string[] = [];
  private release: (() => void)[] = [];
  writePredictions(entries: readonly PredictionEntry[]): Promise<void> {
    return new Promise((resolve) =>
      this.release.push(() => {
        this.written.push(...entries.map((e) => e.requestId));
        resolve();
      }),
    );
  }
  async writeFeedback(_records: readonly FeedbackTelemetry[]): Promise<void> {
    return undefined;
  }
  async modelOfRequest(): Promise<string | undefined> {
    return undefined;
  }
  async close(): Promise<void> {
    return undefined;
  }
  releaseAll(): void {
    for (const r of this.release.splice(0)) r();
  }
}

const entry = (requestId: string, n: number): PredictionEntry => ({
  requestId,
  model: 'churn',
  version: 1,
  arm: 'production',
  instance: 'test',
  features: { x: Array.from({ length: n }, (_, i) => i) },
  n,
  predictions: Array.from({ length: n }, () => 'no'),
  latencyMs: 1,
  at: 0,
});

describe('TelemetryPublisher', () => {
  it('bounds the rows a slow sink still holds together with the buffered ones: past maxBuffer a request is dropped and counted', async () => {
    const sink = new HeldSink();
    const dropped: number[] = [];
    const publisher = new TelemetryPublisher(sink, { sample: 1, maxBuffer: 4, flushMs: 60_000, onDropped: (n) => dropped.push(n) });
    publisher.publishPrediction(entry('a', 2));
    const first = publisher.flush(); // 'a' is now being written, not yet done
    publisher.publishPrediction(entry('b', 2));
    publisher.publishPrediction(entry('c', 1)); // 2 writing + 2 buffered + 1 > 4
    expect(dropped).toEqual([1]);
    expect(publisher.dropped).toBe(1);
    await new Promise((r) => setImmediate(r));
    sink.releaseAll();
    await first;
    publisher.publishPrediction(entry('d', 1)); // 'a' written: room again
    const second = publisher.flush();
    await new Promise((r) => setImmediate(r));
    sink.releaseAll();
    await second;
    expect(sink.written).toEqual(['a', 'b', 'd']);
    expect(dropped).toEqual([1]);
  });

  it('remembers request ids for feedback only when the sink cannot look them up', async () => {
    const sink = new HeldSink();
    const publisher = new TelemetryPublisher(sink, { sample: 1, flushMs: 60_000 });
    publisher.publishPrediction(entry('r1', 1));
    const flushed = publisher.modelOf('r1');
    await expect(flushed).resolves.toBe('churn');
    const finding = Object.assign(new HeldSink(), { findsRequests: true });
    const lookedUp = new TelemetryPublisher(finding, { sample: 1, flushMs: 60_000 });
    lookedUp.publishPrediction(entry('r2', 1));
    const answer = lookedUp.modelOf('r2'); // not in a map: flushes, then asks the sink
    await new Promise((r) => setImmediate(r));
    finding.releaseAll();
    await expect(answer).resolves.toBeUndefined();
    expect(finding.written).toEqual(['r2']);
  });
});
