import { QualityReport, summarizeReport } from './quality-report';

describe('summarizeReport', () => {
  it('keeps counts, failed check messages and headline column numbers only', () => {
    const report: QualityReport = {
      dataset: 'credit',
      version: 3,
      rows: 200,
      accepted: 188,
      quarantined: 12,
      reasons: { wrong_type: 10, missing_required: 2 },
      columns: [
        {
          name: 'amount',
          type: 'float',
          count: 200,
          missing: 21,
          missingFraction: 0.105,
          distinct: 150,
          min: 0,
          max: 10,
          mean: 4.5,
          std: 1.2,
          quantiles: { p01: 0, p25: 2, p50: 4, p75: 6, p99: 10 },
          histogram: { edges: [0, 5, 10], counts: [100, 79] },
        },
        { name: 'purpose', type: 'category', count: 200, missing: 0, missingFraction: 0, distinct: 2, topValues: [{ value: 'car', count: 150 }] },
      ],
      checks: [
        { check: 'minRows', passed: true, message: 'ok' },
        { check: 'maxMissingFraction', column: 'amount', passed: false, message: 'column "amount": too many missing' },
      ],
    };
    expect(summarizeReport(report)).toEqual({
      rows: 200,
      accepted: 188,
      quarantined: 12,
      reasons: { wrong_type: 10, missing_required: 2 },
      failedChecks: ['column "amount": too many missing'],
      columns: [
        { name: 'amount', type: 'float', missingFraction: 0.105, distinct: 150, mean: 4.5 },
        { name: 'purpose', type: 'category', missingFraction: 0, distinct: 2 },
      ],
    });
    expect('mean' in summarizeReport(report).columns[1]).toBe(false);
  });
});
