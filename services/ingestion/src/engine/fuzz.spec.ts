import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { ValidationError } from '@mlp/contracts';
import { parseSchemaYaml, quarantineReasonCodes, type QuarantineReasonCode } from '@mlp/data';
import { processFile, type ProcessResult } from './process-file';
import type { InputFormat } from './read-source';

/**
 * Fuzzing the ingestion engine: seeded malformed inputs (≥ 10,000) go through
 * `processFile` against a declared schema, and every outcome is held to the
 * engine's contract. Each generated row carries what must happen to it (valid →
 * accepted; malformed → quarantined with a given reason), so the quarantine's
 * row numbers, reasons and the accepted rows are checked row by row.
 *
 * The seed is fixed; `MLP_FUZZ_SEED=<n>` explores another corner (failures
 * name the seed and the case). Each property is its own test, so a broken one
 * does not hide the others; file-level cases that pin one behaviour each have
 * their own test too. An input that trips a known engine bug (blank lines
 * between CSV rows, hex ints, tab-only NDJSON lines, lenient JSON) is pinned
 * in its own file-level test rather than sprinkled through the generated
 * files, so one bug fails one test and the generated batch keeps watching
 * everything else.
 */

const SEED = Number(process.env.MLP_FUZZ_SEED ?? 20_261_126);
const CSV_FILES = 200;
const NDJSON_FILES = 50;
/** Examples per failed property in a failure message. */
const EXAMPLES = Number(process.env.MLP_FUZZ_EXAMPLES ?? 8);

const schema = parseSchemaYaml(`
dataset: fuzz
primaryKey: [id]
columns:
  id:     {type: int, required: true}
  score:  {type: float, min: 0, max: 100}
  qty:    {type: int, min: 0, max: 1000}
  active: {type: bool}
  day:    {type: date, min: '2000-01-01', max: '2030-12-31'}
  color:  {type: category, required: true, values: [red, green, blue]}
  code:   {type: string, pattern: '^[A-Z]{2}-[0-9]{3}$'}
  note:   {type: string}
  ratio:  {type: float}
`);
const COLUMNS = ['id', 'score', 'qty', 'active', 'day', 'color', 'code', 'note', 'ratio'] as const;
type Column = (typeof COLUMNS)[number];

// ---------------------------------------------------------------- PRNG

/** mulberry32: a tiny seeded PRNG, uniform in [0, 1). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Rng {
  private readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  float(): number {
    return this.next();
  }
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }
}

// ---------------------------------------------------------------- cases

/**
 * What the generator meant for one data row: accepted (codes null) or
 * quarantined with these reasons. Generated rows also carry what was written
 * (`fields` of a delimited row, the `line` of an NDJSON row), from which
 * `classify` below derives the row's fate independently of the engine.
 */
interface RowOracle {
  kind: string;
  /** The primary key of a row that reaches validation with a valid id (valid rows always have one). */
  id?: number;
  codes: QuarantineReasonCode[] | null;
  /** 'all': every code must be among the row's reasons; 'any': at least one. */
  match?: 'all' | 'any';
  fields?: (string | Buffer)[];
  line?: string;
}

interface FuzzCase {
  name: string;
  format: InputFormat;
  content: Buffer;
  /** The data rows in file order, when the case knows them; else only the invariants apply. */
  rows?: RowOracle[];
  /** Malformed inputs this case contributes (malformed rows, or 1 for a malformed file). */
  malformed: number;
  /** must: readable, a ValidationError is a bug; may: a clear ValidationError is fine; refuse: must be a clear ValidationError. */
  read: 'must' | 'may' | 'refuse';
  /** Further expectations on a successful result; returns the problems found. */
  check?: (result: Checked) => string[];
}

/** A processFile result plus what its output files hold. */
interface Checked {
  result: ProcessResult;
  quarantine: { row: number; line: number | null; codes: string[]; messages: string[] }[];
  acceptedIds: (number | null)[];
}

type Outcome = { ok: true; checked: Checked } | { ok: false; error: unknown };

const digits = '0123456789';
const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const noteAlphabet = 'abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789.-_/:;!?()[]{}\'';

function randomText(rng: Rng, min: number, max: number): string {
  let s = '';
  const n = rng.int(min, max);
  for (let i = 0; i < n; i++) s += noteAlphabet[rng.int(0, noteAlphabet.length - 1)];
  return s.trim() || 'x';
}

function validCode(rng: Rng): string {
  return `${rng.pick([...letters])}${rng.pick([...letters])}-${rng.pick([...digits])}${rng.pick([...digits])}${rng.pick([...digits])}`;
}

function validDate(rng: Rng): string {
  const y = rng.int(2000, 2030);
  const m = rng.int(1, 12);
  const d = rng.int(1, 28);
  return `${y}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/** Values that pass every check, including boundaries, padding and the empty optional field. */
function validValues(rng: Rng, id: number, multiline: boolean): Record<Column, string> {
  return {
    id: rng.pick([String(id), String(id), ` ${id} `, `+${id}`]),
    score: rng.pick(['0', '100', '.5', '7.', '1e1', ' 42 ', '', '-0', '5e-324', String(Math.round(rng.float() * 10_000) / 100)]),
    qty: rng.pick(['0', '1000', '+5', '', '-0', String(rng.int(0, 1000))]),
    active: rng.pick(['true', 'false', 'TRUE', 'False', 't', 'f', '1', '0', '']),
    day: rng.pick(['2000-01-01', '2030-12-31', '', validDate(rng), validDate(rng)]),
    color: rng.pick(['red', 'green', 'blue', ' red ']),
    code: rng.pick(['', validCode(rng), validCode(rng)]),
    note: rng.pick([
      '',
      randomText(rng, 1, 30),
      'with, a comma',
      'say "hi"',
      'café 日本 🐧',
      ...(multiline ? ['line one\nline two', 'crlf\r\ninside'] : []),
    ]),
    ratio: rng.pick(extremeFinite),
  };
}

/** Finite floats at the edges of the double range, all valid in a float column without bounds. */
const extremeFinite = [
  '',
  '0.25',
  '-0',
  '1e308',
  '-1e308',
  '1.7976931348623157e308',
  '5e-324',
  '-4.9e-324',
  '2.2250738585072014e-308',
  `0.${'0'.repeat(398)}1`, // 400 digits, underflows to 0
  `${'1'.repeat(300)}.5`,
  ' -12.5 ',
];
/** Text a float cast reads as NaN or ±Infinity: 400-digit and 1e400 overflow to Infinity. */
const nonFiniteText = ['NaN', 'nan', '-nan', 'inf', '-inf', '+Inf', 'Infinity', '-Infinity', 'INFINITY', '1e400', '-2e308', '9'.repeat(400), `-${'9'.repeat(400)}`];

/** A malformed value for one column and the reason it must produce. */
const badValues: { column: Column; code: QuarantineReasonCode; values: string[] }[] = [
  { column: 'id', code: 'wrong_type', values: ['abc', '1.5', '1e3', '12a', '99999999999999999999', '--1', '1 2', '#7', '0o17', '9'.repeat(400)] },
  { column: 'qty', code: 'wrong_type', values: ['abc', '1.5', '1e3', '12a', '99999999999999999999', '--1', '1 2', '+-3', '9'.repeat(400), 'NaN'] },
  { column: 'score', code: 'wrong_type', values: ['abc', '0x10', '1d', 'five', '--3', '1.2.3', 'e5', '1,5'] },
  { column: 'active', code: 'wrong_type', values: ['maybe', '2', '-1', 'tru', 'nope', '10', 'yess'] },
  { column: 'day', code: 'unparseable_date', values: ['2020-13-01', '2020-02-30', '01/02/2020', 'yesterday', '20200101', '2021-02-29', '+2020-01-01', '2020-00-10'] },
  { column: 'score', code: 'out_of_range', values: ['-0.001', '100.5', '1e308', '-1', '-1e308', '100.00000000000001'] },
  { column: 'score', code: 'non_finite', values: nonFiniteText },
  { column: 'ratio', code: 'non_finite', values: nonFiniteText },
  { column: 'ratio', code: 'wrong_type', values: ['abc', '1_000', '0x1p3', '1,5', '1e', '--1', 'infinit'] },
  { column: 'qty', code: 'out_of_range', values: ['-1', '1001', '5000', '-99999'] },
  { column: 'day', code: 'out_of_range', values: ['1999-12-31', '2031-01-01', '1900-05-05'] },
  { column: 'color', code: 'unknown_category', values: ['purple', 'Red', 'RED', 'reds', 'r ed', 'blue!', 'gren'] },
  { column: 'code', code: 'pattern_mismatch', values: ['ab-123', 'AB123', 'ABC-123', 'AB-12', 'A-1234', 'AB-12X', 'AB-1234'] },
  { column: 'id', code: 'missing_required', values: ['', '   '] },
  { column: 'color', code: 'missing_required', values: ['', '  '] },
];

/** Invalid UTF-8: stray continuation, bad lead bytes, truncated, overlong, surrogate, above U+10FFFF. */
const badUtf8: number[][] = [[0xff], [0xfe], [0xc3, 0x28], [0xa0, 0xa1], [0xe2, 0x28, 0xa1], [0xf0, 0x28, 0x8c, 0xbc], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80]];

/** One line of a delimited file: fields joined, quoted when needed; a field may be raw bytes. */
function delimitedLine(fields: (string | Buffer)[], delimiter: string): Buffer {
  const parts = fields.map((f) => (Buffer.isBuffer(f) ? f : Buffer.from(quoteField(f, delimiter))));
  const out: Buffer[] = [];
  parts.forEach((p, i) => {
    if (i > 0) out.push(Buffer.from(delimiter));
    out.push(p);
  });
  return Buffer.concat(out);
}

function quoteField(value: string, delimiter: string): string {
  return /["\r\n]/.test(value) || value.includes(delimiter) ? `"${value.replace(/"/g, '""')}"` : value;
}

interface DelimitedOptions {
  format: 'csv' | 'tsv';
  rows: number;
  /** Fraction of rows that are malformed. */
  malformedShare: number;
  bom: boolean;
  /** Line ending of each line. */
  eol: () => string;
  trailingNewline: boolean;
  /** Chance of a blank line after each row. */
  blankLines: number;
  multiline: boolean;
  hugeField: boolean;
}

/** A delimited file whose every row knows its fate. */
function delimitedFile(rng: Rng, o: DelimitedOptions): { content: Buffer; rows: RowOracle[] } {
  const d = o.format === 'tsv' ? '\t' : ',';
  const lines: Buffer[] = [delimitedLine([...COLUMNS], d)];
  const rows: RowOracle[] = [];
  const parsedIds: number[] = []; // ids of rows the reader parses with a valid key (duplicates refer to these)
  let nextId = rng.int(1, 1000);
  const hugeAt = o.hugeField ? rng.int(0, o.rows - 1) : -1;
  // Every row is pushed to `rows` first, then written: the oracle keeps the fields as written.
  const written = (fields: (string | Buffer)[]) => {
    rows[rows.length - 1].fields = fields;
    lines.push(delimitedLine(fields, d));
  };
  for (let r = 0; r < o.rows; r++) {
    const id = nextId++;
    const values = validValues(rng, id, o.multiline);
    const asFields = (v: Record<Column, string>) => COLUMNS.map((c) => v[c]);
    if (r === hugeAt) {
      // ≥ 100 KB in one field: valid as a note, a pattern mismatch as a code, a wrong type as an id.
      const size = rng.int(100_000, 160_000);
      const which = rng.pick(['note', 'code', 'id'] as const);
      if (which === 'note') {
        values.note = 'n'.repeat(size);
        rows.push({ kind: 'huge-note', id, codes: null });
        parsedIds.push(id);
      } else if (which === 'code') {
        values.code = `AB-${'1'.repeat(size)}`;
        rows.push({ kind: 'huge-code', id, codes: ['pattern_mismatch'] });
        parsedIds.push(id);
      } else {
        values.id = '9'.repeat(size);
        rows.push({ kind: 'huge-id', codes: ['wrong_type'] });
      }
      written(asFields(values));
      continue;
    }
    if (!rng.chance(o.malformedShare)) {
      rows.push({ kind: 'valid', id, codes: null });
      parsedIds.push(id);
      written(asFields(values));
      continue;
    }
    const mutation = rng.pick(['value', 'value', 'value', 'multi', 'duplicate', 'few', 'many', 'utf8'] as const);
    switch (mutation) {
      case 'value':
      case 'multi': {
        // One bad value, or several in different columns: every reason must be reported.
        const picks = mutation === 'value' ? 1 : rng.int(2, 4);
        const used = new Set<Column>();
        const codes: QuarantineReasonCode[] = [];
        let keyed = true;
        for (let k = 0; k < picks; k++) {
          const bad = rng.pick(badValues);
          if (used.has(bad.column)) continue;
          used.add(bad.column);
          values[bad.column] = rng.pick(bad.values);
          codes.push(bad.code);
          if (bad.column === 'id') keyed = false;
        }
        rows.push({ kind: `bad-${[...used].join('+')}`, id: keyed ? id : undefined, codes });
        if (keyed) parsedIds.push(id);
        written(asFields(values));
        break;
      }
      case 'duplicate': {
        if (parsedIds.length === 0) {
          values.id = rng.pick(['x1', '1.0']);
          rows.push({ kind: 'bad-id', codes: ['wrong_type'] });
        } else {
          const earlier = rng.pick(parsedIds);
          values.id = rng.pick([String(earlier), `+${earlier}`, `00${earlier}`, ` ${earlier} `]);
          rows.push({ kind: 'duplicate-key', codes: ['duplicate_key'] });
        }
        written(asFields(values));
        break;
      }
      case 'few': {
        const keep = rng.int(1, COLUMNS.length - 1);
        rows.push({ kind: `ragged-${keep}-fields`, codes: ['ragged_row'] });
        written(asFields(values).slice(0, keep));
        break;
      }
      case 'many': {
        const extra = Array.from({ length: rng.int(1, 3) }, () => randomText(rng, 0, 5));
        rows.push({ kind: `ragged-plus-${extra.length}`, codes: ['ragged_row'] });
        written([...asFields(values), ...extra]);
        break;
      }
      case 'utf8': {
        const column = rng.pick(['note', 'code', 'color'] as const);
        const fields: (string | Buffer)[] = asFields(values);
        const at = COLUMNS.indexOf(column);
        fields[at] = Buffer.concat([Buffer.from('ab'), Buffer.from(rng.pick(badUtf8)), Buffer.from(rng.chance(0.5) ? 'cd' : '')]);
        rows.push({ kind: `bad-utf8-${column}`, codes: ['bad_encoding'] });
        written(fields);
        break;
      }
    }
  }
  const parts: Buffer[] = [];
  if (o.bom) parts.push(Buffer.from([0xef, 0xbb, 0xbf]));
  lines.forEach((line, i) => {
    parts.push(line);
    const last = i === lines.length - 1;
    if (!last || o.trailingNewline) parts.push(Buffer.from(o.eol()));
    if (!last && i > 0 && rng.chance(o.blankLines)) parts.push(Buffer.from(o.eol()));
  });
  return { content: Buffer.concat(parts), rows };
}

/** A JSON value for one column of a valid NDJSON row: strings or native JSON types. */
function validJsonValue(rng: Rng, column: Column, id: number): unknown {
  switch (column) {
    case 'id':
      return rng.pick([id, String(id)]);
    case 'score':
      return rng.pick([0, 100, 55.5, '42', null]);
    case 'qty':
      return rng.pick([0, 1000, rng.int(0, 1000), '7', null]);
    case 'active':
      return rng.pick([true, false, 'true', 0, 1, null]);
    case 'day':
      return rng.pick([validDate(rng), '2000-01-01', null]);
    case 'color':
      return rng.pick(['red', 'green', 'blue']);
    case 'code':
      return rng.pick([validCode(rng), null]);
    case 'note':
      return rng.pick(['', randomText(rng, 1, 20), 'quote " and \\ backslash', 'line\nbreak', 'ünï 🐧']);
    case 'ratio':
      return rng.pick([0.5, -0, 1e308, -1.7976931348623157e308, 5e-324, '-1e308', `0.${'0'.repeat(398)}1`, null]);
  }
}

const badJsonValues: { column: Column; code: QuarantineReasonCode; values: unknown[] }[] = [
  { column: 'id', code: 'wrong_type', values: ['abc', 1.5, true, [1], { n: 1 }, '7b'] },
  { column: 'score', code: 'wrong_type', values: ['abc', { a: 1 }, [1], true] },
  { column: 'qty', code: 'wrong_type', values: ['1.5', 2.5, 'many', false] },
  { column: 'active', code: 'wrong_type', values: ['maybe', 2, 'yess', [true]] },
  { column: 'day', code: 'unparseable_date', values: [20200101, '2020-13-01', 'soon', true] },
  { column: 'score', code: 'out_of_range', values: [-5, 100.01, '-1', 1e300] },
  { column: 'score', code: 'non_finite', values: ['NaN', 'Infinity', '-inf', '1e400'] },
  { column: 'ratio', code: 'non_finite', values: ['nan', '+inf', '9'.repeat(400), '-Infinity'] },
  { column: 'ratio', code: 'wrong_type', values: ['abc', { a: 1 }, [1.5], true] },
  { column: 'qty', code: 'out_of_range', values: [1001, -1, '2000'] },
  { column: 'day', code: 'out_of_range', values: ['1999-12-31', '2099-01-01'] },
  { column: 'color', code: 'unknown_category', values: ['purple', 5, true, 'Blue'] },
  { column: 'code', code: 'pattern_mismatch', values: [123, 'ab-123', 'AB-1234', ''.padEnd(3, 'Z')] },
  { column: 'id', code: 'missing_required', values: [null, '', '  '] },
  { column: 'color', code: 'missing_required', values: [null, ''] },
];

const invalidJsonLines = (id: number) => [`{"id":${id},`, `{'id':${id}}`, `{id:${id}}`, `{"id":${id}}}`, `{"id":${id}} trailing`, `{"id": 0x10}`, `{"id":${id},"note":"unterminated}`];
const nonObjectLines = ['[1,2]', '42', '"a string"', 'null', 'true', '[]', '[{"id":1}]'];

/** An NDJSON file whose every non-blank line is a row that knows its fate. */
function ndjsonFile(rng: Rng, rowCount: number): { content: Buffer; rows: RowOracle[] } {
  const lines: string[] = [];
  const rows: RowOracle[] = [];
  const parsedIds: number[] = [];
  let nextId = rng.int(1, 1000);
  const written = (line: string) => {
    rows[rows.length - 1].line = line;
    lines.push(line);
  };
  for (let r = 0; r < rowCount; r++) {
    const id = nextId++;
    const obj: Record<string, unknown> = {};
    for (const c of rng.shuffle([...COLUMNS])) if (c === 'id' || c === 'color' || rng.chance(0.8)) obj[c] = validJsonValue(rng, c, id);
    if (rng.chance(0.1)) obj.extra = randomText(rng, 1, 8);
    const mutation = rng.chance(0.15) ? 'none' : rng.pick(['value', 'value', 'value', 'missing-key', 'duplicate', 'invalid', 'not-object'] as const);
    switch (mutation) {
      case 'none':
        rows.push({ kind: 'valid', id, codes: null });
        parsedIds.push(id);
        written(JSON.stringify(obj));
        break;
      case 'value': {
        const bad = rng.pick(badJsonValues);
        obj[bad.column] = rng.pick(bad.values);
        const keyed = bad.column !== 'id';
        rows.push({ kind: `bad-${bad.column}`, id: keyed ? id : undefined, codes: [bad.code] });
        if (keyed) parsedIds.push(id);
        written(JSON.stringify(obj));
        break;
      }
      case 'missing-key': {
        const column = rng.pick(['id', 'color'] as const);
        delete obj[column];
        rows.push({ kind: `missing-${column}`, id: column === 'id' ? undefined : id, codes: ['missing_required'] });
        if (column !== 'id') parsedIds.push(id);
        written(JSON.stringify(obj));
        break;
      }
      case 'duplicate':
        if (parsedIds.length === 0) {
          obj.id = 'x';
          rows.push({ kind: 'bad-id', codes: ['wrong_type'] });
        } else {
          const earlier = rng.pick(parsedIds);
          obj.id = rng.pick([earlier, String(earlier)]);
          rows.push({ kind: 'duplicate-key', codes: ['duplicate_key'] });
        }
        written(JSON.stringify(obj));
        break;
      case 'invalid':
        rows.push({ kind: 'invalid-json', codes: ['malformed_row'] });
        written(rng.pick(invalidJsonLines(id)));
        break;
      case 'not-object':
        rows.push({ kind: 'not-an-object', codes: ['malformed_row'] });
        written(rng.pick(nonObjectLines));
        break;
    }
  }
  const eol = rng.chance(0.3) ? '\r\n' : '\n';
  let text = '';
  for (const line of lines) {
    text += (rng.chance(0.1) ? '  ' : '') + line + eol;
    if (rng.chance(0.05)) text += rng.pick(['', '   ']) + eol; // blank lines are not rows
  }
  return { content: Buffer.from(text), rows };
}

function malformedCount(rows: RowOracle[]): number {
  return rows.filter((r) => r.codes !== null).length;
}

/** The ~250 generated files of many malformed rows each. */
function generatedCases(seed: number): FuzzCase[] {
  const rng = new Rng(seed);
  const cases: FuzzCase[] = [];
  for (let i = 0; i < CSV_FILES; i++) {
    const format = rng.chance(0.15) ? 'tsv' : 'csv';
    const crlf = rng.chance(0.25);
    const { content, rows } = delimitedFile(rng, {
      format,
      rows: rng.int(40, 80),
      malformedShare: 0.8,
      bom: rng.chance(0.2),
      eol: () => (crlf ? '\r\n' : '\n'),
      trailingNewline: rng.chance(0.85),
      blankLines: 0,
      multiline: rng.chance(0.3),
      hugeField: rng.chance(0.08),
    });
    cases.push({ name: `generated ${format} #${i}`, format, content, rows, malformed: malformedCount(rows), read: 'must' });
  }
  for (let i = 0; i < NDJSON_FILES; i++) {
    const { content, rows } = ndjsonFile(rng, rng.int(40, 80));
    cases.push({ name: `generated ndjson #${i}`, format: 'ndjson', content, rows, malformed: malformedCount(rows), read: 'must' });
  }
  return cases;
}

/** File-level cases leave out `ratio` (an optional column, so every row has it null): their texts are written by hand. */
const FILE_COLUMNS = COLUMNS.filter((c) => c !== 'ratio');
const HEADER = FILE_COLUMNS.join(',');
const row = (id: number, note = 'ok') => `${id},50,10,true,2020-01-01,red,AB-123,${note}`;
const okRows = (ids: number[]): RowOracle[] => ids.map((id) => ({ kind: 'valid', id, codes: null }));

/** Cases at the level of the whole file, one behaviour each. */
function fileCases(seed: number): Record<string, FuzzCase[]> {
  const rng = new Rng(seed ^ 0x9e3779b9);
  const delimited = (o: Partial<DelimitedOptions>) =>
    delimitedFile(rng, {
      format: 'csv',
      rows: 30,
      malformedShare: 0.5,
      bom: false,
      eol: () => '\n',
      trailingNewline: true,
      blankLines: 0,
      multiline: false,
      hugeField: false,
      ...o,
    });
  const groups: Record<string, FuzzCase[]> = {};

  groups['empty files read as zero rows (or a clear ValidationError)'] = (['csv', 'tsv', 'ndjson', 'json', 'parquet', 'arrow'] as const).map((format) => ({
    name: `empty ${format}`,
    format,
    content: Buffer.alloc(0),
    rows: [],
    malformed: 1,
    read: 'may',
  }));

  groups['a file with only a header has zero rows and finds its columns'] = [HEADER, `${HEADER}\n`, `${HEADER}\r\n`, `\ufeff${HEADER}\n`, `${HEADER}\n\n\n`].map((text, i) => ({
    name: `header only #${i} ${JSON.stringify(text.slice(-3))}`,
    format: 'csv',
    content: Buffer.from(text),
    rows: [],
    malformed: 1,
    read: 'must',
    check: ({ result }) => (result.missingColumns.join() !== 'ratio' ? [`columns not found: ${result.missingColumns.filter((c) => c !== 'ratio').join(', ')}`] : []),
  }));

  groups['a file of blank lines has no rows (or a clear ValidationError)'] = ['\n', '\n\n\n', '\r\n\r\n\r\n'].map((text) => ({
    name: `blank lines ${JSON.stringify(text)}`,
    format: 'csv',
    content: Buffer.from(text),
    rows: [],
    malformed: 1,
    read: 'may',
  }));

  groups['a UTF-8 BOM is not part of the first column name'] = [false, true].flatMap((crlf) =>
    [0, 1, 2].map((i) => {
      const { content, rows } = delimited({ bom: true, eol: () => (crlf ? '\r\n' : '\n') });
      return {
        name: `bom ${crlf ? 'crlf' : 'lf'} #${i}`,
        format: 'csv' as const,
        content,
        rows,
        malformed: malformedCount(rows) + 1,
        read: 'must' as const,
        check: ({ result }: Checked) => (result.missingColumns.includes('id') ? ['the BOM stuck to the first column: "id" not found'] : []),
      };
    }),
  );

  groups['mixed \\n and \\r\\n line endings read like either'] = Array.from({ length: 6 }, (_, i) => {
    const { content, rows } = delimited({ eol: () => rng.pick(['\n', '\r\n']), multiline: i % 2 === 1 });
    return { name: `mixed line endings #${i}`, format: 'csv', content, rows, malformed: malformedCount(rows) + 1, read: 'must' };
  });

  groups['blank lines between CSV rows are not rows and do not shift row numbers'] = Array.from({ length: 4 }, (_, i) => {
    const { content, rows } = delimited({ rows: 40, blankLines: 0.15, eol: () => (i % 2 ? '\r\n' : '\n') });
    return { name: `blank lines between rows #${i}`, format: 'csv', content, rows, malformed: malformedCount(rows) + 1, read: 'must' };
  });

  groups['int columns refuse hex and binary literals (0x10 is not 16)'] = [
    {
      name: 'hex and binary ints in csv',
      format: 'csv' as const,
      text: `${HEADER}\n${row(1)}\n2,50,0x10,true,2020-01-01,red,AB-123,n\n3,50,0X1F,true,2020-01-01,red,AB-123,n\n0x11,50,1,true,2020-01-01,red,AB-123,n\n5,50,0b101,true,2020-01-01,red,AB-123,n\n6,50, 0x10 ,true,2020-01-01,red,AB-123,n\n${row(7)}\n`,
      rows: [...okRows([1]), ...[2, 3, 4, 5, 6].map((): RowOracle => ({ kind: 'hex/binary int', codes: ['wrong_type'] })), ...okRows([7])],
    },
    {
      name: 'hex id in ndjson',
      format: 'ndjson' as const,
      text: `{"id":1,"color":"red"}\n{"id":"0x10","color":"red"}\n{"id":3,"color":"red","qty":"0b11"}\n`,
      rows: [...okRows([1]), { kind: 'hex id', codes: ['wrong_type'] }, { kind: 'binary qty', codes: ['wrong_type'] }] as RowOracle[],
    },
  ].map((c) => ({ name: c.name, format: c.format, content: Buffer.from(c.text), rows: c.rows, malformed: c.rows.filter((r) => r.codes).length, read: 'must' as const }));

  groups['numbers with digit separators (1_000) are not numbers'] = [
    {
      name: 'digit separators in csv',
      format: 'csv' as const,
      content: Buffer.from(`${HEADER}\n${row(1)}\n2,50,1_000,true,2020-01-01,red,AB-123,n\n3,5_0,1,true,2020-01-01,red,AB-123,n\n${row(4)}\n`),
      rows: [...okRows([1]), { kind: 'int 1_000', id: 2, codes: ['wrong_type'] }, { kind: 'float 5_0', id: 3, codes: ['wrong_type'] }, ...okRows([4])] as RowOracle[],
      malformed: 2,
      read: 'must' as const,
    },
  ];

  groups['whitespace-only NDJSON lines (tabs too) are not rows'] = [0, 1].map((i) => ({
    name: `ndjson whitespace lines #${i}`,
    format: 'ndjson' as const,
    content: Buffer.from(['{"id":1,"color":"red"}', '\t', '{"id":2,"color":"red"}', ' \t ', '\t\t', '{"id":3,"color":"red"}', ''].join(i ? '\r\n' : '\n')),
    rows: okRows([1, 2, 3]),
    malformed: 3,
    read: 'must' as const,
  }));

  // DuckDB's JSON reader (yyjson) is lenient: a trailing comma or a bare NaN still parses (documented, pinned
  // here); a NaN score is then quarantined as non_finite.
  groups['NDJSON lines in lenient JSON (trailing comma, NaN) are read'] = [
    {
      name: 'lenient json in ndjson',
      format: 'ndjson' as const,
      content: Buffer.from('{"id":1,"color":"red"}\n{"id":2,"color":"red",}\n{"id":3,"color":"red","score":NaN}\n{"id":4,"color":"red"}\n'),
      rows: [...okRows([1, 2]), { kind: 'NaN score', id: 3, codes: ['non_finite'] }, ...okRows([4])] as RowOracle[],
      malformed: 2,
      read: 'must' as const,
    },
  ];

  groups['an unterminated quote on the last row quarantines that row only'] = Array.from({ length: 4 }, (_, i) => {
    const ids = Array.from({ length: 10 + i }, (_, k) => k + 1);
    const text = `${HEADER}\n${ids.map((id) => row(id)).join('\n')}\n${row(99, '"never closed')}${i % 2 ? '\n' : ''}`;
    const rows: RowOracle[] = [...okRows(ids), { kind: 'unterminated-quote', codes: ['unterminated_quote', 'malformed_row'], match: 'any' }];
    return { name: `unterminated quote last #${i}`, format: 'csv', content: Buffer.from(text), rows, malformed: 1, read: 'must' };
  });

  groups['text after a closing quote quarantines that row only'] = Array.from({ length: 3 }, (_, i) => {
    const before = [1, 2, 3].slice(0, i + 1);
    const after = [10, 11, 12];
    const text = `${HEADER}\n${before.map((id) => row(id)).join('\n')}\n${row(50, '"closed"then text')}\n${after.map((id) => row(id)).join('\n')}\n`;
    const rows: RowOracle[] = [...okRows(before), { kind: 'quote-then-text', codes: ['unterminated_quote', 'malformed_row'], match: 'any' }, ...okRows(after)];
    return { name: `text after closing quote #${i}`, format: 'csv', content: Buffer.from(text), rows, malformed: 1, read: 'must' };
  });

  groups['an unterminated quote mid-file never crashes (and, when read, the rows before it are kept)'] = Array.from({ length: 3 }, (_, i) => {
    const before = [1, 2, 3, 4].slice(0, i + 2);
    const text = `${HEADER}\n${before.map((id) => row(id)).join('\n')}\n${row(50, '"opens here')}\n${row(60)}\n${row(61, '"closes"')}\n${row(62)}\n`;
    return {
      name: `unterminated quote mid-file #${i}`,
      format: 'csv',
      content: Buffer.from(text),
      malformed: 1,
      read: 'may',
      check: ({ acceptedIds }: Checked) => {
        const missing = before.filter((id) => !acceptedIds.includes(id));
        return missing.length > 0 ? [`rows before the broken quote not accepted: ids ${missing.join(', ')}`] : [];
      },
    };
  });

  groups['huge fields (≥ 100 KB) are read, validated and kept whole'] = [
    { kind: 'note', codes: null, value: 'x'.repeat(1_000_000) },
    { kind: 'unicode note', codes: null, value: '日本🐧'.repeat(30_000) },
    { kind: 'code', codes: ['pattern_mismatch' as const], value: `AB-${'7'.repeat(150_000)}` },
    { kind: 'category', codes: ['unknown_category' as const], value: 'r'.repeat(120_000) },
    { kind: 'quoted note with newlines', codes: null, value: 'a,b\n"c"\r\n'.repeat(20_000) },
  ].map((h, i) => {
    const fields = { id: '2', score: '1', qty: '1', active: 'true', day: '2020-01-01', color: 'red', code: 'AB-123', note: 'n' } as Record<Column, string>;
    const column: Column = h.kind.includes('note') ? 'note' : h.kind === 'code' ? 'code' : 'color';
    fields[column] = h.value;
    const text = `${HEADER}\n${row(1)}\n${FILE_COLUMNS.map((c) => quoteField(fields[c], ',')).join(',')}\n${row(3)}\n`;
    const rows: RowOracle[] = [...okRows([1]), { kind: `huge ${h.kind}`, id: 2, codes: h.codes }, ...okRows([3])];
    return {
      name: `huge ${h.kind} #${i}`,
      format: 'csv' as const,
      content: Buffer.from(text),
      rows,
      malformed: h.codes ? 1 : 0,
      read: 'must' as const,
    };
  });
  groups['huge fields (≥ 100 KB) are read, validated and kept whole'].push({
    name: 'huge ndjson line',
    format: 'ndjson',
    content: Buffer.from(`{"id":1,"color":"red","note":"${'z'.repeat(200_000)}"}\n{"id":2,"color":"red","code":"${'Q'.repeat(150_000)}"}\n`),
    rows: [{ kind: 'huge note', id: 1, codes: null }, { kind: 'huge code', id: 2, codes: ['pattern_mismatch'] }],
    malformed: 1,
    read: 'must',
  });

  groups['a header with invalid UTF-8 is still the header'] = badUtf8.slice(0, 4).map((bytes, i) => ({
    name: `bad utf-8 in header #${i}`,
    format: 'csv' as const,
    content: Buffer.concat([Buffer.from('id,sc'), Buffer.from(bytes), Buffer.from(`ore,qty,active,day,color,code,note\n${row(1)}\n${row(2)}\n${row(3)}\n`)]),
    malformed: 1,
    read: 'may' as const,
    check: ({ result }: Checked) => {
      const lost = result.missingColumns.filter((c) => c !== 'score' && c !== 'ratio');
      return [
        ...(result.rows !== 3 ? [`expected 3 rows, got ${result.rows}`] : []),
        ...(lost.length > 0 ? [`the header line was not used as the header: columns ${lost.join(', ')} not found`] : []),
      ];
    },
  }));

  groups['random bytes never crash'] = Array.from({ length: 24 }, (_, i) => {
    const bytes = Buffer.alloc(rng.int(1, 4000));
    for (let k = 0; k < bytes.length; k++) bytes[k] = rng.int(0, 255);
    const format = (['csv', 'tsv', 'ndjson', 'json', 'parquet', 'arrow'] as const)[i % 6];
    return { name: `random bytes as ${format} #${i}`, format, content: bytes, malformed: 1, read: 'may' as const };
  });

  groups['NDJSON keys that are not SQL-friendly'] = [
    { name: 'empty key', line: (id: number) => `{"id":${id},"color":"red","":1}` },
    { name: 'keys differing in case', line: (id: number) => `{"id":${id},"color":"red","Note":"a","note":"b"}` },
    { name: 'key with quotes and dots', line: (id: number) => `{"id":${id},"color":"red","a\\"b.c":1,"$x[0]":2}` },
    { name: 'key starting with __', line: (id: number) => `{"id":${id},"color":"red","__k":99}` },
  ].map((c) => ({
    name: `ndjson ${c.name}`,
    format: 'ndjson' as const,
    content: Buffer.from(`${c.line(1)}\n{"id":2,"color":"red"}\n${c.line(3)}\n`),
    rows: okRows([1, 2, 3]),
    malformed: 2,
    read: 'must' as const,
  }));

  groups['NDJSON lines with invalid UTF-8 are quarantined as bad_encoding'] = Array.from({ length: 6 }, (_, i) => {
    const lines: Buffer[] = [];
    const valid: number[] = [];
    let bad = 0;
    for (let id = 1; id <= 20; id++) {
      if (rng.chance(0.3)) {
        bad++;
        lines.push(Buffer.concat([Buffer.from(`{"id":${id},"color":"red","note":"a`), Buffer.from(rng.pick(badUtf8)), Buffer.from('"}')]));
      } else {
        valid.push(id);
        lines.push(Buffer.from(`{"id":${id},"color":"red"}`));
      }
    }
    const content = Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')]));
    return {
      name: `ndjson bad utf-8 #${i}`,
      format: 'ndjson' as const,
      content,
      malformed: bad,
      read: 'must' as const,
      check: ({ result, acceptedIds }: Checked) => {
        const problems: string[] = [];
        if (result.rows !== 20) problems.push(`expected 20 rows, got ${result.rows}`);
        if ((result.reasons.bad_encoding ?? 0) !== bad) problems.push(`expected ${bad} bad_encoding rows, got ${result.reasons.bad_encoding ?? 0}`);
        if (JSON.stringify([...acceptedIds].sort((a, b) => (a ?? 0) - (b ?? 0))) !== JSON.stringify(valid)) problems.push(`accepted ids ${acceptedIds.join(',')} ≠ ${valid.join(',')}`);
        return problems;
      },
    };
  });

  groups['unreadable typed files give a clear ValidationError'] = [
    { name: 'truncated JSON array', format: 'json' as const, text: '[{"id":1,"color":"red"},{"id":2,' },
    { name: 'JSON array cut after an element', format: 'json' as const, text: '[{"id":1,"color":"red"},' },
    { name: 'JSON with a syntax error', format: 'json' as const, text: '[{"id":1,"color":"red"} {"id":2}]' },
    { name: 'text as Parquet', format: 'parquet' as const, text: 'id,color\n1,red\n' },
    { name: 'Parquet magic only', format: 'parquet' as const, text: 'PAR1PAR1' },
    { name: 'text as Arrow', format: 'arrow' as const, text: 'id,color\n1,red\n' },
  ].map((c) => ({ name: c.name, format: c.format, content: Buffer.from(c.text), malformed: 1, read: 'refuse' as const }));

  groups['a file missing a required column quarantines every row'] = [0, 1].map((i) => {
    const ids = [1, 2, 3, 4 + i];
    const text = `id,score\n${ids.map((id) => `${id},5`).join('\n')}\n`;
    return {
      name: `missing required column #${i}`,
      format: 'csv' as const,
      content: Buffer.from(text),
      rows: ids.map((): RowOracle => ({ kind: 'no color column', codes: ['missing_required'] })),
      malformed: ids.length,
      read: 'must' as const,
    };
  });

  return groups;
}

// ---------------------------------------------------------------- the independent oracle

/**
 * The fate of every row of a generated file, derived in plain TypeScript from
 * what was written and the fuzz schema, without DuckDB: the set of reasons a
 * row must be quarantined with (empty: accepted) and its key. This is the
 * oracle the engine is checked against; the generator's intent (RowOracle.codes)
 * only cross-checks the oracle itself.
 */
interface Fate {
  codes: Set<QuarantineReasonCode>;
  /** The id of an accepted row. */
  id?: bigint;
}

const INT = /^[+-]?[0-9]+$/;
const FLOAT = /^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/;
const NON_FINITE = /^[+-]?(nan|inf|infinity)$/i;
const BOOL = new Set(['true', 'false', 't', 'f', '1', '0', 'yes', 'no', 'y', 'n']);
const BIGINT_MIN = -(2n ** 63n);
const BIGINT_MAX = 2n ** 63n - 1n;

/** Spaces around a value are not part of it; a blank value is missing. */
const clean = (v: string | null): string | null => {
  if (v === null) return null;
  const t = v.replace(/^ +| +$/g, '');
  return t === '' ? null : t;
};

function parseInt64(v: string): bigint | undefined {
  if (!INT.test(v)) return undefined;
  const n = BigInt(v.replace(/^\+/, ''));
  return n < BIGINT_MIN || n > BIGINT_MAX ? undefined : n;
}

/** A float's value, or undefined when the text is not a number ('1_000', hex and commas are not). */
function parseFloat64(v: string): number | undefined {
  if (NON_FINITE.test(v)) return /nan/i.test(v) ? NaN : v.startsWith('-') ? -Infinity : Infinity;
  return FLOAT.test(v) ? Number(v) : undefined;
}

function isIsoDate(v: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

/** Value checks of one row of the fuzz schema, over its values as text (null: missing). */
function classifyValues(get: (c: Column) => string | null): { codes: Set<QuarantineReasonCode>; key?: bigint } {
  const codes = new Set<QuarantineReasonCode>();
  const id = clean(get('id'));
  let key: bigint | undefined;
  if (id === null) codes.add('missing_required');
  else if ((key = parseInt64(id)) === undefined) codes.add('wrong_type');
  for (const column of ['score', 'ratio'] as const) {
    const v = clean(get(column));
    if (v === null) continue;
    const x = parseFloat64(v);
    if (x === undefined) codes.add('wrong_type');
    else if (!Number.isFinite(x)) codes.add('non_finite');
    else if (column === 'score' && (x < 0 || x > 100)) codes.add('out_of_range');
  }
  const qty = clean(get('qty'));
  if (qty !== null) {
    const q = parseInt64(qty);
    if (q === undefined) codes.add('wrong_type');
    else if (q < 0n || q > 1000n) codes.add('out_of_range');
  }
  const active = clean(get('active'));
  if (active !== null && !BOOL.has(active.toLowerCase())) codes.add('wrong_type');
  const day = clean(get('day'));
  if (day !== null) {
    if (!isIsoDate(day)) codes.add('unparseable_date');
    else if (day < '2000-01-01' || day > '2030-12-31') codes.add('out_of_range');
  }
  const color = clean(get('color'));
  if (color === null) codes.add('missing_required');
  else if (!['red', 'green', 'blue'].includes(color)) codes.add('unknown_category');
  const code = clean(get('code'));
  if (code !== null && !/^[A-Z]{2}-[0-9]{3}$/.test(code)) codes.add('pattern_mismatch');
  return { codes, key };
}

/** Rows a reader cannot parse: not UTF-8, or another number of fields than the header. */
function classifyDelimited(fields: (string | Buffer)[]): { codes: Set<QuarantineReasonCode>; key?: bigint; parsed: boolean } {
  const utf8 = (b: Buffer) => Buffer.from(b.toString('utf8'), 'utf8').equals(b);
  if (fields.some((f) => Buffer.isBuffer(f) && !utf8(f))) return { codes: new Set(['bad_encoding']), parsed: false };
  if (fields.length !== COLUMNS.length) return { codes: new Set(['ragged_row']), parsed: false };
  const text = fields.map((f) => (Buffer.isBuffer(f) ? f.toString('utf8') : f));
  return { ...classifyValues((c) => text[COLUMNS.indexOf(c)]), parsed: true };
}

/** NDJSON: a line that is not one JSON object is malformed; values are read as text (numbers as written, objects as JSON). */
function classifyJsonLine(line: string): { codes: Set<QuarantineReasonCode>; key?: bigint; parsed: boolean } {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { codes: new Set(['malformed_row']), parsed: false };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { codes: new Set(['malformed_row']), parsed: false };
  const obj = value as Record<string, unknown>;
  const text = (c: Column): string | null => {
    const v = obj[c];
    if (v === undefined || v === null) return null;
    return typeof v === 'string' ? v : JSON.stringify(v);
  };
  return { ...classifyValues(text), parsed: true };
}

/** Every row's fate, in file order; duplicates of a key an earlier parsed row holds are quarantined too. */
function classify(rows: RowOracle[]): Fate[] | undefined {
  if (!rows.every((r) => r.fields !== undefined || r.line !== undefined)) return undefined;
  const seen = new Set<bigint>();
  return rows.map((r) => {
    const c = r.fields ? classifyDelimited(r.fields) : classifyJsonLine(r.line!);
    if (c.parsed && c.key !== undefined) {
      if (seen.has(c.key)) c.codes.add('duplicate_key');
      seen.add(c.key);
    }
    return { codes: c.codes, id: c.codes.size === 0 ? c.key : undefined };
  });
}

// ---------------------------------------------------------------- checks

const knownCodes = new Set<string>(quarantineReasonCodes);

/** A ValidationError a user can act on: one line, no stack, no SQL from the engine's own queries. */
function unclearError(error: unknown): string | null {
  if (!(error instanceof ValidationError)) {
    return `not a ValidationError: ${(error as Error)?.constructor?.name} ${String((error as Error)?.message ?? error).split('\n')[0]}`;
  }
  if (error.message.includes('\n')) return `multi-line message: ${JSON.stringify(error.message.slice(0, 200))}`;
  if (/LINE \d+:|Parser Error|Binder Error|Catalog Error|INTERNAL Error|\bat \S+ \(\S+:\d+:\d+\)/.test(error.message)) {
    return `message leaks the engine's SQL: ${error.message.slice(0, 200)}`;
  }
  return null;
}

interface Finding {
  property: string;
  caseName: string;
  problem: string;
}

/** Runs one case and reads back what it wrote. */
async function runCase(c: FuzzCase, dir: string, index: number, verify: DuckDBConnection): Promise<Outcome> {
  const ext = c.format === 'arrow' ? 'arrow' : c.format;
  const path = join(dir, `case-${index}.${ext}`);
  writeFileSync(path, c.content);
  const workDir = join(dir, `job-${index}`);
  try {
    const result = await processFile({ path, format: c.format }, { dataset: 'fuzz', schema, workDir });
    const quarantine = result.quarantineFile
      ? (
          await verify.runAndReadAll(
            `SELECT "row", line, list_transform(reasons, r -> coalesce(r.code, '<null>')) AS codes, list_transform(reasons, r -> coalesce(r.message, '')) AS messages
             FROM read_parquet('${result.quarantineFile}') ORDER BY "row"`,
          )
        )
          .getRowObjectsJson()
          .map((r) => ({
            row: Number(r.row),
            line: r.line === null ? null : Number(r.line),
            codes: r.codes as string[],
            messages: r.messages as string[],
          }))
      : [];
    const acceptedIds = (await verify.runAndReadAll(`SELECT id FROM read_parquet('${result.acceptedFile}')`))
      .getRowObjectsJson()
      .map((r) => (r.id === null ? null : Number(r.id)));
    return { ok: true, checked: { result, quarantine, acceptedIds } };
  } catch (error) {
    return { ok: false, error };
  } finally {
    rmSync(path, { force: true });
    rmSync(workDir, { recursive: true, force: true });
  }
}

/** Every property, for one case. */
function examine(c: FuzzCase, outcome: Outcome): Finding[] {
  const findings: Finding[] = [];
  const add = (property: string, problem: string) => findings.push({ property, caseName: c.name, problem });
  if (!outcome.ok) {
    const unclear = unclearError(outcome.error);
    if (unclear) add('no crash', unclear);
    else if (c.read === 'must') add('readable input is read', `refused whole: ${(outcome.error as Error).message.slice(0, 240)}`);
    return findings;
  }
  if (c.read === 'refuse') add('unreadable input is refused', `read as ${outcome.checked.result.rows} rows instead of a ValidationError`);
  const { result, quarantine, acceptedIds } = outcome.checked;

  // accounting
  if (result.accepted + result.quarantined !== result.rows) add('accounting', `accepted ${result.accepted} + quarantined ${result.quarantined} ≠ rows ${result.rows}`);
  if (acceptedIds.length !== result.accepted) add('accounting', `accepted file holds ${acceptedIds.length} rows, result says ${result.accepted}`);
  if (quarantine.length !== result.quarantined) add('accounting', `quarantine file holds ${quarantine.length} rows, result says ${result.quarantined}`);
  if ((result.quarantineFile === null) !== (result.quarantined === 0)) add('accounting', `quarantineFile ${result.quarantineFile} with ${result.quarantined} quarantined`);
  if (result.report.rows !== result.rows || result.report.accepted !== result.accepted || result.report.quarantined !== result.quarantined) {
    add('accounting', `report counts ${result.report.rows}/${result.report.accepted}/${result.report.quarantined} differ from the result`);
  }

  // reasons
  for (const q of quarantine) {
    if (q.codes.length === 0) add('known reasons', `row ${q.row} quarantined without a reason`);
    for (const code of q.codes) if (!knownCodes.has(code)) add('known reasons', `row ${q.row}: unknown reason code ${JSON.stringify(code)}`);
    if (q.messages.some((m) => m.length === 0)) add('known reasons', `row ${q.row}: a reason without a message`);
  }

  // row numbers
  const seen = new Set<number>();
  for (const q of quarantine) {
    if (!Number.isInteger(q.row) || q.row < 1 || q.row > result.rows) add('row numbers', `row ${q.row} outside 1..${result.rows}`);
    if (seen.has(q.row)) add('row numbers', `row ${q.row} quarantined twice`);
    seen.add(q.row);
  }

  // the oracle: every row's fate. Generated rows are classified independently (classify); file-level cases state theirs.
  if (c.rows) {
    if (result.rows !== c.rows.length) add('exact rows', `read ${result.rows} rows, the file has ${c.rows.length}`);
    const byRow = new Map(quarantine.map((q) => [q.row, q]));
    const fates = classify(c.rows);
    c.rows.forEach((intent, i) => {
      const got = byRow.get(i + 1);
      const gotCodes = [...new Set(got?.codes ?? [])].sort();
      const what = `row ${i + 1} (${intent.kind})`;
      if (fates) {
        const expected = [...fates[i].codes].sort();
        // The oracle must agree with what the generator meant: a disagreement is a bug in the test.
        if ((intent.codes === null) !== (expected.length === 0) || (intent.codes ?? []).some((code) => !fates[i].codes.has(code))) {
          add('oracle agrees with the generator', `${what}: generated as ${intent.codes?.join('+') ?? 'valid'}, classified ${expected.join('+') || 'valid'}`);
        }
        if (expected.length === 0 && got) add('exact rows', `${what} is valid but was quarantined: ${gotCodes.join(', ')} (${got.messages.join('; ').slice(0, 160)})`);
        else if (expected.length > 0 && !got) add('exact rows', `${what} should be quarantined with ${expected.join(' and ')} but was accepted`);
        else if (got && gotCodes.join() !== expected.join()) add('exact rows', `${what}: expected exactly ${expected.join(', ')}, got ${gotCodes.join(', ')} (${got.messages.join('; ').slice(0, 160)})`);
        return;
      }
      if (intent.codes === null) {
        if (got) add('exact rows', `${what} is valid but was quarantined: ${got.codes.join(', ')} (${got.messages.join('; ').slice(0, 160)})`);
        return;
      }
      if (!got) {
        add('exact rows', `${what} should be quarantined with ${intent.codes.join('|')} but was not`);
        return;
      }
      const ok = intent.match === 'any' ? intent.codes.some((code) => got.codes.includes(code)) : intent.codes.every((code) => got.codes.includes(code));
      if (!ok) add('exact rows', `${what}: expected ${intent.codes.join(intent.match === 'any' ? ' or ' : ' and ')}, got ${got.codes.join(', ')}`);
    });
    const validIds = fates ? fates.filter((f) => f.codes.size === 0).map((f) => Number(f.id)) : c.rows.filter((r) => r.codes === null).map((r) => r.id);
    const sortedAccepted = [...acceptedIds].sort((a, b) => (a ?? -1) - (b ?? -1));
    if (JSON.stringify(sortedAccepted) !== JSON.stringify([...validIds].sort((a, b) => (a ?? -1) - (b ?? -1)))) {
      add('exact rows', `accepted ids [${sortedAccepted.slice(0, 20).join(',')}…] ≠ the valid rows' [${validIds.slice(0, 20).join(',')}…]`);
    } else if (JSON.stringify(acceptedIds) !== JSON.stringify(validIds)) {
      add('source order', `accepted rows out of file order: ids ${acceptedIds.slice(0, 12).join(',')}… (file order ${validIds.slice(0, 12).join(',')}…)`);
    }
  }
  for (const problem of c.check?.(outcome.checked) ?? []) add('case expectation', problem);
  return findings;
}

/** Groups findings into a readable failure: count per property, a few examples each, the seed. */
function report(findings: Finding[]): string {
  if (findings.length === 0) return '';
  const byProperty = new Map<string, Finding[]>();
  for (const f of findings) byProperty.set(f.property, [...(byProperty.get(f.property) ?? []), f]);
  const lines = [`seed ${SEED} (MLP_FUZZ_SEED)`];
  for (const [property, list] of byProperty) {
    const cases = new Set(list.map((f) => f.caseName));
    lines.push(`${property}: ${list.length} problem(s) in ${cases.size} case(s), e.g.`);
    // One example per kind of problem first (numbers and quoted values blurred), then more up to the limit.
    const kinds = new Map<string, Finding>();
    for (const f of list) {
      const kind = f.problem.replace(/\d+/g, 'N').replace(/"[^"]*"/g, '"…"').slice(0, 90);
      if (!kinds.has(kind)) kinds.set(kind, f);
    }
    const examples = [...new Set([...kinds.values(), ...list])].slice(0, Math.max(EXAMPLES, Math.min(kinds.size, 3 * EXAMPLES)));
    for (const f of examples) lines.push(`  [${f.caseName}] ${f.problem}`);
  }
  return lines.join('\n');
}

// ---------------------------------------------------------------- the suite

describe('processFile under fuzzed input', () => {
  jest.setTimeout(900_000);
  let dir: string;
  let verifyDb: DuckDBInstance;
  let verify: DuckDBConnection;
  const generated = generatedCases(SEED);
  const groups = fileCases(SEED);
  const outcomes = new Map<FuzzCase, Outcome>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlp-fuzz-'));
    verifyDb = await DuckDBInstance.create(':memory:', { threads: '1' });
    verify = await verifyDb.connect();
    const all = [...generated, ...Object.values(groups).flat()];
    // Two at a time: each processFile has its own DuckDB; two cores.
    let next = 0;
    const worker = async () => {
      while (next < all.length) {
        const i = next++;
        outcomes.set(all[i], await runCase(all[i], dir, i, verify));
      }
    };
    await Promise.all([worker(), worker()]);
  });

  afterAll(() => {
    verify?.closeSync();
    verifyDb?.closeSync();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('generates at least 10,000 malformed inputs from the seed, the same ones every run', () => {
    const total = [...generated, ...Object.values(groups).flat()].reduce((n, c) => n + c.malformed, 0);
    expect(total).toBeGreaterThanOrEqual(10_000);
    const again = generatedCases(SEED);
    expect(again.map((c) => c.content.length)).toEqual(generated.map((c) => c.content.length));
    expect(Buffer.compare(again[7].content, generated[7].content)).toBe(0);
    // Every kind of malformation the generator knows is present.
    const kinds = new Set(generated.flatMap((c) => c.rows ?? []).map((r) => r.kind.replace(/-\d+(-fields)?$|-(note|code|color)$/, '')));
    for (const kind of ['valid', 'bad-id', 'bad-score', 'bad-qty', 'bad-active', 'bad-day', 'bad-color', 'bad-code', 'duplicate-key', 'ragged', 'ragged-plus', 'bad-utf8', 'huge', 'invalid-json', 'not-an-object', 'missing']) {
      expect([...kinds].some((k) => k.startsWith(kind))).toBe(true);
    }
  });

  const properties: [string, string][] = [
    ['never crashes: every outcome is a result or a clear ValidationError', 'no crash'],
    ['reads every readable generated file', 'readable input is read'],
    ['accepted + quarantined = rows, and the output files hold exactly those rows', 'accounting'],
    ['every quarantined row has at least one reason with a known code and a message', 'known reasons'],
    ['quarantine row numbers are unique and within 1..rows', 'row numbers'],
    ['the independent classification agrees with what the generator meant for each row', 'oracle agrees with the generator'],
    ['each row\'s fate matches the independent classification: accepted, or quarantined with exactly its reasons', 'exact rows'],
    ['writes the accepted rows in file order (a deterministic artifact)', 'source order'],
  ];
  describe(`${CSV_FILES} generated CSV/TSV and ${NDJSON_FILES} NDJSON files`, () => {
    it.each(properties)('%s', (_title, property) => {
      const findings = generated.flatMap((c) => examine(c, outcomes.get(c)!)).filter((f) => f.property === property);
      expect(report(findings)).toBe('');
    });
  });

  describe('file-level cases', () => {
    // Row order has its own test above; here each case pins the behaviour its group names.
    it.each(Object.keys(groups))('%s', (group) => {
      const findings = groups[group].flatMap((c) => examine(c, outcomes.get(c)!)).filter((f) => f.property !== 'source order');
      expect(report(findings)).toBe('');
    });
  });
});
