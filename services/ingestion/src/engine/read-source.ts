import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import { once } from 'node:events';
import { RecordBatchReader } from 'apache-arrow';
import { ValidationError, InfrastructureError } from '@mlp/contracts';
import type { Duck } from '@mlp/duckdb';
import { ident, literal } from '@mlp/duckdb';
import { columnNames, csvColumns, normalizeLineEndings, rowNumbersOfLines } from './csv-layout';
import { join } from 'node:path';

/** Position of a row of a `src` table among the rows the reader parsed (1-based). */
const TABLE_ROW_KEY = 'rowid + 1';

export type InputFormat = 'csv' | 'tsv' | 'ndjson' | 'json' | 'parquet' | 'arrow';
export const inputFormats: readonly InputFormat[] = ['csv', 'tsv', 'ndjson', 'json', 'parquet', 'arrow'];

export interface CsvOptions {
  delimiter?: string;
  quote?: string;
  escape?: string;
  /** Default true. */
  header?: boolean;
  /** Strings read as missing besides the empty field. */
  nullValues?: string[];
}

export interface SourceFile {
  path: string;
  format: InputFormat;
  csv?: CsvOptions;
}

export interface StagedColumn {
  name: string;
  /** DuckDB type as read: VARCHAR for text formats. */
  type: string;
}

/**
 * What stageSource leaves in the job's DuckDB:
 * - `src`: the rows the reader could parse, in file order (CREATE TABLE AS keeps
 *   insertion order, so `rowid + 1` is a row's position among them: ROW_KEY);
 * - `rejects(row_index, line, raw, reasons)`: rows the reader could not parse
 *   (ragged, bad encoding, broken quoting, invalid JSON), with their 1-based
 *   position among all data rows.
 */
export interface StagedSource {
  columns: StagedColumn[];
  /** SQL over `src` of a row's 1-based position among the parsed rows. */
  rowKey: string;
  /** Text formats are read as VARCHAR and typed by the schema; typed formats keep their types. */
  text: boolean;
}

const REJECTS_DDL = `CREATE TABLE rejects (row_index BIGINT, line BIGINT, raw VARCHAR, reasons STRUCT(code VARCHAR, "column" VARCHAR, message VARCHAR)[])`;

/** DuckDB CSV reject types → quarantine reasons. */
const REJECT_CODE_SQL = `CASE
  WHEN error_type IN ('MISSING COLUMNS', 'TOO MANY COLUMNS') THEN 'ragged_row'
  WHEN error_type LIKE 'INVALID%' THEN 'bad_encoding'
  WHEN error_message ILIKE '%unterminated quote%' OR error_type = 'UNQUOTED VALUE' THEN 'unterminated_quote'
  ELSE 'malformed_row' END`;

export async function stageSource(duck: Duck, file: SourceFile, workDir: string): Promise<StagedSource> {
  await duck.run(REJECTS_DDL);
  const size = statSync(file.path).size;
  if (size === 0) {
    await duck.run('CREATE TABLE src (__empty VARCHAR)');
    return { columns: [], rowKey: TABLE_ROW_KEY, text: true };
  }
  try {
    switch (file.format) {
      case 'csv':
      case 'tsv':
        return await stageCsv(duck, file, workDir);
      case 'ndjson':
        return await stageNdjson(duck, file.path);
      case 'json':
        await assertCompleteJsonArray(file.path);
        return await stageTyped(duck, `read_json(${literal(file.path)}, format = 'array', records = true)`);
      case 'parquet':
        // A view: Parquet is read where it is needed, and knows each row's position.
        await duck.run(`CREATE VIEW src AS SELECT * FROM read_parquet(${literal(file.path)}, file_row_number = true)`);
        return { columns: await describe(duck, 'src'), rowKey: 'file_row_number + 1', text: false };
      case 'arrow':
        return await stageNdjson(duck, await arrowToNdjson(file.path, `${workDir}/arrow.ndjson`));
    }
  } catch (err) {
    if (err instanceof ValidationError || err instanceof InfrastructureError) throw err;
    const reason = (err as Error).message.split('\n')[0].split(file.path).join('<input>');
    throw new ValidationError(`cannot read ${file.format} input: ${reason}`, [{ path: 'source', message: reason }]);
  }
}

async function describe(duck: Duck, table: string): Promise<StagedColumn[]> {
  const rows = await duck.all<{ column_name: string; column_type: string }>(`DESCRIBE ${table}`);
  return rows.filter((r) => !r.column_name.startsWith('__') && r.column_name !== 'file_row_number').map((r) => ({ name: r.column_name, type: r.column_type }));
}

async function stageCsv(duck: Duck, file: SourceFile, workDir: string): Promise<StagedSource> {
  const o = file.csv ?? {};
  const header = o.header ?? true;
  const delimiter = o.delimiter ?? (file.format === 'tsv' ? '\t' : ',');
  const quote = o.quote ?? '"';
  // Columns come from our own read of the first line: no sniffing, so one damaged row cannot fail the file.
  const names = await csvColumns(file.path, { delimiter, quote, header });
  const options = [
      'auto_detect = false',
      `columns = {${names.map((n) => `${literal(n)}: 'VARCHAR'`).join(', ')}}`,
      `header = ${header}`,
      "store_rejects = true, rejects_table = 'csv_rejects', rejects_scan = 'csv_scans'",
      'strict_mode = true',
      'max_line_size = 10000000',
      'null_padding = false',
      `delim = ${literal(delimiter)}`,
      `quote = ${literal(quote)}`,
      `escape = ${literal(o.escape ?? quote)}`,
      ...(o.nullValues && o.nullValues.length > 0 ? [`nullstr = [${['', ...o.nullValues].map(literal).join(', ')}]`] : []),
  ].join(', ');
  let path = file.path;
  try {
    await duck.run(`CREATE TABLE src AS SELECT * FROM read_csv(${literal(path)}, ${options})`);
  } catch {
    // DuckDB's strict reader fails on mixed \n / \r\n line endings: read a copy with one kind.
    path = join(workDir, 'normalized.csv');
    await normalizeLineEndings(file.path, path);
    await duck.run('DROP TABLE IF EXISTS csv_rejects; DROP TABLE IF EXISTS csv_scans');
    await duck.run(`CREATE TABLE src AS SELECT * FROM read_csv(${literal(path)}, ${options})`);
  }
  const rejected = await duck.all<{ line: string }>('SELECT DISTINCT line FROM csv_rejects');
  if (rejected.length > 0) {
    const lines = rejected.map((r) => Number(r.line)).sort((a, b) => a - b);
    const rowOf = await rowNumbersOfLines(path, lines, { quote, header });
    // Keep row numbers strictly increasing and inside 1..rows even when the file is too damaged for the
    // line mapping to be exact: the j-th rejected row lies between row j and (parsed rows + j).
    const parsed = Number((await duck.one<{ n: string }>('SELECT count(*) AS n FROM src')).n);
    let previous = 0;
    const rows = lines.map((line, j) => {
      previous = Math.min(Math.max(rowOf.get(line) ?? 0, previous + 1), parsed + j + 1);
      return `(${line}, ${previous})`;
    });
    await duck.run('CREATE TABLE reject_rows (line BIGINT, row_index BIGINT)');
    await duck.run(`INSERT INTO reject_rows VALUES ${rows.join(', ')}`);
    await duck.run(`INSERT INTO rejects
      SELECT any_value(r.row_index), e.line, any_value(ltrim(e.csv_line, chr(13) || chr(10))),
        list({'code': ${REJECT_CODE_SQL}, 'column': e.column_name, 'message': e.error_message})
      FROM csv_rejects e JOIN reject_rows r ON r.line = e.line GROUP BY e.line`);
  }
  return { columns: await describe(duck, 'src'), rowKey: TABLE_ROW_KEY, text: true };
}

/** One JSON object per line; blank lines are not rows. Invalid lines are rejected with their line number. */
async function stageNdjson(duck: Duck, path: string): Promise<StagedSource> {
  await duck.run(`CREATE TABLE lines AS
    SELECT row_number() OVER () AS n, l FROM (
      SELECT l FROM read_csv(${literal(path)}, columns = {'l': 'VARCHAR'}, header = false, delim = '\x1f', quote = '', escape = '',
        auto_detect = false, strict_mode = false, max_line_size = 10000000, store_rejects = true,
        rejects_table = 'ndjson_rejects', rejects_scan = 'ndjson_scans')
      WHERE l IS NOT NULL AND trim(l, ' ' || chr(9) || chr(13)) <> '')`);
  await duck.run(`ALTER TABLE lines ADD COLUMN ok BOOLEAN`);
  await duck.run(`UPDATE lines SET ok = CASE WHEN json_valid(l) THEN json_type(l::JSON) = 'OBJECT' ELSE FALSE END`);
  const keys = await duck.all<{ k: string }>(
    // Columns in order of first appearance: by line, then by position inside the object.
    `SELECT k FROM (SELECT unnest(json_keys(l::JSON)) AS k, unnest(range(len(json_keys(l::JSON))::BIGINT)) AS i, n FROM lines WHERE ok)
     GROUP BY k ORDER BY min(n * 100000 + i)`,
  );
  const names = columnNames(keys.map(({ k }) => k));
  // JSON Pointer paths address any key, even '' or ones with dots and quotes.
  const pointer = (k: string) => `/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`;
  const select = keys.map(({ k }, i) => `json_extract_string(l, ${literal(pointer(k))}) AS ${ident(names[i])}`).join(', ');
  await duck.run(`CREATE TABLE src AS SELECT ${select || 'NULL::VARCHAR AS __empty'} FROM lines WHERE ok ORDER BY n`);
  await duck.run(`INSERT INTO rejects
    SELECT n, n, l, [{'code': 'malformed_row', 'column': NULL, 'message': 'not a JSON object'}] FROM lines WHERE NOT ok`);
  // Lines the line reader itself refused (invalid UTF-8, over-long): no row index among data rows, so they go last.
  await duck.run(`INSERT INTO rejects
    SELECT (SELECT count(*) FROM lines) + row_number() OVER (ORDER BY line), NULL, any_value(csv_line),
      list({'code': ${REJECT_CODE_SQL}, 'column': NULL, 'message': error_message})
    FROM ndjson_rejects GROUP BY line`);
  return { columns: await describe(duck, 'src'), rowKey: TABLE_ROW_KEY, text: true };
}

/** DuckDB reads a cut-off array as far as it goes; a truncated file must fail instead. */
async function assertCompleteJsonArray(path: string): Promise<void> {
  const { size } = statSync(path);
  const handle = await openFile(path, 'r');
  try {
    const tail = Buffer.alloc(Math.min(size, 256));
    await handle.read(tail, 0, tail.length, size - tail.length);
    if (!/\]\s*$/.test(tail.toString('latin1'))) {
      throw new ValidationError('the JSON array is incomplete: the file does not end with "]"', [{ path: 'source', message: 'truncated JSON array' }]);
    }
  } finally {
    await handle.close();
  }
}

/** Typed formats keep their types; the row key is the file order. */
async function stageTyped(duck: Duck, relation: string): Promise<StagedSource> {
  await duck.run(`CREATE TABLE src AS SELECT * FROM ${relation}`);
  return { columns: await describe(duck, 'src'), rowKey: TABLE_ROW_KEY, text: false };
}

/** Arrow IPC (file or stream) → NDJSON, batch by batch: memory stays at one batch. */
async function arrowToNdjson(path: string, out: string): Promise<string> {
  const reader = await RecordBatchReader.from(createReadStream(path));
  const sink = createWriteStream(out);
  for await (const batch of reader) {
    const fields = batch.schema.fields.map((f) => f.name);
    for (let i = 0; i < batch.numRows; i++) {
      const row = batch.get(i);
      const obj: Record<string, unknown> = {};
      for (const name of fields) obj[name] = toJsonValue(row?.[name]);
      if (!sink.write(`${JSON.stringify(obj)}\n`)) await once(sink, 'drain');
    }
  }
  sink.end();
  await once(sink, 'finish');
  return out;
}

function toJsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (value !== null && typeof value === 'object' && 'toJSON' in value) return (value as { toJSON(): unknown }).toJSON();
  return value ?? null;
}
