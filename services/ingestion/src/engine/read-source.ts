import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import { once } from 'node:events';
import { RecordBatchReader } from 'apache-arrow';
import { ValidationError, InfrastructureError } from '@mlp/contracts';
import type { Duck } from '@mlp/duckdb';
import { ident, literal } from '@mlp/duckdb';
import { columnNames, csvColumns, normalizeLineEndings, rowNumbersOfLines } from './csv-layout';
import { join } from 'node:path';

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
 * - `relation`: the rows the reader can parse, in file order. With `lazy` a CSV
 *   is not staged: `relation` reads the file, and `read` parses it once, into
 *   the caller's table (a typed pass, no text copy). Otherwise it is the `src`
 *   table (text formats, as VARCHAR) or a Parquet scan;
 * - `rejects(row_index, line, raw, reasons)`: rows the reader could not parse
 *   (ragged, bad encoding, broken quoting, invalid JSON), with their 1-based
 *   position among all data rows (complete once `read` has run).
 *
 * A row's position among the parsed rows is `rowid + 1` of a table created
 * from `relation` (CREATE TABLE AS keeps insertion order).
 */
export interface StagedSource {
  columns: StagedColumn[];
  /** FROM-able SQL of the parsed rows, in file order. */
  relation: string;
  /** Text formats are read as VARCHAR and typed by the schema; typed formats keep their types. */
  text: boolean;
  /**
   * True when reading the rows again costs a full parse (a lazy CSV): the typed
   * pass then keeps the source values of the rows it quarantines. Every column is VARCHAR.
   */
  keepRaw: boolean;
  /** `CREATE TABLE <table> AS <select(relation)>`: the one pass over the input; collects a CSV's rejected rows. */
  read(table: string, select: (relation: string) => string): Promise<void>;
  /**
   * A relation of the source values of every parsed row, by column name, with
   * `"__mlp_k"` (position among parsed rows): for rows whose raw values the
   * typed pass did not keep. A lazy CSV is parsed again (as text) for it.
   */
  rawRows(): Promise<string>;
}

const REJECTS_DDL = `CREATE TABLE rejects (row_index BIGINT, line BIGINT, raw VARCHAR, reasons STRUCT(code VARCHAR, "column" VARCHAR, message VARCHAR)[])`;

/** DuckDB CSV reject types → quarantine reasons. */
const REJECT_CODE_SQL = `CASE
  WHEN error_type IN ('MISSING COLUMNS', 'TOO MANY COLUMNS') THEN 'ragged_row'
  WHEN error_type LIKE 'INVALID%' THEN 'bad_encoding'
  WHEN error_message ILIKE '%unterminated quote%' OR error_type = 'UNQUOTED VALUE' THEN 'unterminated_quote'
  ELSE 'malformed_row' END`;

export async function stageSource(duck: Duck, file: SourceFile, workDir: string, options: { lazy?: boolean } = {}): Promise<StagedSource> {
  await duck.run(REJECTS_DDL);
  const size = statSync(file.path).size;
  if (size === 0) {
    await duck.run('CREATE TABLE src (__empty VARCHAR)');
    return tableSource(duck, [], true);
  }
  try {
    switch (file.format) {
      case 'csv':
      case 'tsv':
        return await stageCsv(duck, file, workDir, options.lazy === true);
      case 'ndjson':
        return await stageNdjson(duck, file.path);
      case 'json':
        await assertCompleteJsonArray(file.path);
        return await stageTyped(duck, `read_json(${literal(file.path)}, format = 'array', records = true)`);
      case 'parquet': {
        // Parquet is read where it is needed (once, by the typed pass), and knows each row's position.
        const scan = `read_parquet(${literal(file.path)})`;
        await duck.run(`CREATE VIEW src AS SELECT * FROM ${scan}`);
        const columns = await describe(duck, 'src');
        return {
          columns,
          relation: scan,
          text: false,
          keepRaw: false,
          read: (table, select) => runReading(duck, file, `CREATE TABLE ${table} AS ${select(scan)}`),
          rawRows: async () => `(SELECT file_row_number + 1 AS "__mlp_k", * EXCLUDE (file_row_number) FROM read_parquet(${literal(file.path)}, file_row_number = true))`,
        };
      }
      case 'arrow':
        return await stageNdjson(duck, await arrowToNdjson(file.path, `${workDir}/arrow.ndjson`));
    }
  } catch (err) {
    throw readError(file, err);
  }
}

/** A reader failure as a ValidationError a user can act on (the engine's own errors pass through). */
function readError(file: SourceFile, err: unknown): Error {
  if (err instanceof ValidationError || err instanceof InfrastructureError) return err;
  const reason = (err as Error).message.split('\n')[0].split(file.path).join('<input>');
  return new ValidationError(`cannot read ${file.format} input: ${reason}`, [{ path: 'source', message: reason }]);
}

async function runReading(duck: Duck, file: SourceFile, sql: string): Promise<void> {
  try {
    await duck.run(sql);
  } catch (err) {
    throw readError(file, err);
  }
}

/** A source staged as the `src` table. */
function tableSource(duck: Duck, columns: StagedColumn[], text: boolean): StagedSource {
  return {
    columns,
    relation: 'src',
    text,
    keepRaw: false,
    read: (table, select) => duck.run(`CREATE TABLE ${table} AS ${select('src')}`),
    rawRows: async () => '(SELECT rowid + 1 AS "__mlp_k", * FROM src)',
  };
}

async function describe(duck: Duck, table: string): Promise<StagedColumn[]> {
  const rows = await duck.all<{ column_name: string; column_type: string }>(`DESCRIBE ${table}`);
  return rows.filter((r) => !r.column_name.startsWith('__') && r.column_name !== 'file_row_number').map((r) => ({ name: r.column_name, type: r.column_type }));
}

async function stageCsv(duck: Duck, file: SourceFile, workDir: string, lazy: boolean): Promise<StagedSource> {
  const o = file.csv ?? {};
  const header = o.header ?? true;
  const delimiter = o.delimiter ?? (file.format === 'tsv' ? '\t' : ',');
  const quote = o.quote ?? '"';
  // Columns come from our own read of the first line: no sniffing, so one damaged row cannot fail the file.
  const names = await csvColumns(file.path, { delimiter, quote, header });
  const options = (rejects: string) =>
    [
      'auto_detect = false',
      `columns = {${names.map((n) => `${literal(n)}: 'VARCHAR'`).join(', ')}}`,
      `header = ${header}`,
      `store_rejects = true, rejects_table = '${rejects}_rejects', rejects_scan = '${rejects}_scans'`,
      'strict_mode = true',
      'max_line_size = 10000000',
      'null_padding = false',
      `delim = ${literal(delimiter)}`,
      `quote = ${literal(quote)}`,
      `escape = ${literal(o.escape ?? quote)}`,
      ...(o.nullValues && o.nullValues.length > 0 ? [`nullstr = [${['', ...o.nullValues].map(literal).join(', ')}]`] : []),
    ].join(', ');
  const reader = (path: string, rejects = 'csv') => `read_csv(${literal(path)}, ${options(rejects)})`;
  const columns = names.map((name) => ({ name, type: 'VARCHAR' }));
  let path = file.path;

  const read = async (table: string, select: (relation: string) => string) => {
    try {
      await duck.run(`CREATE TABLE ${table} AS ${select(reader(path))}`);
    } catch (first) {
      // DuckDB's strict reader fails on mixed \n / \r\n line endings: read a copy with one kind.
      path = join(workDir, 'normalized.csv');
      await normalizeLineEndings(file.path, path);
      await duck.run('DROP TABLE IF EXISTS csv_rejects; DROP TABLE IF EXISTS csv_scans');
      try {
        await duck.run(`CREATE TABLE ${table} AS ${select(reader(path))}`);
      } catch (second) {
        throw readError(file, new Error((second as Error).message, { cause: first }));
      }
    }
    await collectCsvRejects(duck, path, table, { quote, header });
  };
  let raw: string | undefined;
  const rawRows = async () => {
    if (!raw) {
      await duck.run(`CREATE TABLE src_raw AS SELECT * FROM ${reader(path, 'raw')}`);
      raw = '(SELECT rowid + 1 AS "__mlp_k", * FROM src_raw)';
    }
    return raw;
  };
  if (lazy) return { columns, relation: reader(path), text: true, keepRaw: true, read, rawRows };
  await read('src', (relation) => `SELECT * FROM ${relation}`);
  return tableSource(duck, await describe(duck, 'src'), true);
}

/** The rows a CSV read rejected, into `rejects`, numbered by their position among all data rows. */
async function collectCsvRejects(duck: Duck, path: string, parsedTable: string, o: { quote: string; header: boolean }): Promise<void> {
  const rejected = await duck.all<{ line: string }>('SELECT DISTINCT line FROM csv_rejects');
  if (rejected.length === 0) return;
  const lines = rejected.map((r) => Number(r.line)).sort((a, b) => a - b);
  const rowOf = await rowNumbersOfLines(path, lines, o);
  // Keep row numbers strictly increasing and inside 1..rows even when the file is too damaged for the
  // line mapping to be exact: the j-th rejected row lies between row j and (parsed rows + j).
  const parsed = Number((await duck.one<{ n: string }>(`SELECT count(*) AS n FROM ${parsedTable}`)).n);
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
  return tableSource(duck, await describe(duck, 'src'), true);
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
  return tableSource(duck, await describe(duck, 'src'), false);
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
