import type { IngestionOutcome } from '@mlp/contracts';
import { CliError, UsageError } from './api';
import { exitCodeFor, formatInferred, formatOutcome, formatReasons, outcomeJson, parseDelimiter, parseIngestArgs } from './commands/ingest';
import { checkSchemaYaml, isUrl, uploadQuery } from './ingestion-client';

describe('parseIngestArgs', () => {
  it('reads the source, dataset, schema, format and CSV options', () => {
    expect(
      parseIngestArgs(['data/penguins.tsv', '--dataset', 'penguins', '--schema', 's.yaml', '--format', 'tsv', '--delimiter', '\\t', '--no-header', '--null', 'NA', '--null', '-']),
    ).toEqual({
      source: 'data/penguins.tsv',
      dataset: 'penguins',
      schemaFile: 's.yaml',
      format: 'tsv',
      csv: { delimiter: '\t', header: false, nullValues: ['NA', '-'] },
      inferSchemaTo: undefined,
    });
  });

  it('takes -d and --opt=value forms, and leaves CSV options out unless given', () => {
    expect(parseIngestArgs(['-d', 'x', 'https://example.com/a.csv', '--infer-schema=out.yaml'])).toEqual({
      source: 'https://example.com/a.csv',
      dataset: 'x',
      schemaFile: undefined,
      format: undefined,
      csv: {},
      inferSchemaTo: 'out.yaml',
    });
  });

  it.each([
    [['a.csv'], '--dataset <name> is required'],
    [['--dataset', 'x'], 'give one file or URL to ingest'],
    [['a.csv', 'b.csv', '--dataset', 'x'], 'give one file or URL to ingest, got 2'],
    [['a.csv', '--dataset', 'x', '--format', 'xml'], "unknown --format 'xml': use one of csv, tsv, ndjson, json, parquet, arrow"],
    [['a.csv', '--dataset', 'x', '--colour'], "Unknown option '--colour'"],
    [['a.csv', '--dataset', 'x', '--schema', 's.yaml', '--infer-schema', 'o.yaml'], '--infer-schema writes a schema and ingests nothing: it cannot be combined with --schema'],
    [['a.csv', '--dataset', 'x', '--delimiter', ''], "--delimiter must be 1 to 4 characters, got ''"],
  ])('refuses %j with a usage error', (args, message) => {
    expect(() => parseIngestArgs(args)).toThrow(UsageError);
    expect(() => parseIngestArgs(args)).toThrow(message);
  });

  it('reads tab delimiters however they are typed', () => {
    expect([parseDelimiter('\\t'), parseDelimiter('tab'), parseDelimiter('\t'), parseDelimiter(';'), parseDelimiter('||')]).toEqual(['\t', '\t', '\t', ';', '||']);
  });
});

describe('the upload request', () => {
  it('names the file for format detection and passes CSV options, null strings repeated', () => {
    expect(uploadQuery({ source: '/data/in/penguins.csv', csv: { delimiter: ';', header: false, nullValues: ['NA', 'n/a'] } }, false)).toBe(
      'filename=penguins.csv&wait=false&delimiter=%3B&header=false&null=NA&null=n%2Fa',
    );
    expect(uploadQuery({ source: 'x.ndjson', format: 'ndjson' }, true)).toBe('format=ndjson&filename=x.ndjson&wait=true');
  });

  it('tells URLs from paths', () => {
    expect([isUrl('https://a/b.csv'), isUrl('HTTP://a'), isUrl('./https.csv'), isUrl('s3://b/k')]).toEqual([true, true, false, false]);
  });
});

describe('checkSchemaYaml', () => {
  it('names the file, line, column and field of every problem', () => {
    const yaml = 'dataset: penguins\ncolumns:\n  a: {type: nope}\n  b: {type: int, min: ten}\n';
    let error: unknown;
    try {
      checkSchemaYaml(yaml, 'schemas/p.yaml');
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(CliError);
    expect((error as Error).message).toBe(
      'invalid dataset schema in schemas/p.yaml:\n' +
        '  schemas/p.yaml:3:13 columns.a.type: expected one of int, float, bool, string, category, date, datetime, received "nope"\n' +
        '  schemas/p.yaml:4:23 columns.b.min: expected number, received "ten"',
    );
  });

  it('reports a YAML syntax error with its line', () => {
    expect(() => checkSchemaYaml('dataset: p\ncolumns:\n  a: {type: int\n', 'p.yaml')).toThrow(
      'invalid dataset schema in p.yaml:\n  p.yaml:4:1 YAML syntax error: Flow map in block collection must be sufficiently indented and end with a }',
    );
  });

  it('returns the parsed schema when it is valid', () => {
    expect(checkSchemaYaml('dataset: p\ncolumns:\n  a: {type: int, required: true}\n', 'p.yaml').columns.a).toMatchObject({ type: 'int', required: true });
  });
});

const outcome = (over: Partial<IngestionOutcome>): IngestionOutcome => ({
  jobId: 'job-1',
  dataset: 'penguins',
  status: 'accepted',
  version: 1,
  duplicateOf: null,
  rows: 344,
  accepted: 342,
  quarantined: 2,
  artifact: 'sha256/aaa',
  sha256: 'aaa',
  quarantineArtifact: 'sha256/qqq',
  reportArtifact: 'sha256/rrr',
  reasons: { missing_required: 2 },
  failedChecks: [],
  schemaChanges: 0,
  ...over,
});

describe('ingestion outcome', () => {
  it('prints an accepted version with its counts, reasons and artifacts', () => {
    expect(formatOutcome(outcome({}))).toEqual([
      'dataset penguins: version 1 accepted',
      '  rows:        344',
      '  accepted:    342',
      '  quarantined: 2 (missing_required 2)',
      '  checks:      all passed',
      '  artifact:    sha256/aaa',
      '  sha256:      aaa',
      '  quarantine:  sha256/qqq',
      '  report:      sha256/rrr',
      'quality report: mlp datasets penguins --version 1',
    ]);
  });

  it('says why a version was rejected, and counts schema changes', () => {
    const rejected = outcome({
      status: 'rejected',
      version: 2,
      rows: 100,
      accepted: 90,
      quarantined: 10,
      reasons: { wrong_type: 3, unknown_category: 8 },
      failedChecks: ['10 of 100 rows quarantined (10%), above the maximum 2%'],
      schemaChanges: 1,
    });
    expect(formatOutcome(rejected)).toEqual([
      'dataset penguins: version 2 REJECTED by its quality checks',
      '  rows:        100',
      '  accepted:    90',
      '  quarantined: 10 (unknown_category 8, wrong_type 3)',
      '  checks:      1 failed',
      '    - 10 of 100 rows quarantined (10%), above the maximum 2%',
      '  schema:      1 change(s) since the previous version',
      '  artifact:    sha256/aaa',
      '  sha256:      aaa',
      '  quarantine:  sha256/qqq',
      '  report:      sha256/rrr',
      'quality report: mlp datasets penguins --version 2',
    ]);
    expect(exitCodeFor(rejected)).toBe(3);
  });

  it('reports a duplicate as the existing version', () => {
    const dup = outcome({ status: 'duplicate', version: null, duplicateOf: 1, quarantined: 0, reasons: {}, quarantineArtifact: null });
    expect(formatOutcome(dup).slice(0, 4)).toEqual([
      'dataset penguins: duplicate of version 1 (the same bytes were ingested before; no new version)',
      '  rows:        344',
      '  accepted:    342',
      '  quarantined: 0',
    ]);
    expect(outcomeJson(dup)).toEqual({
      dataset: 'penguins',
      version: 1,
      status: 'duplicate',
      rows: 344,
      accepted: 342,
      quarantined: 0,
      artifact: 'sha256/aaa',
      sha256: 'aaa',
      quarantineArtifact: null,
    });
    expect(exitCodeFor(dup)).toBe(0);
  });

  it('gives --json exactly the agreed fields', () => {
    expect(Object.keys(outcomeJson(outcome({})))).toEqual(['dataset', 'version', 'status', 'rows', 'accepted', 'quarantined', 'artifact', 'sha256', 'quarantineArtifact']);
  });

  it('prints a failure with its error and exits 1', () => {
    const failed = outcome({ status: 'failed', version: null, error: 'cannot read csv input: bad bytes' });
    expect(formatOutcome(failed)).toEqual(["ingestion into 'penguins' failed: cannot read csv input: bad bytes"]);
    expect(exitCodeFor(failed)).toBe(1);
    expect(exitCodeFor(outcome({}))).toBe(0);
  });

  it('orders reasons by count', () => {
    expect(formatReasons({ b: 1, a: 1, c: 5 })).toBe('c 5, a 1, b 1');
  });

  it('says where an inferred schema went and which keys it found', () => {
    expect(formatInferred('trips', 'trips.yaml', 5, [['trip_id'], ['vendor', 'ts']])).toEqual([
      "wrote the inferred schema of 'trips' (5 columns) to trips.yaml",
      'candidate keys: trip_id, vendor + ts',
      'review it (constraints, primaryKey, checks), then: mlp ingest <file> --dataset trips --schema trips.yaml',
    ]);
    expect(formatInferred('t', 't.yaml', 1, [])[1]).toBe('candidate keys: (none found)');
  });
});
