import type { IngestionOutcome } from '@mlp/contracts';
import type { QualityReport } from '@mlp/data';
import { UsageError } from './api';
import { formatDataset, formatDatasetList, formatQualitySummary, formatReport, formatTime, formatTopValues, parseDatasetsArgs } from './commands/datasets';
import { demoIngestionLines } from './commands/demo-ingestion';

describe('parseDatasetsArgs', () => {
  it('reads nothing, a name, or a name and a version', () => {
    expect(parseDatasetsArgs([])).toEqual({ name: undefined });
    expect(parseDatasetsArgs(['penguins'])).toEqual({ name: 'penguins' });
    expect(parseDatasetsArgs(['penguins', '--version', '2'])).toEqual({ name: 'penguins', version: 2 });
    expect(parseDatasetsArgs(['--version=3', 'penguins'])).toEqual({ name: 'penguins', version: 3 });
  });

  it.each([
    [['--version', '1'], '--version needs a dataset name'],
    [['p', '--version', '0'], "--version must be a positive integer, got '0'"],
    [['p', '--version', 'x'], "--version must be a positive integer, got 'x'"],
    [['a', 'b'], 'give at most one dataset name'],
    [['p', '--all'], "Unknown option '--all'"],
  ])('refuses %j', (args, message) => {
    expect(() => parseDatasetsArgs(args)).toThrow(UsageError);
    expect(() => parseDatasetsArgs(args)).toThrow(message);
  });
});

describe('dataset tables', () => {
  it('lists datasets with their latest version', () => {
    expect(
      formatDatasetList([
        { name: 'penguins', description: '', schemaDeclared: true, versions: 2, latest: { version: 2, status: 'accepted', rows: 344, accepted: 342, quarantined: 2, createdAt: '2026-11-26T10:37:34.374Z' } },
        { name: 'empty', description: '', schemaDeclared: true, versions: 0, latest: null },
      ]),
    ).toEqual([
      'NAME      VERSIONS  LATEST  STATUS    ROWS  QUARANTINED',
      'penguins         2  v2      accepted   344            2',
      'empty            0  -       -',
    ]);
  });

  it("shows one dataset's versions with schema changes and failed checks", () => {
    expect(
      formatDataset({
        name: 'penguins',
        description: 'Palmer penguins',
        schemaHash: '9ebfe53d2bdbadc40725edb890e1bdb66905057e864be5bc903fbfe5d44d51c1',
        createdAt: '2026-11-26T10:37:34.374Z',
        versions: [
          { version: 1, status: 'accepted', rows: 344, accepted: 342, quarantined: 2, createdAt: '2026-11-26T10:37:34.374Z', schemaChanges: [], failedChecks: [] },
          {
            version: 2,
            status: 'rejected',
            rows: 345,
            accepted: 334,
            quarantined: 11,
            createdAt: '2026-11-27T08:05:00.000Z',
            schemaChanges: [
              { kind: 'column_added', column: 'year', message: 'column "year" (int) was added' },
              { kind: 'range_shift', column: 'body_mass_g', message: '…' },
            ],
            failedChecks: [{ check: 'maxQuarantinedFraction', message: '11 of 345 rows quarantined (3.19%), above the maximum 2%' }],
          },
        ],
      }),
    ).toEqual([
      'dataset penguins: schema declared (9ebfe53d2bdb), 2 versions',
      'Palmer penguins',
      'VERSION  STATUS    ROWS  ACCEPTED  QUARANTINED  SCHEMA CHANGES                            FAILED CHECKS           CREATED',
      '      1  accepted   344       342            2  -                                         -                       2026-11-26 10:37',
      '      2  rejected   345       334           11  column_added year, range_shift body_mas…  maxQuarantinedFraction  2026-11-27 08:05',
      'quality report of a version: mlp datasets penguins --version <N>',
    ]);
  });

  it('formats times and top values', () => {
    expect(formatTime('2026-11-26T10:37:34.374Z')).toBe('2026-11-26 10:37');
    expect(formatTopValues([{ value: 'Adelie', count: 151 }, { value: 'a very long category name', count: 9 }, { value: 'c', count: 2 }, { value: 'd', count: 1 }])).toBe(
      'Adelie 151, a very long cat… 9, c 2',
    );
    expect(formatTopValues(undefined)).toBe('');
  });
});

const report: QualityReport = {
  dataset: 'penguins',
  rows: 344,
  accepted: 342,
  quarantined: 2,
  reasons: { missing_required: 2, out_of_range: 1 },
  columns: [
    { name: 'species', type: 'category', count: 342, missing: 0, missingFraction: 0, distinct: 3, topValues: [{ value: 'Adelie', count: 151 }, { value: 'Gentoo', count: 123 }, { value: 'Chinstrap', count: 68 }] },
    { name: 'bill_length_mm', type: 'float', count: 342, missing: 0, missingFraction: 0, distinct: 164, min: 32.1, max: 59.6, mean: 43.92192982456141, std: 5.459583713926532 },
    { name: 'body_mass_g', type: 'int', count: 342, missing: 0, missingFraction: 0, distinct: 94, min: 2700, max: 6300, mean: 4201.754385964912, std: 801.9545356980956 },
    { name: 'sex', type: 'category', count: 342, missing: 9, missingFraction: 0.02631578947368421, distinct: 2, topValues: [{ value: 'male', count: 168 }, { value: 'female', count: 165 }] },
  ],
  checks: [
    { check: 'minRows', passed: true, message: '342 accepted rows, at least 300 required' },
    { check: 'maxQuarantinedFraction', passed: false, message: '2 of 344 rows quarantined (0.58%), above the maximum 0.5%' },
  ],
};

describe('quality report', () => {
  it('prints a line per column, the checks and the quarantine reasons', () => {
    expect(formatReport('penguins', { version: 1, status: 'rejected' }, report)).toEqual([
      'penguins v1: rejected, 344 rows: 342 accepted, 2 quarantined',
      'NAME            TYPE      COUNT  MISSING  DISTINCT   MIN   MAX    MEAN   STD  TOP VALUES',
      'species         category    342       0%         3                            Adelie 151, Gentoo 123, Chinstrap 68',
      'bill_length_mm  float       342       0%       164  32.1  59.6   43.92  5.46',
      'body_mass_g     int         342       0%        94  2700  6300  4201.8   802',
      'sex             category    342     2.6%         2                            male 168, female 165',
      'checks:',
      '  pass  342 accepted rows, at least 300 required',
      '  FAIL  2 of 344 rows quarantined (0.58%), above the maximum 0.5%',
      'quarantine reasons:',
      '  missing_required  2',
      '  out_of_range      1',
    ]);
  });

  it('marks an approximate distinct count with ~ and prints exact ones as they are', () => {
    const big = {
      ...report,
      columns: [
        { name: 'ts', type: 'datetime' as const, count: 3_000_000, missing: 0, missingFraction: 0, distinct: 3_081_205, distinctApproximate: true as const },
        { name: 'id', type: 'string' as const, count: 3_000_000, missing: 0, missingFraction: 0, distinct: 3_000_000 },
      ],
    };
    const lines = formatReport('t', { version: 1, status: 'accepted' }, big);
    expect(lines[2]).toMatch(/^ts\s+datetime\s+3000000\s+0%\s+~3081205$/);
    expect(lines[3]).toMatch(/^id\s+string\s+3000000\s+0%\s+3000000$/);
  });

  it('says when nothing was quarantined or checked', () => {
    const clean = { ...report, quarantined: 0, reasons: {}, checks: [], columns: [] };
    expect(formatReport('p', { version: 3, status: 'accepted' }, clean).slice(-3)).toEqual(['checks:', '  (none declared)', 'quarantine reasons: none']);
  });

  it('summarizes a version for the demo in a few lines', () => {
    expect(formatQualitySummary(report, ['bill_length_mm', 'body_mass_g', 'sex', 'absent'])).toEqual([
      '344 rows: 342 accepted, 2 quarantined (missing_required 2, out_of_range 1)',
      'checks: 1 of 2 failed: 2 of 344 rows quarantined (0.58%), above the maximum 0.5%',
      'bill_length_mm  float     missing 0%  mean 43.92',
      'body_mass_g     int       missing 0%  mean 4201.8',
      'sex             category  missing 2.6%  top male 168, female 165',
    ]);
    expect(formatQualitySummary({ ...report, checks: [report.checks[0]] }, [])[1]).toBe('checks: all 1 passed');
  });
});

describe('the npm start demo', () => {
  const outcome: IngestionOutcome = {
    jobId: 'j',
    dataset: 'penguins',
    status: 'accepted',
    version: 1,
    duplicateOf: null,
    rows: 344,
    accepted: 342,
    quarantined: 2,
    artifact: 'sha256/a',
    sha256: 'a',
    quarantineArtifact: 'sha256/q',
    reportArtifact: 'sha256/r',
    reasons: { missing_required: 2 },
    failedChecks: [],
    schemaChanges: 0,
  };
  const passing = { ...report, reasons: { missing_required: 2 }, checks: [report.checks[0]] };

  it('prints the new version and its quality', () => {
    expect(demoIngestionLines(outcome, passing, 'examples/data/penguins.csv')).toEqual([
      "ingested examples/data/penguins.csv into dataset 'penguins' (streamed upload): version 1 accepted",
      '  344 rows: 342 accepted, 2 quarantined (missing_required 2)',
      '  checks: all 1 passed',
      '  bill_length_mm  float     missing 0%  mean 43.92',
      '  body_mass_g     int       missing 0%  mean 4201.8',
      '  sex             category  missing 2.6%  top male 168, female 165',
      '  more: mlp datasets penguins --version 1',
    ]);
  });

  it('says so when the second start finds the same bytes', () => {
    const lines = demoIngestionLines({ ...outcome, status: 'duplicate', version: null, duplicateOf: 1 }, passing, 'examples/data/penguins.csv');
    expect(lines[0]).toBe("examples/data/penguins.csv is already version 1 of dataset 'penguins' (duplicate: the same bytes, no new version)");
    expect(lines[lines.length - 1]).toBe('  more: mlp datasets penguins --version 1');
  });
});
