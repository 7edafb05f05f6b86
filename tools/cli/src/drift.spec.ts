import { UsageError } from './api';
import { driftJson, parseDriftArgs, parseDriftSource } from './commands/drift';

describe('parseDriftArgs', () => {
  it('reads files, dataset[:version], columns, method overrides and the share threshold', () => {
    expect(parseDriftArgs(['--reference', 'train.parquet', '--current', 'orders:3', '--columns', 'a, b', '--method', 'a=psi:0.2', '--method', 'b=kl', '--share', '0.3'])).toEqual({
      reference: { kind: 'file', path: 'train.parquet' },
      current: { kind: 'dataset', dataset: 'orders', version: 3 },
      columns: ['a', 'b'],
      features: { a: { method: 'psi', threshold: 0.2 }, b: { method: 'kl' } },
      driftShareThreshold: 0.3,
    });
    expect(parseDriftSource('orders', '--reference')).toEqual({ kind: 'dataset', dataset: 'orders' });
    expect(parseDriftSource('data/x.CSV', '--reference')).toEqual({ kind: 'file', path: 'data/x.CSV' });
  });
  it('refuses missing sources, unknown methods, bad thresholds and shares', () => {
    expect(() => parseDriftArgs(['--reference', 'a.csv'])).toThrow(UsageError);
    expect(() => parseDriftArgs(['--reference', 'a.csv', '--current', 'b.csv', '--method', 'a=magic'])).toThrow(/unknown method 'magic'/);
    expect(() => parseDriftArgs(['--reference', 'a.csv', '--current', 'b.csv', '--method', 'a=psi:x'])).toThrow(UsageError);
    expect(() => parseDriftArgs(['--reference', 'a.csv', '--current', 'b.csv', '--share', '0'])).toThrow(/--share/);
    expect(() => parseDriftArgs(['--reference', 'a b.txt', '--current', 'b.csv'])).toThrow(/dataset\[:version\]/);
  });
});

describe('driftJson', () => {
  it('keeps exactly the documented keys and writes non-finite numbers as JSON can', () => {
    const out = driftJson({
      features: [{ name: 'c', method: 'chisquare', statistic: Infinity, pValue: 0, threshold: 0.05, drifted: true, extra: 1 } as never],
      driftShare: 1,
      datasetDrift: true,
    });
    expect(JSON.parse(JSON.stringify(out))).toEqual({
      features: [{ name: 'c', method: 'chisquare', statistic: null, pValue: 0, threshold: 0.05, drifted: true }],
      driftShare: 1,
      datasetDrift: true,
    });
  });
});
