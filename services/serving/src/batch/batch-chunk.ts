import { ValidationError, type FieldIssue } from '@mlp/contracts';
import { doubleQuoted } from '@mlp/data';
import type { Category, Frame } from '@mlp/ml';
import { checkColumn, type InputColumnValues } from '../inference/input-columns';
import type { LoadedVersion } from '../models/loaded-version';
import type { InputChunk, InputColumn, PassthroughColumn } from './batch-input';
import { encodeRowGroup, parquetWritable, type FileColumn, type PartColumn } from './parquet-parts';

/** The columns of a job's output and rejects files, with the DuckDB types the assembled files get. */
export interface OutputLayout {
  output: { name: string; type: string }[];
  rejects: { name: string; type: string }[];
}

const SCALAR = /^(BOOLEAN|TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|REAL|DECIMAL.*|VARCHAR|DATE|TIME|TIMESTAMP.*|UUID)$/;

/** Output columns: `_row` (0-based input row), the passthrough columns, `prediction`, and `probability_<class>` per class. */
export function outputLayout(loaded: Pick<LoadedVersion, 'task' | 'classes'>, columns: readonly InputColumn[], passthrough: readonly string[]): OutputLayout {
  const typeOf = new Map(columns.map((c) => [c.name, SCALAR.test(c.type) ? c.type : 'VARCHAR']));
  const kept = passthrough.map((name) => ({ name, type: typeOf.get(name) ?? 'VARCHAR' }));
  const classes = loaded.classes;
  const predictionType =
    loaded.task === 'regression' || classes.every((c) => typeof c === 'number') ? 'DOUBLE' : classes.every((c) => typeof c === 'boolean') ? 'BOOLEAN' : 'VARCHAR';
  const predicted = [
    { name: 'prediction', type: predictionType },
    ...(loaded.task === 'regression' ? [] : classes.map((c) => ({ name: `probability_${String(c)}`, type: 'DOUBLE' }))),
  ];
  const taken = new Set(['_row', ...predicted.map((p) => p.name), 'input', 'reasons']);
  const clashes: FieldIssue[] = passthrough.filter((p) => taken.has(p)).map((p) => ({ path: `input.columns.${p}`, message: `'${p}' is also an output column of batch inference; rename it` }));
  if (clashes.length) throw new ValidationError(`input column names clash with the output columns`, clashes, { code: 'INPUT_COLUMNS_CLASH' });
  return {
    output: [{ name: '_row', type: 'BIGINT' }, ...kept, ...predicted],
    rejects: [{ name: '_row', type: 'BIGINT' }, ...kept, { name: 'input', type: 'VARCHAR' }, { name: 'reasons', type: 'VARCHAR' }],
  };
}

/** How a job writes its parts: Parquet row groups (assembled by concatenation) or CSV text (assembled by DuckDB). */
export type PartFormat = 'rowgroup' | 'csv';

/** Row-group parts need a Parquet output whose every column has a type the writer keeps (parquet-parts.ts); other jobs write CSV parts. */
export function partFormat(format: 'parquet' | 'csv', layout: OutputLayout): PartFormat {
  return format === 'parquet' && [...layout.output, ...layout.rejects].every((c) => parquetWritable(c.type)) ? 'rowgroup' : 'csv';
}

/** The columns of a row-group file: `_row` and the predictions are never null, the `kept` passthrough columns after `_row` may be. */
export function fileColumns(columns: OutputLayout['output'], kept: number): FileColumn[] {
  return columns.map((c, i) => ({ ...c, nullable: i >= 1 && i <= kept }));
}

/** One chunk's results: the part (a row group, or CSV text with its header) and the rejects part, null when every row was valid. */
export interface ChunkResult {
  part: Buffer | string;
  rejects: Buffer | string | null;
  predicted: number;
  rejected: number;
}

/** A chunk's predictions in the output's columns, by chunk row (rows left out of the prediction hold zeros). */
interface Predicted {
  /** Class index per row (classification) or the value (regression). */
  prediction: Float64Array;
  /** probability_<class> columns, in class order (none for regression). */
  probabilities: Float64Array[];
}

/**
 * Checks a chunk column by column against the version's signature (the
 * same checks and messages as online requests: checkColumn), runs the
 * saved pipeline on the valid rows into one matrix and the model once, and
 * writes both parts. A row with any bad field goes to the rejects part with
 * every reason, never into the prediction, and is never dropped.
 */
export function predictChunk(loaded: LoadedVersion, chunk: InputChunk, layout: OutputLayout, format: PartFormat): ChunkResult {
  const schema = loaded.inputSchema;
  const inputs = schema.inputs;
  const n = chunk.n;
  const frame: Frame = {};
  let issues: Map<number, FieldIssue[]> | undefined;
  inputs.forEach((input, j) => {
    const { column, bad } = checkColumn(schema, input, chunk.inputs[j], n);
    frame[input.name] = column;
    for (const { row, message } of bad) {
      issues ??= new Map();
      const list = issues.get(row);
      if (list) list.push({ path: input.name, message });
      else issues.set(row, [{ path: input.name, message }]);
    }
  });
  // Rejected rows in input order; the valid ones are all rows, or the list of the others.
  const rejected = issues ? [...issues.keys()].sort((a, b) => a - b) : [];
  let valid: number[] | undefined;
  if (rejected.length > 0) {
    valid = [];
    for (let r = 0, k = 0; r < n; r++) {
      if (k < rejected.length && rejected[k] === r) k++;
      else valid.push(r);
    }
  }
  const m = valid ? valid.length : n;
  const predicted = m > 0 ? predictRows(loaded, frame, n, valid) : { prediction: new Float64Array(n), probabilities: loaded.task === 'regression' ? [] : loaded.classes.map(() => new Float64Array(n)) };
  const part = format === 'rowgroup' ? rowGroup(loaded, chunk, layout, predicted, valid) : csvPart(loaded, chunk, layout, predicted, valid);
  let rejects: Buffer | string | null = null;
  if (rejected.length > 0) {
    const inputJson = rejected.map((r) => {
      const input: Record<string, unknown> = {};
      inputs.forEach((spec, j) => (input[spec.name] = cellOf(chunk.inputs[j], r)));
      return JSON.stringify(input);
    });
    const reasons = rejected.map((r) => JSON.stringify(issues!.get(r)));
    rejects = format === 'rowgroup' ? rejectsRowGroup(chunk, layout, rejected, inputJson, reasons) : rejectsCsv(chunk, layout, rejected, inputJson, reasons);
  }
  return { part, rejects, predicted: m, rejected: rejected.length };
}

/** The input cell of a row as read (null where missing), for the rejects file's `input`. */
function cellOf(values: InputColumnValues, r: number): unknown {
  if (values.kind === 'numbers') return values.nulls[r] === 1 ? null : values.values[r];
  const code = values.codes[r];
  return code < 0 ? null : (values.dictionary[code] ?? null);
}

/**
 * The valid rows through the saved pipeline (transformToMatrix, as online)
 * and one predict; outputs decoded as LoadedVersion.decode does (binary:
 * class 1 when p >= 0.5, probabilities [1 - p, p]; multiclass: the first
 * largest), scattered back to chunk rows.
 */
function predictRows(loaded: LoadedVersion, frame: Frame, n: number, valid: number[] | undefined): Predicted {
  const { x, n: m } = loaded.pipeline.transformToMatrix(frame, valid);
  const out = loaded.predictor.predict(x, m);
  const prediction = new Float64Array(n);
  const at = (i: number) => (valid ? valid[i] : i);
  if (loaded.task === 'regression') {
    for (let i = 0; i < m; i++) prediction[at(i)] = out[i];
    return { prediction, probabilities: [] };
  }
  if (loaded.task === 'binary') {
    const no = new Float64Array(n);
    const yes = new Float64Array(n);
    for (let i = 0; i < m; i++) {
      const r = at(i);
      const p = out[i];
      prediction[r] = p >= 0.5 ? 1 : 0;
      no[r] = 1 - p;
      yes[r] = p;
    }
    return { prediction, probabilities: [no, yes] };
  }
  const k = loaded.predictor.outputSize;
  const probabilities = Array.from({ length: k }, () => new Float64Array(n));
  for (let i = 0; i < m; i++) {
    const r = at(i);
    let best = 0;
    for (let j = 0; j < k; j++) {
      const v = out[i * k + j];
      probabilities[j][r] = v;
      if (v > out[i * k + best]) best = j;
    }
    prediction[r] = best;
  }
  return { prediction, probabilities };
}

/** The output row group: `_row`, passthrough, prediction, probabilities, of the valid rows. */
function rowGroup(loaded: LoadedVersion, chunk: InputChunk, layout: OutputLayout, predicted: Predicted, valid: number[] | undefined): Buffer {
  const n = chunk.n;
  const rowIds = new Float64Array(n);
  for (let r = 0; r < n; r++) rowIds[r] = chunk.firstRow + r;
  const kept = chunk.passthrough.length;
  const predictionType = layout.output[1 + kept].type;
  const classes = loaded.classes;
  let prediction: PartColumn;
  if (loaded.task === 'regression') prediction = { name: 'prediction', type: 'DOUBLE', nullable: false, kind: 'double', values: predicted.prediction };
  else if (predictionType === 'VARCHAR') prediction = { name: 'prediction', type: 'VARCHAR', nullable: false, kind: 'text', codes: Int32Array.from(predicted.prediction), dictionary: classes.map(String) };
  else if (predictionType === 'BOOLEAN') prediction = { name: 'prediction', type: 'BOOLEAN', nullable: false, kind: 'bool', values: Uint8Array.from(predicted.prediction, (c) => (classes[c] === true ? 1 : 0)) };
  else prediction = { name: 'prediction', type: 'DOUBLE', nullable: false, kind: 'double', values: Float64Array.from(predicted.prediction, (c) => classes[c] as number) };
  const columns: PartColumn[] = [
    { name: '_row', type: 'BIGINT', nullable: false, kind: 'int64', values: rowIds },
    ...chunk.passthrough.map((c, j) => passthroughColumn(c, layout.output[1 + j])),
    prediction,
    ...predicted.probabilities.map((values, j): PartColumn => ({ name: layout.output[2 + kept + j].name, type: 'DOUBLE', nullable: false, kind: 'double', values })),
  ];
  return encodeRowGroup(columns, n, valid);
}

function passthroughColumn(c: PassthroughColumn, spec: { name: string; type: string }): PartColumn {
  return c.kind === 'text'
    ? { name: spec.name, type: 'VARCHAR', nullable: true, kind: 'text', codes: c.codes, dictionary: c.dictionary }
    : { name: spec.name, type: c.type, nullable: true, kind: 'fixed', width: c.width, bytes: c.bytes, nulls: c.nulls };
}

function rejectsRowGroup(chunk: InputChunk, layout: OutputLayout, rejected: number[], inputJson: string[], reasons: string[]): Buffer {
  const n = chunk.n;
  const rowIds = new Float64Array(n);
  for (let r = 0; r < n; r++) rowIds[r] = chunk.firstRow + r;
  // The JSON columns are indexed by chunk row like the others: code k is the k-th rejected row's text.
  const codes = new Int32Array(n).fill(-1);
  rejected.forEach((r, k) => (codes[r] = k));
  const columns: PartColumn[] = [
    { name: '_row', type: 'BIGINT', nullable: false, kind: 'int64', values: rowIds },
    ...chunk.passthrough.map((c, j) => passthroughColumn(c, layout.rejects[1 + j])),
    { name: 'input', type: 'VARCHAR', nullable: false, kind: 'text', codes, dictionary: inputJson },
    { name: 'reasons', type: 'VARCHAR', nullable: false, kind: 'text', codes, dictionary: reasons },
  ];
  return encodeRowGroup(columns, n, rejected);
}

/** A passthrough column's CSV field per row: quoted text (each distinct value quoted once), empty for null. */
function csvFields(c: PassthroughColumn): (r: number) => string {
  if (c.kind === 'fixed') throw new Error('CSV parts read passthrough columns as text');
  const quoted = c.dictionary.map((v) => csvText(v));
  return (r) => {
    const code = c.codes[r];
    return code < 0 ? '' : quoted[code];
  };
}

function csvPart(loaded: LoadedVersion, chunk: InputChunk, layout: OutputLayout, predicted: Predicted, valid: number[] | undefined): string {
  const fields = chunk.passthrough.map(csvFields);
  const classText = loaded.classes.map((c) => csvValue(c));
  const regression = loaded.task === 'regression';
  const m = valid ? valid.length : chunk.n;
  const lines = new Array<string>(m + 1);
  lines[0] = csvHeader(layout.output).slice(0, -1);
  for (let i = 0; i < m; i++) {
    const r = valid ? valid[i] : i;
    let line = String(chunk.firstRow + r);
    for (let j = 0; j < fields.length; j++) line += ',' + fields[j](r);
    line += ',' + (regression ? String(predicted.prediction[r]) : classText[predicted.prediction[r]]);
    for (let k = 0; k < predicted.probabilities.length; k++) line += ',' + predicted.probabilities[k][r];
    lines[i + 1] = line;
  }
  return lines.join('\n') + '\n';
}

function rejectsCsv(chunk: InputChunk, layout: OutputLayout, rejected: number[], inputJson: string[], reasons: string[]): string {
  const fields = chunk.passthrough.map(csvFields);
  const lines = rejected.map((r, k) => [String(chunk.firstRow + r), ...fields.map((f) => f(r)), csvText(inputJson[k]), csvText(reasons[k])].join(','));
  return csvHeader(layout.rejects) + lines.join('\n') + '\n';
}

/** The header line of a CSV part. */
export function csvHeader(columns: readonly { name: string }[]): string {
  return columns.map((c) => csvText(c.name)).join(',') + '\n';
}

/** A text cell: null is an empty field; every string is quoted (so "" stays an empty string). */
function csvText(value: string | null): string {
  if (value === null) return '';
  return doubleQuoted(value);
}

function csvValue(value: Category | number): string {
  return typeof value === 'string' ? csvText(value) : String(value);
}
