import { DatasetSchema } from '../schema/dataset-schema';
import { evaluateChecks } from './dataset-checks';
import { QualityReport } from './quality-report';

const schema: DatasetSchema = {
  dataset: 'credit',
  columns: {
    id: { type: 'int', required: true, unique: true },
    amount: { type: 'float', required: false, unique: false, maxMissingFraction: 0.1 },
    purpose: { type: 'category', required: false, unique: false },
    branch: { type: 'string', required: true, unique: false },
    note: { type: 'string', required: false, unique: false },
  },
  checks: { minRows: 150, maxMissingFraction: 0.25, maxQuarantinedFraction: 0.05 },
};

const report: Omit<QualityReport, 'checks'> = {
  dataset: 'credit',
  rows: 200,
  accepted: 188,
  quarantined: 12,
  reasons: { wrong_type: 12 },
  columns: [
    // Column statistics describe the 188 accepted rows: count (present) + missing = 188.
    { name: 'id', type: 'int', count: 188, missing: 0, missingFraction: 0, distinct: 188 },
    { name: 'amount', type: 'float', count: 167, missing: 21, missingFraction: 21 / 188, distinct: 150 },
    { name: 'purpose', type: 'category', count: 141, missing: 47, missingFraction: 0.25, distinct: 4 },
  ],
};

describe('evaluateChecks', () => {
  it('evaluates every declared check with exact values, in a fixed order', () => {
    expect(evaluateChecks(schema, report, ['branch', 'note'])).toEqual([
      { check: 'missing_column', column: 'branch', passed: false, message: 'required column "branch" is missing from the file' },
      { check: 'missing_column', column: 'note', passed: true, message: 'optional column "note" is missing from the file; its values will be null' },
      { check: 'minRows', passed: true, value: 188, threshold: 150, message: '188 accepted rows, at least 150 required' },
      // 12 / 200 = 0.06 > 0.05
      { check: 'maxQuarantinedFraction', passed: false, value: 0.06, threshold: 0.05, message: '12 of 200 rows quarantined (6%), above the maximum 5%' },
      { check: 'maxMissingFraction', column: 'id', passed: true, value: 0, threshold: 0.25, message: 'column "id": 0 of 188 values missing (0%), within the maximum 25%' },
      // the column override (0.1) wins over the dataset's 0.25: 21 / 188 = 0.1117
      { check: 'maxMissingFraction', column: 'amount', passed: false, value: 21 / 188, threshold: 0.1, message: 'column "amount": 21 of 188 values missing (11.17%), above the maximum 10%' },
      // exactly at the limit passes: 47 / 188 = 0.25
      { check: 'maxMissingFraction', column: 'purpose', passed: true, value: 0.25, threshold: 0.25, message: 'column "purpose": 47 of 188 values missing (25%), within the maximum 25%' },
    ]);
  });

  it('computes missing fractions on the rows the column statistics describe', () => {
    const onlyAmount: DatasetSchema = { ...schema, columns: { amount: schema.columns.amount }, checks: {} };
    // 21 missing of the 188 accepted rows described (not of all 200 rows: that would be 0.105)
    expect(evaluateChecks(onlyAmount, report)[0]).toMatchObject({ value: 21 / 188 });
  });

  it('fails minRows on accepted rows, not on all rows', () => {
    const strict: DatasetSchema = { ...schema, checks: { minRows: 190 } };
    expect(evaluateChecks(strict, report).find((c) => c.check === 'minRows')).toEqual({
      check: 'minRows',
      passed: false,
      value: 188,
      threshold: 190,
      message: 'only 188 accepted rows, at least 190 required',
    });
  });

  it('checks nothing that is not declared', () => {
    const bare: DatasetSchema = { dataset: 'credit', columns: { id: schema.columns.id }, checks: {} };
    expect(evaluateChecks(bare, report)).toEqual([]);
  });

  it('handles an empty file without dividing by zero', () => {
    const empty = { ...report, rows: 0, accepted: 0, quarantined: 0, reasons: {}, columns: [{ ...report.columns[0], count: 0, distinct: 0 }] };
    expect(evaluateChecks(schema, empty).map((c) => [c.check, c.passed, c.value])).toEqual([
      ['minRows', false, 0],
      ['maxQuarantinedFraction', true, 0],
      ['maxMissingFraction', true, 0],
    ]);
  });

  it('without a schema, only reports missing columns, as optional', () => {
    expect(evaluateChecks(undefined, report, ['x'])).toEqual([
      { check: 'missing_column', column: 'x', passed: true, message: 'optional column "x" is missing from the file; its values will be null' },
    ]);
  });
});
