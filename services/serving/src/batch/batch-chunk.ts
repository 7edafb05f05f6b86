import { ValidationError, type FieldIssue } from '@mlp/contracts';
import { doubleQuoted } from '@mlp/data';
import type { Category, Cell, Frame } from '@mlp/ml';
import type { LoadedVersion } from '../models/loaded-version';
import type { InputChunk, InputColumn } from './batch-input';

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

/** One chunk's results as CSV text (header included); `rejects` is null when every row was valid. */
export interface ChunkResult {
  part: string;
  rejects: string | null;
  predicted: number;
  rejected: number;
}

/**
 * Checks each row of a chunk against the version's signature (the same
 * compiled checks as online requests), predicts the valid rows with the
 * saved pipeline and model in one batch, and renders both CSV parts. A row
 * with any bad field goes to the rejects part with every reason, never into
 * the prediction batch, and is never dropped.
 */
export function predictChunk(loaded: LoadedVersion, chunk: InputChunk, layout: OutputLayout): ChunkResult {
  const schema = loaded.inputSchema;
  const inputs = schema.inputs;
  const n = chunk.n;
  const columns: Cell[][] = inputs.map(() => new Array<Cell>(n));
  const valid: number[] = [];
  const rejected: { row: number; issues: FieldIssue[] }[] = [];
  for (let r = 0; r < n; r++) {
    let issues: FieldIssue[] | undefined;
    for (let j = 0; j < inputs.length; j++) {
      const checked = schema.check(inputs[j], chunk.inputs[j][r]);
      if (typeof checked === 'string') (issues ??= []).push({ path: inputs[j].name, message: checked });
      else columns[j][valid.length] = checked.value;
    }
    if (issues) rejected.push({ row: r, issues });
    else valid.push(r);
  }
  let part = csvHeader(layout.output);
  if (valid.length > 0) {
    const frame: Frame = {};
    inputs.forEach((input, j) => {
      columns[j].length = valid.length;
      frame[input.name] = columns[j];
    });
    const { x, n: m } = loaded.preprocess(frame);
    const outputs = loaded.decode(loaded.predictor.predict(x, m), m);
    const passthrough = chunk.passthrough;
    for (let i = 0; i < valid.length; i++) {
      const r = valid[i];
      let line = String(chunk.firstRow + r);
      for (let j = 0; j < passthrough.length; j++) line += ',' + csvText(passthrough[j][r]);
      line += ',' + csvValue(outputs.predictions[i]);
      const p = outputs.probabilities?.[i];
      if (p) for (let k = 0; k < p.length; k++) line += ',' + p[k];
      part += line + '\n';
    }
  }
  let rejects: string | null = null;
  if (rejected.length > 0) {
    rejects = csvHeader(layout.rejects);
    for (const { row, issues } of rejected) {
      const cells: string[] = [String(chunk.firstRow + row)];
      for (const column of chunk.passthrough) cells.push(csvText(column[row]));
      const input: Record<string, unknown> = {};
      inputs.forEach((spec, j) => (input[spec.name] = chunk.inputs[j][row] ?? null));
      cells.push(csvText(JSON.stringify(input)), csvText(JSON.stringify(issues)));
      rejects += cells.join(',') + '\n';
    }
  }
  return { part, rejects, predicted: valid.length, rejected: rejected.length };
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
