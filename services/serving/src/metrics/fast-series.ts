import type { Counter, Histogram } from 'prom-client';

/** prom-client 15's per-series state (`hashMap` values), as observe/inc leave it. */
interface HistogramEntry {
  labels: object;
  bucketValues: Record<string, number>;
  sum: number;
  count: number;
}
interface CounterEntry {
  labels: object;
  value: number;
}
type WithMap<E> = { hashMap: Record<string, E> };

/** The series of `labels` in a metric's map (its key and state), or undefined. */
function findEntry<E extends { labels: object }>(map: Record<string, E>, labels: Record<string, string>): { key: string; entry: E } | undefined {
  const names = Object.keys(labels);
  for (const key in map) {
    const l = map[key].labels as Record<string, unknown>;
    if (Object.keys(l).length === names.length && names.every((n) => l[n] === labels[n])) return { key, entry: map[key] };
  }
  return undefined;
}

/**
 * One series of a histogram (fixed labels), observed per request without
 * prom-client's per-call label validation, hashing and number-to-string
 * bucket lookup: the series' state is found once (after a first ordinary
 * observe) and updated in place, exactly as `observe` updates it. A reset or
 * removal of the series (a new map, or another state under its key) sends
 * the next call through `observe` again.
 */
export class HistogramSeries {
  private map?: Record<string, HistogramEntry>;
  private key = '';
  private entry?: HistogramEntry;
  private readonly bounds: readonly number[];
  private readonly keys: readonly string[];

  constructor(
    private readonly histogram: Histogram<string>,
    private readonly labels: Record<string, string>,
  ) {
    this.bounds = (histogram as unknown as { upperBounds: number[] }).upperBounds;
    this.keys = this.bounds.map(String);
  }

  observe(value: number): void {
    const map = (this.histogram as unknown as WithMap<HistogramEntry>).hashMap;
    const entry = this.entry;
    if (entry === undefined || map !== this.map || map[this.key] !== entry || !Number.isFinite(value)) {
      this.histogram.observe(this.labels, value);
      this.map = map;
      const found = findEntry(map, this.labels);
      this.key = found?.key ?? '';
      this.entry = found?.entry;
      return;
    }
    entry.sum += value;
    entry.count += 1;
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]) {
        entry.bucketValues[this.keys[i]] += 1;
        return;
      }
    }
  }
}

/** One series of a counter (fixed labels), incremented in place: see {@link HistogramSeries}. */
export class CounterSeries {
  private map?: Record<string, CounterEntry>;
  private key = '';
  private entry?: CounterEntry;

  constructor(
    private readonly counter: Counter<string>,
    private readonly labels: Record<string, string>,
  ) {}

  inc(): void {
    const map = (this.counter as unknown as WithMap<CounterEntry>).hashMap;
    const entry = this.entry;
    if (entry === undefined || map !== this.map || map[this.key] !== entry) {
      this.counter.inc(this.labels);
      this.map = (this.counter as unknown as WithMap<CounterEntry>).hashMap;
      const found = findEntry(this.map, this.labels);
      this.key = found?.key ?? '';
      this.entry = found?.entry;
      return;
    }
    entry.value += 1;
  }
}
