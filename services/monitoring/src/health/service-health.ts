import type { Sample } from './prometheus-text';

export interface Scrape {
  at: number;
  samples: Map<string, Sample[]>;
}

export interface LatencyQuantiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface HttpHealth {
  /** Requests per second between the last two scrapes (null after the first). */
  requestRate: number | null;
  /** Share of those requests answered 5xx (null without requests in the interval). */
  errorRate: number | null;
  /** Seconds, from the histogram buckets of the interval (of all requests so far after the first scrape). */
  latency: LatencyQuantiles;
  /** Requests counted since the service started. */
  requestsTotal: number;
}

/**
 * `histogram_quantile` as Prometheus computes it: the bucket where the
 * rank falls, linear interpolation inside it (from 0 for the first bucket),
 * the largest finite bound when the rank is in +Inf. `buckets` are
 * cumulative counts by upper bound.
 */
export function histogramQuantile(q: number, buckets: { le: number; count: number }[]): number | null {
  const sorted = [...buckets].sort((a, b) => a.le - b.le);
  if (sorted.length === 0) return null;
  const total = sorted[sorted.length - 1].count;
  if (!(total > 0)) return null;
  const rank = q * total;
  let prevLe = 0;
  let prevCount = 0;
  for (const b of sorted) {
    if (b.count >= rank) {
      if (b.le === Infinity) return prevLe;
      if (b.count === prevCount) return b.le;
      return prevLe + ((b.le - prevLe) * (rank - prevCount)) / (b.count - prevCount);
    }
    prevLe = b.le;
    prevCount = b.count;
  }
  return prevLe;
}

/** Sum of `name` samples by label subset; `keep` filters samples. */
function sum(samples: Map<string, Sample[]>, name: string, keep: (s: Sample) => boolean = () => true): number {
  return (samples.get(name) ?? []).filter(keep).reduce((acc, s) => acc + s.value, 0);
}

function bucketsOf(samples: Map<string, Sample[]>, name: string): Map<number, number> {
  const byLe = new Map<number, number>();
  for (const s of samples.get(`${name}_bucket`) ?? []) {
    const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
    byLe.set(le, (byLe.get(le) ?? 0) + s.value);
  }
  return byLe;
}

/**
 * Request rate, 5xx rate and latency quantiles of one service from its
 * `http_request_duration_seconds` histogram: over the interval between two
 * scrapes (counter deltas, a restart — a counter going down — counts from zero), or over everything when there is one.
 */
export function httpHealth(current: Scrape, previous?: Scrape, histogram = 'http_request_duration_seconds'): HttpHealth {
  const count = (s: Scrape, keep?: (x: Sample) => boolean) => sum(s.samples, `${histogram}_count`, keep);
  const is5xx = (x: Sample) => /^5\d\d$/.test(x.labels.status ?? x.labels.code ?? '');
  const total = count(current);
  const reset = previous !== undefined && count(previous) > total;
  const base = previous && !reset ? previous : undefined;
  const requests = total - (base ? count(base) : 0);
  const errors = count(current, is5xx) - (base ? count(base, is5xx) : 0);
  const now = bucketsOf(current.samples, histogram);
  const before = base ? bucketsOf(base.samples, histogram) : new Map<number, number>();
  const buckets = [...now].map(([le, c]) => ({ le, count: c - (before.get(le) ?? 0) }));
  const seconds = previous ? (current.at - previous.at) / 1000 : 0;
  return {
    requestRate: previous && seconds > 0 ? requests / seconds : null,
    errorRate: requests > 0 ? errors / requests : null,
    latency: { p50: histogramQuantile(0.5, buckets), p95: histogramQuantile(0.95, buckets), p99: histogramQuantile(0.99, buckets) },
    requestsTotal: total,
  };
}
