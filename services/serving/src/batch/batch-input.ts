import { ValidationError, type FieldIssue } from '@mlp/contracts';
import { ident, literal, type Duck } from '@mlp/duckdb';
import type { CompiledInput } from '../inference/input-schema';

/** A column of the input file as DuckDB describes it. */
export interface InputColumn {
  name: string;
  type: string;
}

/** How one column is read: the SQL that selects it and how its values become JSON-like cells. */
interface ColumnPlan {
  name: string;
  select: string;
  /** Text that stands for a number or boolean (CSV cells DuckDB typed as VARCHAR) is converted, as a JSON client would send it. */
  coerce?: 'number' | 'boolean';
}

/** One chunk of input rows, column by column: the model inputs as cells, the other columns as text for the output. */
export interface InputChunk {
  index: number;
  /** 0-based position of the chunk's first row in the input. */
  firstRow: number;
  n: number;
  inputs: unknown[][];
  passthrough: (string | null)[][];
}

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|UHUGEINT|FLOAT|DOUBLE|REAL|DECIMAL.*)$/;
const TEMPORAL = /^(DATE|TIMESTAMP.*)$/;

/** The DuckDB table function reading an input file. */
export function inputSource(path: string, format: 'parquet' | 'csv'): string {
  return format === 'parquet' ? `read_parquet(${literal(path)})` : `read_csv(${literal(path)}, header = true)`;
}

export async function describeInput(duck: Duck, source: string): Promise<{ columns: InputColumn[]; rows: number }> {
  const described = await duck.all<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM ${source}`);
  const { rows } = await duck.one<{ rows: number | string }>(`SELECT count(*) AS "rows" FROM ${source}`);
  return { columns: described.map((c) => ({ name: c.column_name, type: c.column_type })), rows: Number(rows) };
}

/** Every model input must be a column of the file: a 400 naming the missing ones (and what the file has). */
export function checkColumns(columns: readonly InputColumn[], inputs: readonly CompiledInput[]): void {
  const have = new Set(columns.map((c) => c.name));
  const issues: FieldIssue[] = inputs
    .filter((i) => !have.has(i.name))
    .map((i) => ({ path: `input.columns.${i.name}`, message: `the model input '${i.name}' (${i.type}) is not a column of the input; it has ${columns.map((c) => c.name).join(', ')}` }));
  if (issues.length) throw new ValidationError(`the input lacks ${issues.length} model input column(s)`, issues, { code: 'INPUT_COLUMNS_MISSING' });
}

function inputPlan(column: InputColumn, input: CompiledInput): ColumnPlan {
  const c = ident(column.name);
  if (NUMERIC.test(column.type)) return { name: column.name, select: `CAST(${c} AS DOUBLE)` };
  if (column.type === 'BOOLEAN') return { name: column.name, select: c };
  if (TEMPORAL.test(column.type) && input.kind === 'temporal') return { name: column.name, select: `CAST(epoch_ms(CAST(${c} AS TIMESTAMP)) AS DOUBLE)` };
  const coerce = input.kind === 'number' || input.kind === 'integer' ? 'number' : input.kind === 'boolean' ? 'boolean' : undefined;
  return { name: column.name, select: `CAST(${c} AS VARCHAR)`, ...(coerce ? { coerce } : {}) };
}

function coerceCell(value: unknown, to: 'number' | 'boolean' | undefined): unknown {
  if (to === undefined || typeof value !== 'string') return value;
  const text = value.trim();
  if (to === 'number') {
    if (text === '') return null;
    const n = Number(text);
    return Number.isNaN(n) && text !== 'NaN' ? value : n;
  }
  const lower = text.toLowerCase();
  return lower === 'true' ? true : lower === 'false' ? false : value;
}

/**
 * The input's rows in chunks of `chunkRows`, from chunk `fromChunk` on
 * (earlier rows are skipped without being converted). DuckDB streams its
 * result (about 2048 rows a fetch) and keeps the file's row order, so chunk
 * `k` holds the same rows on every read: a resumed job continues exactly
 * where its last checkpoint ended. At most one chunk is held as JS values.
 */
export async function* readChunks(
  duck: Duck,
  source: string,
  columns: readonly InputColumn[],
  inputs: readonly CompiledInput[],
  passthrough: readonly string[],
  chunkRows: number,
  fromChunk: number,
): AsyncIterable<InputChunk> {
  const byName = new Map(columns.map((c) => [c.name, c]));
  const plans = inputs.map((i) => inputPlan(byName.get(i.name)!, i));
  const selects = [...plans.map((p) => p.select), ...passthrough.map((p) => `CAST(${ident(p)} AS VARCHAR)`)];
  const width = inputs.length + passthrough.length;
  const skip = fromChunk * chunkRows;
  let seen = 0;
  let current: InputChunk | undefined;
  const fresh = (index: number): InputChunk => ({
    index,
    firstRow: index * chunkRows,
    n: 0,
    inputs: inputs.map(() => []),
    passthrough: passthrough.map(() => []),
  });
  for await (const part of duck.chunks(`SELECT ${selects.join(', ')} FROM ${source}`)) {
    const rows = part.rowCount;
    if (seen + rows <= skip) {
      seen += rows;
      continue;
    }
    const vectors = Array.from({ length: width }, (_, j) => part.getColumnVector(j));
    for (let i = seen < skip ? skip - seen : 0; i < rows; i++) {
      const position = seen + i;
      current ??= fresh(Math.floor(position / chunkRows));
      for (let j = 0; j < inputs.length; j++) current.inputs[j].push(coerceCell(vectors[j].getItem(i), plans[j].coerce));
      for (let j = 0; j < passthrough.length; j++) current.passthrough[j].push(vectors[inputs.length + j].getItem(i) as string | null);
      current.n++;
      if (current.n === chunkRows) {
        yield current;
        current = undefined;
      }
    }
    seen += rows;
  }
  if (current && current.n > 0) yield current;
}
