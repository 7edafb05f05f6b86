import { ValidationError, type FieldIssue } from '@mlp/contracts';
import { literal } from '@mlp/duckdb';
import type { Category, Frame } from '@mlp/ml';
import { checkColumn, type InputColumnValues } from '../inference/input-columns';
import type { LoadedVersion } from '../models/loaded-version';
import type { InputChunk, InputColumn, PassthroughColumn } from './batch-input';
import type { BatchStages } from './batch-stages';
import type { PartColumn, PartField } from './part-writer';

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

/**
 * The columns of a job's work table (part-writer.ts), by index: `_row`, the
 * passthrough columns (in their own type where read natively, else text),
 * `prediction`, the probabilities, then the rejects' `input` and `reasons`;
 * and which of them each part file holds, under its name and type.
 */
export interface PartPlan {
  types: string[];
  output: PartField[];
  rejects: PartField[];
}

export function partPlan(layout: OutputLayout, passthroughTypes: readonly string[], classes: readonly Category[]): PartPlan {
  const kept = passthroughTypes.length;
  const predicted = layout.output.slice(1 + kept);
  const labels = classes.map(String);
  // Text labels are an ENUM of the classes in the chunk (codes, no string a row); the files hold them as VARCHAR.
  const label = (type: string) => (type === 'VARCHAR' && labels.length > 0 && new Set(labels).size === labels.length ? `ENUM(${labels.map(literal).join(', ')})` : type);
  const types = ['BIGINT', ...passthroughTypes, ...predicted.map((p, i) => (i === 0 ? label(p.type) : p.type)), 'VARCHAR', 'VARCHAR'];
  const inputAt = 1 + kept + predicted.length;
  return {
    types,
    output: layout.output.map((c, i) => ({ name: c.name, type: c.type, column: i })),
    rejects: layout.rejects.map((c, i) => ({ name: c.name, type: c.type, column: i <= kept ? i : inputAt + (i - kept - 1) })),
  };
}

/** One chunk's results: its columns by chunk row (the work table's), the rejected flag per row, and the counts. */
export interface ChunkResult {
  columns: PartColumn[];
  n: number;
  rejectedRows: Uint8Array;
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
 * gives the work table's columns for both parts. A row with any bad field
 * is flagged for the rejects part with every reason, never predicted, and
 * never dropped.
 */
export function predictChunk(loaded: LoadedVersion, chunk: InputChunk, plan: PartPlan, stages?: BatchStages): ChunkResult {
  const t0 = performance.now();
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
  stages?.add('validate', performance.now() - t0);
  const predicted = m > 0 ? predictRows(loaded, frame, n, valid, stages) : { prediction: new Float64Array(n), probabilities: loaded.task === 'regression' ? [] : loaded.classes.map(() => new Float64Array(n)) };
  const t1 = performance.now();
  const rejectedRows = new Uint8Array(n);
  const codes = new Int32Array(n).fill(-1);
  const inputJson: string[] = [];
  const reasons: string[] = [];
  rejected.forEach((r, k) => {
    rejectedRows[r] = 1;
    codes[r] = k;
    const input: Record<string, unknown> = {};
    inputs.forEach((spec, j) => (input[spec.name] = cellOf(chunk.inputs[j], r)));
    inputJson.push(JSON.stringify(input));
    reasons.push(JSON.stringify(issues!.get(r)));
  });
  const columns: PartColumn[] = [
    ...outputColumns(loaded, chunk, plan, predicted),
    { type: 'VARCHAR', kind: 'text', codes, dictionary: inputJson },
    { type: 'VARCHAR', kind: 'text', codes, dictionary: reasons },
  ];
  stages?.add('output columns', performance.now() - t1);
  return { columns, n, rejectedRows, predicted: m, rejected: rejected.length };
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
function predictRows(loaded: LoadedVersion, frame: Frame, n: number, valid: number[] | undefined, stages?: BatchStages): Predicted {
  let t = performance.now();
  const { x, n: m } = loaded.pipeline.transformToMatrix(frame, valid);
  stages?.add('pipeline', performance.now() - t);
  t = performance.now();
  const out = loaded.predictor.predict(x, m);
  stages?.add('predict', performance.now() - t);
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

/** `_row`, passthrough, prediction, probabilities: every chunk row (the rejected ones are left out when the part is written). */
function outputColumns(loaded: LoadedVersion, chunk: InputChunk, plan: PartPlan, predicted: Predicted): PartColumn[] {
  const n = chunk.n;
  const rowIds = new Float64Array(n);
  for (let r = 0; r < n; r++) rowIds[r] = chunk.firstRow + r;
  const kept = chunk.passthrough.length;
  const predictionType = plan.output[1 + kept].type;
  const tableType = plan.types[1 + kept];
  const classes = loaded.classes;
  let prediction: PartColumn;
  if (loaded.task === 'regression') prediction = { type: 'DOUBLE', kind: 'double', values: predicted.prediction };
  else if (predictionType === 'VARCHAR') prediction = { type: tableType, kind: 'text', codes: Int32Array.from(predicted.prediction), dictionary: classes.map(String) };
  else if (predictionType === 'BOOLEAN') prediction = { type: 'BOOLEAN', kind: 'bool', values: Uint8Array.from(predicted.prediction, (c) => (classes[c] === true ? 1 : 0)) };
  else prediction = { type: 'DOUBLE', kind: 'double', values: Float64Array.from(predicted.prediction, (c) => classes[c] as number) };
  return [
    { type: 'BIGINT', kind: 'int64', values: rowIds },
    ...chunk.passthrough.map(passthroughColumn),
    prediction,
    ...predicted.probabilities.map((values): PartColumn => ({ type: 'DOUBLE', kind: 'double', values })),
  ];
}

function passthroughColumn(c: PassthroughColumn): PartColumn {
  return c.kind === 'text' ? { type: 'VARCHAR', kind: 'text', codes: c.codes, dictionary: c.dictionary } : { type: c.type, kind: 'fixed', width: c.width, bytes: c.bytes, nulls: c.nulls };
}
