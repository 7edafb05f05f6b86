import { ValidationError } from '@mlp/contracts';
import { DatasetSchema } from './dataset-schema';
import { ObservedColumn } from './observed-column';
import { parseSchemaYaml, schemaToYaml } from './schema-yaml';

/** The ValidationError thrown by parseSchemaYaml (fails the test if none is thrown). */
function errorOf(text: string, source?: string): ValidationError {
  try {
    parseSchemaYaml(text, source);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return err as ValidationError;
  }
  throw new Error('expected parseSchemaYaml to throw');
}

describe('parseSchemaYaml', () => {
  it('parses a valid schema and applies the defaults', () => {
    const schema = parseSchemaYaml(
      [
        'dataset: credit',
        'primaryKey: [id]',
        'columns:',
        '  id: {type: int, required: true, unique: true}',
        '  amount:',
        '    type: float',
        '    min: 0',
        '  opened: {type: date, min: 2020-01-01, max: "2024-12-31"}',
        '  purpose: {type: category, values: [car, home]}',
        '  code: {type: string, pattern: "^[A-Z]{3}$"}',
        'checks: {minRows: 10}',
      ].join('\n'),
    );
    expect(schema).toEqual({
      dataset: 'credit',
      primaryKey: ['id'],
      columns: {
        id: { type: 'int', required: true, unique: true },
        amount: { type: 'float', required: false, unique: false, min: 0 },
        // YAML core schema: an unquoted date stays a string
        opened: { type: 'date', required: false, unique: false, min: '2020-01-01', max: '2024-12-31' },
        purpose: { type: 'category', required: false, unique: false, values: ['car', 'home'] },
        code: { type: 'string', required: false, unique: false, pattern: '^[A-Z]{3}$' },
      },
      checks: { minRows: 10 },
    });
  });

  it('names line and column of a bad indentation (syntax error)', () => {
    const err = errorOf(['dataset: credit', 'columns:', '  id: {type: int}', '   amount: {type: float}', ''].join('\n'));
    expect(err.message).toBe('schema.yaml:4:1 YAML syntax error: All mapping items must start at the same column');
    expect(err.details).toEqual([{ path: '', message: 'YAML syntax error: All mapping items must start at the same column (line 4, column 1)' }]);
  });

  it('names the line of an unclosed flow mapping and of a duplicate key', () => {
    expect(errorOf(['dataset: x', 'columns:', '  a: {type: int', ''].join('\n')).message).toMatch(/^schema\.yaml:4:1 YAML syntax error: Flow map/);
    expect(errorOf(['dataset: x', 'columns:', '  a: {type: int}', '  a: {type: float}'].join('\n')).message).toBe(
      'schema.yaml:4:3 YAML syntax error: Map keys must be unique',
    );
  });

  it('uses the given source name', () => {
    expect(errorOf('dataset: [', 'specs/credit.yaml').message).toMatch(/^specs\/credit\.yaml:1:\d+ YAML syntax error/);
  });

  it('points a wrong value type at the value: line 7, column 10', () => {
    const text = ['# credit', 'dataset: credit', 'columns:', '  id: {type: int}', '  amount:', '    type: float', '    min: ten'].join('\n');
    const err = errorOf(text);
    expect(err.message).toBe('schema.yaml:7:10 columns.amount.min: expected number, received "ten"');
    expect(err.details).toEqual([{ path: 'columns.amount.min', message: 'expected number, received "ten" (line 7, column 10)' }]);
  });

  it('points a zod type error at the value (required: yes is a string in YAML 1.2)', () => {
    const err = errorOf(['dataset: credit', 'columns:', '  id: {type: int, required: "yes"}'].join('\n'));
    expect(err.message).toBe('schema.yaml:3:29 columns.id.required: expected boolean, received string');
  });

  it('reports every problem, sorted by line, each with its path and line', () => {
    const text = [
      'dataset: credit', // 1
      'primaryKey: [id, nope]', // 2
      'columns:', // 3
      '  id: {type: int, mn: 3}', // 4
      '  purpose: {type: string, values: [a, b]}', // 5
      '  when: {type: date, min: 2024-02-30}', // 6
      '  b: {type: int, min: 5, max: 3}', // 7
      '  c:', // 8
      '  d: {required: true}', // 9
      'checks: {minRows: -1}', // 10
      'extra: 1', // 11
    ].join('\n');
    const err = errorOf(text);
    expect(err.details.map((d) => [d.path, d.message.match(/\(line (\d+), column (\d+)\)$/)!.slice(1).join(':')])).toEqual([
      ['primaryKey.1', '2:18'],
      ['columns.id.mn', '4:19'],
      ['columns.purpose.values', '5:35'],
      ['columns.when.min', '6:27'],
      ['columns.b.max', '7:31'],
      ['columns.c', '8:3'],
      ['columns.d.type', '9:3'],
      ['checks.minRows', '10:19'],
      ['extra', '11:1'],
    ]);
    expect(err.message.split('\n')[0]).toBe('9 problems in schema.yaml:');
    expect(err.message).toContain('schema.yaml:2:18 primaryKey.1: unknown column "nope"; declare it under columns');
    expect(err.message).toContain('schema.yaml:4:19 columns.id.mn: unknown key "mn"; expected one of type, required,');
    expect(err.message).toContain('schema.yaml:5:35 columns.purpose.values: values are only allowed on category columns, not string');
    expect(err.message).toContain('schema.yaml:6:27 columns.when.min: expected an ISO date (YYYY-MM-DD), received "2024-02-30"');
    expect(err.message).toContain('schema.yaml:7:31 columns.b.max: max (3) is less than min (5)');
    expect(err.message).toContain('schema.yaml:9:3 columns.d.type: required; one of int, float, bool, string, category, date, datetime');
    expect(err.message).toContain('schema.yaml:11:1 extra: unknown key "extra"; expected one of dataset, primaryKey, columns, checks');
  });

  it('rejects a pattern that does not compile, and one on a numeric column', () => {
    const err = errorOf(['dataset: x', 'columns:', '  a: {type: string, pattern: "["}', '  n: {type: int, pattern: "^1"}'].join('\n'));
    expect(err.details.map((d) => d.path)).toEqual(['columns.a.pattern', 'columns.n.pattern']);
    expect(err.details[0].message).toMatch(/^not a valid regular expression: .*\(line 3, column 30\)$/);
    expect(err.details[1].message).toBe('pattern is only allowed on string and category columns, not int (line 4, column 27)');
  });

  it('checks bounds against the column type', () => {
    const err = errorOf(
      [
        'dataset: x',
        'columns:',
        '  s: {type: string, min: 1}',
        '  d: {type: datetime, min: "2024-01-01T25:00"}',
        '  f: {type: float, max: "2024-01-01"}',
        '  t: {type: datetime, min: "2024-01-02", max: "2024-01-01T23:59:59Z"}',
      ].join('\n'),
    );
    expect(err.details.map((d) => `${d.path}: ${d.message}`)).toEqual([
      'columns.s.min: min is only allowed on int, float, date and datetime columns, not string (line 3, column 26)',
      'columns.d.min: expected an ISO datetime (YYYY-MM-DDTHH:MM:SS, optional offset), received "2024-01-01T25:00" (line 4, column 28)',
      'columns.f.max: expected number, received "2024-01-01" (line 5, column 25)',
      'columns.t.max: max (2024-01-01T23:59:59Z) is less than min (2024-01-02) (line 6, column 47)',
    ]);
  });

  it('rejects required + nullable, duplicate values, an empty primary key and a missing column list', () => {
    expect(errorOf('dataset: x\ncolumns:\n  a: {type: int, required: true, nullable: true}').message).toBe(
      'schema.yaml:3:44 columns.a.nullable: a required column cannot be nullable',
    );
    expect(errorOf('dataset: x\ncolumns:\n  a: {type: category, values: [u, v, u]}').message).toBe(
      'schema.yaml:3:38 columns.a.values.2: duplicate value "u"',
    );
    expect(errorOf('dataset: x\nprimaryKey: []\ncolumns:\n  a: {type: int}').message).toBe(
      'schema.yaml:2:13 primaryKey: list at least one column, or leave primaryKey out',
    );
    expect(errorOf('dataset: x\n').message).toBe('schema.yaml:1:1 columns: required');
    expect(errorOf('dataset: x\ncolumns: {}').message).toBe('schema.yaml:2:10 columns: declare at least one column');
  });

  it('points into block sequences', () => {
    const err = errorOf(['dataset: x', 'primaryKey:', '  - a', '  - zz', 'columns:', '  a: {type: int}'].join('\n'));
    expect(err.message).toBe('schema.yaml:4:5 primaryKey.1: unknown column "zz"; declare it under columns');
  });

  it('turns an alias bomb into a ValidationError', () => {
    const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (const [name, prev] of [['b', 'a'], ['c', 'b'], ['d', 'c'], ['e', 'd']]) lines.push(`${name}: &${name} [${Array(10).fill(`*${prev}`).join(', ')}]`);
    expect(errorOf(lines.join('\n')).message).toMatch(/^schema\.yaml:1:1 YAML error: Excessive alias count/);
  });

  it('rejects an empty document and a non-mapping', () => {
    expect(errorOf('').message).toBe('schema.yaml:1:1 expected a mapping with dataset and columns (and optionally primaryKey, checks)');
    expect(errorOf('# nothing\n- a\n').message).toBe('schema.yaml:2:1 expected a mapping with dataset and columns (and optionally primaryKey, checks)');
  });

  it('allows a category without values (any value, low cardinality)', () => {
    expect(parseSchemaYaml('dataset: x\ncolumns:\n  c: {type: category}').columns.c).toEqual({ type: 'category', required: false, unique: false });
  });
});

describe('schemaToYaml', () => {
  const schema: DatasetSchema = {
    dataset: 'credit',
    primaryKey: ['id'],
    columns: {
      id: { type: 'int', required: true, unique: true },
      amount: { type: 'float', required: false, nullable: true, unique: false, min: 0, max: 1e6, maxMissingFraction: 0.1 },
      'opened at': { type: 'datetime', required: true, unique: false, min: '2020-01-01T00:00:00Z' },
      purpose: {
        type: 'category',
        required: false,
        unique: false,
        values: ['car', '1', 'yes', '', 'null', 'a: b', '#x', 'multi\nline'],
        description: 'why the loan was taken, it\'s "free" text',
      },
      flag: { type: 'bool', required: false, nullable: false, unique: false },
      code: { type: 'string', required: false, unique: false, pattern: '^[A-Z]{2}\\d+$' },
    },
    checks: { minRows: 100, maxMissingFraction: 0.2, maxQuarantinedFraction: 0.05 },
  };
  const observed: Record<string, ObservedColumn> = {
    id: { rows: 1000, missing: 0, distinct: 1000, min: 1, max: 1000 },
    amount: { rows: 1000, missing: 15, distinct: 812, min: 0.5, max: 9999.123456789 },
    purpose: { rows: 1000, missing: 0, distinct: 3, sample: ['car', 'multi\nline', 'x'.repeat(40)] },
  };

  it('round-trips: parseSchemaYaml(schemaToYaml(s)) equals s', () => {
    expect(parseSchemaYaml(schemaToYaml(schema))).toEqual(schema);
    expect(parseSchemaYaml(schemaToYaml(schema, observed))).toEqual(schema);
  });

  it('round-trips a schema without primary key or checks', () => {
    const minimal: DatasetSchema = { dataset: 'm', columns: { a: { type: 'string', required: false, unique: false } }, checks: {} };
    expect(parseSchemaYaml(schemaToYaml(minimal))).toEqual(minimal);
    expect(schemaToYaml(minimal)).not.toContain('checks');
  });

  it('writes one flow line per column, without defaults, and observed facts as comments', () => {
    const lines = schemaToYaml(schema, observed).split('\n');
    expect(lines).toContain('  id: {type: int, required: true, unique: true} # observed: 1 to 1000, none missing of 1000, 1000 distinct');
    expect(lines).toContain(
      '  amount: {type: float, nullable: true, min: 0, max: 1000000, maxMissingFraction: 0.1} # observed: 0.5 to 9999.12, 15/1000 missing (1.5%), 812 distinct',
    );
    expect(lines).toContain(
      '  purpose: {type: category, values: [car, "1", yes, "", "null", "a: b", "#x", "multi\\nline"], description: "why the loan was taken, it\'s \\"free\\" text"}' +
        ' # observed: none missing of 1000, 3 distinct, top "car", "multi\\nline", "xxxxxxxxxxxxxxxxxxxxxxx…"',
    );
    expect(lines).toContain('  flag: {type: bool, nullable: false}');
    expect(lines).toContain('primaryKey: [id]');
    // observed facts are comments, never constraints
    const amountLine = lines.find((l) => l.startsWith('  amount:'))!;
    expect(amountLine.slice(0, amountLine.indexOf(' #'))).not.toContain('9999');
    expect(lines.slice(0, 3)).toEqual([
      '# Dataset schema for "credit".',
      '# Constraints are enforced on ingestion. Comments after a column show what was',
      '# observed in the sample: facts, not constraints. Edit freely.',
    ]);
    expect(lines).toContain('checks:');
    expect(lines).toContain('  maxQuarantinedFraction: 0.05');
  });
});
