import { ColumnSpec, DatasetSchema } from '../schema/dataset-schema';
import { ColumnReport } from '../report/quality-report';
import { diffSchemas } from './schema-diff';

const col = (type: ColumnSpec['type'], extra: Partial<ColumnSpec> = {}): ColumnSpec => ({ type, required: false, unique: false, ...extra });
const schemaOf = (columns: Record<string, ColumnSpec>): DatasetSchema => ({ dataset: 'd', columns, checks: {} });
const report = (...columns: (Partial<ColumnReport> & { name: string })[]) => ({
  columns: columns.map((c) => ({ type: 'float' as const, count: 100, missing: 0, missingFraction: 0, distinct: 100, ...c })),
});

describe('diffSchemas', () => {
  it('finds nothing between equal schemas', () => {
    const s = schemaOf({ a: col('int'), b: col('category', { values: ['x'] }) });
    expect(diffSchemas({ schema: s }, { schema: s })).toEqual([]);
  });

  it('reports added, removed and retyped columns, ordered by column then kind', () => {
    const before = schemaOf({ b: col('int'), a: col('string'), gone: col('date') });
    const after = schemaOf({ new: col('float'), b: col('float', { required: true }), a: col('string') });
    expect(diffSchemas({ schema: before }, { schema: after })).toEqual([
      { kind: 'type_changed', column: 'b', from: 'int', to: 'float', message: 'column "b" changed type from int to float' },
      { kind: 'nullability_changed', column: 'b', from: true, to: false, message: 'column "b" no longer accepts nulls' },
      { kind: 'column_removed', column: 'gone', from: 'date', message: 'column "gone" (date) was removed' },
      { kind: 'column_added', column: 'new', to: 'float', message: 'column "new" (float) was added' },
    ]);
  });

  it('compares effective nullability: nullable, else not required', () => {
    const diff = (a: Partial<ColumnSpec>, b: Partial<ColumnSpec>) =>
      diffSchemas({ schema: schemaOf({ c: col('int', a) }) }, { schema: schemaOf({ c: col('int', b) }) }).map((c) => [c.kind, c.from, c.to, c.message]);
    expect(diff({ required: true }, {})).toEqual([['nullability_changed', false, true, 'column "c" now accepts nulls']]);
    expect(diff({}, { nullable: false })).toEqual([['nullability_changed', true, false, 'column "c" no longer accepts nulls']]);
    expect(diff({ required: true }, { nullable: false })).toEqual([]);
  });

  it('new categories from declared values', () => {
    const before = schemaOf({ p: col('category', { values: ['car', 'home'] }) });
    const after = schemaOf({ p: col('category', { values: ['boat', 'car', 'home', 'plane'] }) });
    expect(diffSchemas({ schema: before }, { schema: after })).toEqual([
      { kind: 'new_categories', column: 'p', from: ['car', 'home'], to: ['boat', 'plane'], message: 'column "p" has 2 new categories: "boat", "plane"' },
    ]);
    // removed values are not new categories
    expect(diffSchemas({ schema: after }, { schema: before })).toEqual([]);
  });

  it('new categories from the reports when values are not declared, only if the previous list is complete', () => {
    const s = schemaOf({ p: col('category') });
    const prev = report({ name: 'p', type: 'category', distinct: 2, topValues: [{ value: 'a', count: 60 }, { value: 'b', count: 40 }] });
    const cur = report({ name: 'p', type: 'category', distinct: 3, topValues: [{ value: 'a', count: 50 }, { value: 'c', count: 30 }, { value: 'b', count: 20 }] });
    expect(diffSchemas({ schema: s, report: prev }, { schema: s, report: cur })).toEqual([
      { kind: 'new_categories', column: 'p', from: ['a', 'b'], to: ['c'], message: 'column "p" has 1 new category: "c"' },
    ]);
    // previous top values cut at 2 of 5 distinct: "c" may simply have been below the cut
    const truncated = report({ name: 'p', type: 'category', distinct: 5, topValues: [{ value: 'a', count: 60 }, { value: 'b', count: 30 }] });
    expect(diffSchemas({ schema: s, report: truncated }, { schema: s, report: cur })).toEqual([]);
  });

  it('range shift when the mean moves by more than 3 previous standard deviations', () => {
    const s = schemaOf({ x: col('float') });
    const prev = report({ name: 'x', min: 0, max: 100, mean: 50, std: 10 });
    const within = report({ name: 'x', min: 0, max: 100, mean: 80, std: 10 }); // moved exactly 3 std
    const beyond = report({ name: 'x', min: 0, max: 100, mean: 80.5, std: 10 });
    expect(diffSchemas({ schema: s, report: prev }, { schema: s, report: within })).toEqual([]);
    expect(diffSchemas({ schema: s, report: prev }, { schema: s, report: beyond })).toEqual([
      {
        kind: 'range_shift',
        column: 'x',
        from: { min: 0, max: 100, mean: 50, std: 10 },
        to: { min: 0, max: 100, mean: 80.5 },
        message: 'column "x": mean moved from 50 to 80.5, more than 3 standard deviations (10)',
      },
    ]);
  });

  it('range shift when min or max goes beyond the previous range by more than half its width', () => {
    const s = schemaOf({ x: col('int') });
    const prev = report({ name: 'x', min: 10, max: 20 }); // width 10: limits 5 and 25
    const shift = (min: number, max: number) => diffSchemas({ schema: s, report: prev }, { schema: s, report: report({ name: 'x', min, max }) });
    expect(shift(5, 25)).toEqual([]);
    expect(shift(4.9, 20).map((c) => c.message)).toEqual(['column "x": range moved from [10, 20] to [4.9, 20], beyond half the previous width']);
    expect(shift(10, 25.1).map((c) => c.kind)).toEqual(['range_shift']);
  });

  it('range shift on dates, by ISO strings', () => {
    const s = schemaOf({ d: col('date') });
    const prev = report({ name: 'd', type: 'date', min: '2024-01-01', max: '2024-01-11' }); // 10 days: up to 2024-01-16
    const ok = report({ name: 'd', type: 'date', min: '2024-01-05', max: '2024-01-16' });
    const late = report({ name: 'd', type: 'date', min: '2024-01-05', max: '2024-01-17' });
    expect(diffSchemas({ schema: s, report: prev }, { schema: s, report: ok })).toEqual([]);
    expect(diffSchemas({ schema: s, report: prev }, { schema: s, report: late }).map((c) => c.kind)).toEqual(['range_shift']);
  });

  it('no range shift without reports or across type families', () => {
    const prev = report({ name: 'x', min: 0, max: 1 });
    const cur = report({ name: 'x', min: 100, max: 200 });
    expect(diffSchemas({ schema: schemaOf({ x: col('float') }) }, { schema: schemaOf({ x: col('float') }), report: cur })).toEqual([]);
    expect(diffSchemas({ schema: schemaOf({ x: col('float') }), report: prev }, { schema: schemaOf({ x: col('string') }), report: cur }).map((c) => c.kind)).toEqual([
      'type_changed',
    ]);
  });
});
