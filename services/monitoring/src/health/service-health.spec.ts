import { Counter, Histogram, Registry } from 'prom-client';
import { parsePrometheusText } from './prometheus-text';
import { histogramQuantile, httpHealth } from './service-health';

describe('Prometheus text and service health', () => {
  it('parses what prom-client exposes: labels (escaped), histogram buckets, sums and counts', async () => {
    const registry = new Registry();
    registry.setDefaultLabels({ service: 'serving' });
    const c = new Counter({ name: 'serving_requests_total', help: 'x', labelNames: ['model', 'code'], registers: [registry] });
    c.inc({ model: 'we"ird\\name', code: '200' }, 3);
    const h = new Histogram({ name: 'http_request_duration_seconds', help: 'x', labelNames: ['status'], buckets: [0.1, 0.5, 1], registers: [registry] });
    for (const v of [0.05, 0.3, 0.7, 2]) h.observe({ status: '200' }, v);
    const samples = parsePrometheusText(await registry.metrics());
    expect(samples.get('serving_requests_total')).toEqual([{ name: 'serving_requests_total', labels: { model: 'we"ird\\name', code: '200', service: 'serving' }, value: 3 }]);
    expect(samples.get('http_request_duration_seconds_bucket')?.map((s) => [s.labels.le, s.value])).toEqual([
      ['0.1', 1],
      ['0.5', 2],
      ['1', 3],
      ['+Inf', 4],
    ]);
    expect(samples.get('http_request_duration_seconds_sum')?.[0].value).toBeCloseTo(3.05, 12);
    expect(samples.get('http_request_duration_seconds_count')?.[0].value).toBe(4);
  });

  it('histogram_quantile: linear inside the bucket, the largest finite bound in +Inf (Prometheus semantics)', () => {
    const buckets = [
      { le: 0.1, count: 2 },
      { le: 0.5, count: 6 },
      { le: 1, count: 8 },
      { le: Infinity, count: 10 },
    ];
    expect(histogramQuantile(0.5, buckets)).toBeCloseTo(0.4, 12); // rank 5: 0.1 + 0.4·(5−2)/(6−2)
    expect(histogramQuantile(0.75, buckets)).toBeCloseTo(0.875, 12); // rank 7.5: 0.5 + 0.5·(7.5−6)/(8−6)
    expect(histogramQuantile(0.1, buckets)).toBeCloseTo(0.05, 12); // rank 1 in the first bucket, from 0
    expect(histogramQuantile(0.99, buckets)).toBe(1);
    expect(histogramQuantile(0.5, [{ le: Infinity, count: 0 }])).toBeNull();
  });

  it('rates and quantiles over the interval between two scrapes; 5xx share as the error rate; a restart counts from zero', () => {
    const scrape = (at: number, counts: Record<string, [number, number, number]>) => {
      const text = Object.entries(counts)
        .flatMap(([status, [fast, slow, total]]) => [
          `http_request_duration_seconds_bucket{le="0.1",status="${status}"} ${fast}`,
          `http_request_duration_seconds_bucket{le="1",status="${status}"} ${slow}`,
          `http_request_duration_seconds_bucket{le="+Inf",status="${status}"} ${total}`,
          `http_request_duration_seconds_count{status="${status}"} ${total}`,
        ])
        .join('\n');
      return { at, samples: parsePrometheusText(text) };
    };
    const first = scrape(0, { '200': [10, 10, 10] });
    const second = scrape(10_000, { '200': [50, 90, 90], '503': [0, 10, 10] });
    const h = httpHealth(second, first);
    expect(h.requestRate).toBe(9); // 90 requests in 10 s
    expect(h.errorRate).toBeCloseTo(10 / 90, 12);
    expect(h.latency.p50).toBeCloseTo(0.1 + (0.9 * (45 - 40)) / (90 - 40), 12);
    expect(h.requestsTotal).toBe(100);
    expect(httpHealth(first)).toMatchObject({ requestRate: null, errorRate: 0, requestsTotal: 10 });
    const restarted = httpHealth(scrape(20_000, { '200': [3, 4, 4] }), second);
    expect(restarted.requestRate).toBeCloseTo(0.4, 12);
  });
});
