import { ValidationError } from '@mlp/contracts';
import { parseSchemaYaml, schemaToYaml } from '../schema/schema-yaml';
import { ColumnProfile } from './column-profile';
import { inferSchema } from './infer-schema';

const none = { int: 0, float: 0, bool: 0, date: 0, datetime: 0 };

/** A profile of `rows` rows; by default no nulls, all distinct, nothing castable. */
function profile(name: string, rows: number, overrides: Partial<ColumnProfile> = {}): ColumnProfile {
  return { name, rows, nulls: 0, distinct: rows, castable: { ...none }, topValues: [], ...overrides };
}

/** topValues for `distinct` values named v00, v01, … sharing `rows` rows (the first value takes the remainder). */
function spread(distinct: number, rows: number): { value: string; count: number }[] {
  const each = Math.floor(rows / distinct);
  return Array.from({ length: distinct }, (_, i) => ({ value: `v${String(i).padStart(2, '0')}`, count: i === 0 ? rows - each * (distinct - 1) : each }));
}

function typeOf(p: ColumnProfile, options?: Parameters<typeof inferSchema>[2]) {
  return inferSchema('t', [p], options).schema.columns[p.name];
}

describe('inferSchema: types from castable counts', () => {
  it('bool when every value casts and the values are boolean words', () => {
    const p = profile('ok', 4, { distinct: 2, castable: { ...none, bool: 4 }, topValues: [{ value: 'true', count: 3 }, { value: 'FALSE', count: 1 }] });
    expect(typeOf(p)).toEqual({ type: 'bool', required: true, unique: false });
  });

  it('0/1 is int, not bool', () => {
    const p = profile('flag', 10, { distinct: 2, castable: { int: 10, float: 10, bool: 10, date: 0, datetime: 0 }, topValues: [{ value: '0', count: 6 }, { value: '1', count: 4 }] });
    expect(typeOf(p).type).toBe('int');
  });

  it('int before float, float when some values are fractional', () => {
    expect(typeOf(profile('n', 100, { castable: { ...none, int: 100, float: 100 } })).type).toBe('int');
    expect(typeOf(profile('x', 100, { castable: { ...none, int: 90, float: 100 } })).type).toBe('float');
  });

  it('counts only non-null values: 95 castable of 100 rows with 5 nulls is int', () => {
    expect(typeOf(profile('n', 100, { nulls: 5, distinct: 95, castable: { ...none, int: 95, float: 95 } }))).toEqual({
      type: 'int',
      required: false,
      nullable: true,
      unique: false,
    });
  });

  it('one value that does not cast makes a string', () => {
    expect(typeOf(profile('x', 100, { castable: { ...none, int: 99, float: 99 } })).type).toBe('string');
  });

  it('numbers with leading zeros (zip codes) stay strings', () => {
    const p = profile('zip', 100, { castable: { ...none, int: 100, float: 100 }, topValues: [{ value: '01234', count: 1 }, { value: '98765', count: 1 }] });
    expect(typeOf(p).type).toBe('string');
    // but 0 and 0.5 are ordinary numbers
    const q = profile('x', 100, { castable: { ...none, float: 100 }, topValues: [{ value: '0', count: 1 }, { value: '0.5', count: 1 }] });
    expect(typeOf(q).type).toBe('float');
  });

  it('date before datetime', () => {
    expect(typeOf(profile('d', 50, { castable: { ...none, date: 50, datetime: 50 } })).type).toBe('date');
    expect(typeOf(profile('ts', 50, { castable: { ...none, date: 0, datetime: 50 } })).type).toBe('datetime');
  });

  it('an all-null column is a nullable string, and no key', () => {
    const result = inferSchema('t', [profile('empty', 10, { nulls: 10, distinct: 0 })]);
    expect(result.schema.columns.empty).toEqual({ type: 'string', required: false, nullable: true, unique: false });
    expect(result.candidateKeys).toEqual([]);
    expect(result.schema.primaryKey).toBeUndefined();
  });
});

describe('inferSchema: categories', () => {
  it('20 distinct values over 1000 rows is a category with the sorted values; 21 is a string', () => {
    const top = spread(20, 1000).reverse();
    const cat = typeOf(profile('c', 1000, { distinct: 20, topValues: top }));
    expect(cat.type).toBe('category');
    expect(cat.values).toEqual(Array.from({ length: 20 }, (_, i) => `v${String(i).padStart(2, '0')}`));
    expect(typeOf(profile('c', 1000, { distinct: 21, topValues: spread(21, 1000) })).type).toBe('string');
  });

  it('few rows: up to categoryMaxDistinct when each value appears twice on average', () => {
    // 30 rows: 0.05 × 30 = 1.5 would allow 1 value; few rows allow ≤ 20 with 2 × distinct ≤ 30
    expect(typeOf(profile('c', 30, { distinct: 15, topValues: spread(15, 30) })).type).toBe('category');
    expect(typeOf(profile('c', 30, { distinct: 16, topValues: spread(16, 30) })).type).toBe('string');
  });

  it('honours categoryMaxDistinct', () => {
    const p = profile('c', 1000, { distinct: 6, topValues: spread(6, 1000) });
    expect(typeOf(p).type).toBe('category');
    expect(typeOf(p, { categoryMaxDistinct: 5 }).type).toBe('string');
  });

  it('honours categoryMaxFraction (which only binds above 0.5: below, the few-rows rule is looser)', () => {
    // 10 rows, 10 distinct: default → string (2 × 10 > 10); fraction 1 allows distinct ≤ 1 × 10
    const p = profile('c', 10, { distinct: 10, topValues: spread(10, 10) });
    expect(typeOf(p).type).toBe('string');
    expect(typeOf(p, { categoryMaxFraction: 1 }).type).toBe('category');
  });

  it('no category when the top values do not account for every row', () => {
    const top = spread(5, 1000).slice(1); // one value missing from the list
    expect(typeOf(profile('c', 1000, { distinct: 5, topValues: top })).type).toBe('string');
  });

  it('long strings (free text) never become categories', () => {
    expect(typeOf(profile('notes', 1000, { distinct: 3, topValues: spread(3, 1000), maxLength: 201 })).type).toBe('string');
    expect(typeOf(profile('notes', 1000, { distinct: 3, topValues: spread(3, 1000), maxLength: 200 })).type).toBe('category');
  });
});

describe('inferSchema: typed sources decide directly', () => {
  it.each([
    ['BIGINT', 'int'],
    ['INTEGER', 'int'],
    ['DOUBLE', 'float'],
    ['DECIMAL(10,2)', 'float'],
    ['DECIMAL(18,0)', 'int'],
    ['BOOLEAN', 'bool'],
    ['DATE', 'date'],
    ['TIMESTAMP', 'datetime'],
    ['TIMESTAMP WITH TIME ZONE', 'datetime'],
    ['VARCHAR', 'string'],
    ['STRUCT(a INTEGER)', 'string'],
  ])('%s → %s', (sourceType, expected) => {
    // castable says float: the source type must win
    expect(typeOf(profile('x', 100, { sourceType, castable: { ...none, float: 100 } })).type).toBe(expected);
  });

  it('ENUM is a category with its values; VARCHAR may still be a category', () => {
    const top = spread(3, 1000);
    expect(typeOf(profile('e', 1000, { sourceType: "ENUM('v00', 'v01', 'v02')", distinct: 3, topValues: top }))).toEqual({
      type: 'category',
      required: true,
      unique: false,
      values: ['v00', 'v01', 'v02'],
    });
    expect(typeOf(profile('s', 1000, { sourceType: 'VARCHAR', distinct: 3, topValues: top })).type).toBe('category');
  });
});

describe('inferSchema: keys, nullability and observed facts', () => {
  const rows = 50;
  const profiles: ColumnProfile[] = [
    profile('name', rows, { maxLength: 30 }),
    profile('created', rows, { castable: { ...none, datetime: rows }, min: '2024-01-01T00:00:00', max: '2024-02-19T00:00:00' }),
    profile('user_id', rows, { castable: { ...none, int: rows, float: rows }, min: 1, max: 50 }),
    profile('amount', rows, { castable: { ...none, float: rows }, min: 0.5, max: 99.5 }),
    profile('key', rows),
    profile('id', rows, { castable: { ...none, int: rows, float: rows }, min: 100, max: 149 }),
    profile('note', rows, { nulls: 1, distinct: 49 }),
    profile('dup', rows, { distinct: 49 }),
    profile('text', rows, { maxLength: 500 }),
  ];
  const result = inferSchema('credit', profiles);

  it('lists unique non-null columns, id-like names first, not floats or free text', () => {
    expect(result.candidateKeys).toEqual([['id'], ['user_id'], ['key'], ['name'], ['created']]);
  });

  it('makes the first candidate the unique primary key', () => {
    expect(result.schema.primaryKey).toEqual(['id']);
    expect(result.schema.columns.id).toEqual({ type: 'int', required: true, unique: true });
    expect(result.schema.columns.user_id.unique).toBe(false);
  });

  it('marks columns without nulls required, others nullable', () => {
    expect(result.schema.columns.note).toEqual({ type: 'string', required: false, nullable: true, unique: false });
    expect(result.schema.columns.dup).toEqual({ type: 'string', required: true, unique: false });
  });

  it('puts ranges in observed, never into constraints', () => {
    expect(result.observed.amount).toEqual({ rows: 50, missing: 0, distinct: 50, min: 0.5, max: 99.5 });
    expect(result.observed.created).toMatchObject({ min: '2024-01-01T00:00:00', max: '2024-02-19T00:00:00' });
    expect(result.observed.note).toEqual({ rows: 50, missing: 1, distinct: 49 });
    expect(result.schema.columns.amount.min).toBeUndefined();
    expect(result.schema.columns.amount.max).toBeUndefined();
  });

  it('keeps the column order and declares no checks', () => {
    expect(Object.keys(result.schema.columns)).toEqual(profiles.map((p) => p.name));
    expect(result.schema.checks).toEqual({});
  });

  it('samples the five most frequent values', () => {
    const p = profile('c', 1000, { distinct: 7, topValues: spread(7, 1000), maxLength: 3 });
    expect(inferSchema('t', [p]).observed.c).toEqual({ rows: 1000, missing: 0, distinct: 7, sample: ['v00', 'v01', 'v02', 'v03', 'v04'], maxLength: 3 });
  });

  it('needs at least two rows for a key', () => {
    expect(inferSchema('t', [profile('id', 1, { castable: { ...none, int: 1, float: 1 } })]).candidateKeys).toEqual([]);
  });

  it('round-trips through YAML', () => {
    expect(parseSchemaYaml(schemaToYaml(result.schema, result.observed))).toEqual(result.schema);
  });
});

describe('inferSchema: bad input', () => {
  it('rejects no columns, duplicate names and a bad dataset name', () => {
    expect(() => inferSchema('t', [])).toThrow(ValidationError);
    expect(() => inferSchema('t', [profile('a', 2), profile('a', 2)])).toThrow('duplicate column name "a"');
    expect(() => inferSchema('no spaces', [profile('a', 2)])).toThrow(/dataset: use letters, digits, _ and -/);
  });
});
