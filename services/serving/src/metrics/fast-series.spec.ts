import { Counter, Histogram, Registry } from 'prom-client';
import { CounterSeries, HistogramSeries } from './fast-series';

/** The same metrics, one fed through prom-client's calls and one through the series. */
function pair() {
  const plain = new Registry();
  const fast = new Registry();
  const make = (registry: Registry) => ({
    h: new Histogram({ name: 'h_seconds', help: 'h', labelNames: ['model', 'version'], buckets: [0.0005, 0.001, 0.25, 1, 2.5], registers: [registry] }),
    c: new Counter({ name: 'c_total', help: 'c', labelNames: ['model', 'code'], registers: [registry] }),
  });
  return { plain, fast, p: make(plain), f: make(fast) };
}

describe('HistogramSeries and CounterSeries', () => {
  it('leave the exposition exactly as observe and inc do, across series, resets and removals', async () => {
    const { plain, fast, p, f } = pair();
    const a = { model: 'churn', version: '1' };
    const b = { model: 'churn', version: '2' };
    const ha = new HistogramSeries(f.h, a);
    const hb = new HistogramSeries(f.h, b);
    const ok = new CounterSeries(f.c, { model: 'churn', code: 'OK' });
    const values = [0.0001, 0.0005, 0.0007, 0.001, 0.3, 1, 2.5, 3, 0];
    for (const v of values) {
      p.h.observe(a, v);
      ha.observe(v);
      p.h.observe(b, v * 2);
      hb.observe(v * 2);
      p.c.inc({ model: 'churn', code: 'OK' });
      ok.inc();
    }
    expect(await fast.metrics()).toBe(await plain.metrics());

    p.h.reset();
    f.h.reset();
    p.h.remove(b);
    p.c.remove({ model: 'churn', code: 'OK' });
    f.c.remove({ model: 'churn', code: 'OK' });
    for (const v of values) {
      p.h.observe(a, v);
      ha.observe(v);
      p.c.inc({ model: 'churn', code: 'OK' });
      ok.inc();
    }
    expect(await fast.metrics()).toBe(await plain.metrics());
    expect(await fast.metrics()).toContain('h_seconds_count{model="churn",version="1"} 9');
    expect(await fast.metrics()).toContain('c_total{model="churn",code="OK"} 9');
  });

  it('refuses a value that is not a number, as observe does', () => {
    const { f } = pair();
    const series = new HistogramSeries(f.h, { model: 'churn', version: '1' });
    series.observe(0.1);
    expect(() => series.observe(NaN)).toThrow(TypeError);
  });
});
