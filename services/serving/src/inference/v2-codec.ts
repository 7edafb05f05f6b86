import type { FieldIssue } from '@mlp/contracts';
import type { Cell, Frame } from '@mlp/ml';
import { invalidInput, type CompiledInput, type InputSchema } from './input-schema';
import type { LoadedVersion, RowOutputs } from '../models/loaded-version';

/** Tensor datatypes of the Open Inference Protocol (KServe V2). */
export const v2Datatypes = ['BOOL', 'UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64', 'FP16', 'FP32', 'FP64', 'BYTES'] as const;
export type V2Datatype = (typeof v2Datatypes)[number];
const DATATYPES = new Set<string>(v2Datatypes);
const INTEGER = new Set(['UINT8', 'UINT16', 'UINT32', 'UINT64', 'INT8', 'INT16', 'INT32', 'INT64']);
const FLOAT = new Set(['FP16', 'FP32', 'FP64']);

/** One input tensor after transport decoding (JSON or gRPC): flat row-major values. */
export interface DecodedTensor {
  name: string;
  shape: number[];
  datatype: string;
  data: ArrayLike<unknown>;
}

export interface V2TensorMetadata {
  name: string;
  datatype: V2Datatype;
  shape: number[];
}

export interface V2OutputTensor {
  name: string;
  datatype: V2Datatype;
  shape: number[];
  data: (number | string | boolean)[];
}

/** The datatype a signature input travels as. */
export function datatypeOf(input: Pick<CompiledInput, 'kind' | 'values'>): V2Datatype {
  switch (input.kind) {
    case 'number':
      return 'FP64';
    case 'integer':
      return 'INT64';
    case 'boolean':
      return 'BOOL';
    case 'category':
      return input.values && [...input.values].every((v) => typeof v === 'number') ? 'INT64' : 'BYTES';
    default:
      return 'BYTES';
  }
}

/** Input tensors of a version's metadata: one per feature, shape [-1] (a batch of scalars). */
export function inputMetadata(schema: InputSchema): V2TensorMetadata[] {
  return schema.inputs.map((i) => ({ name: i.name, datatype: datatypeOf(i), shape: [-1] }));
}

/** Output tensors, from the signature: the prediction ([-1]) and, for classifiers, the probabilities ([-1, K]). */
export function outputMetadata(v: LoadedVersion): V2TensorMetadata[] {
  const label = v.signature.label ?? 'prediction';
  if (v.task === 'regression') return [{ name: label, datatype: 'FP32', shape: [-1] }];
  return [
    { name: label, datatype: classDatatype(v), shape: [-1] },
    { name: 'probabilities', datatype: 'FP32', shape: [-1, v.task === 'binary' ? 1 : v.classes.length] },
  ];
}

function classDatatype(v: LoadedVersion): V2Datatype {
  if (v.classes.every((c) => typeof c === 'boolean')) return 'BOOL';
  if (v.classes.every((c) => typeof c === 'number' && Number.isInteger(c))) return 'INT64';
  if (v.classes.every((c) => typeof c === 'number')) return 'FP64';
  return 'BYTES';
}

/**
 * V2 input tensors → the frame the pipeline reads. Two layouts:
 * one tensor per feature (named like the signature's inputs, shape [N] or
 * [N, 1]), or a single [N, F] tensor holding the F inputs in signature order
 * (any name). Shapes, datatypes and every value are checked; each problem is
 * reported with its path (`inputs[1].data[3]`).
 */
export function frameFromTensors(schema: InputSchema, tensors: readonly DecodedTensor[]): { frame: Frame; n: number } {
  const issues: FieldIssue[] = [];
  if (!Array.isArray(tensors) || tensors.length === 0) throw invalidInput([{ path: 'inputs', message: 'at least one input tensor is needed' }]);
  tensors.forEach((t, i) => checkTensor(t, i, issues));
  if (issues.length) throw invalidInput(issues);

  const f = schema.inputs.length;
  const single = tensors.length === 1 && !schema.has(tensors[0].name) && tensors[0].shape.length === 2;
  if (single) {
    const t = tensors[0];
    const [n, width] = t.shape;
    if (width !== f) {
      throw invalidInput([{ path: 'inputs[0].shape', message: `an [N, F] tensor needs F = ${f} columns (${schema.inputs.map((x) => x.name).join(', ')}), received [${t.shape.join(', ')}]` }]);
    }
    const frame: Frame = {};
    schema.inputs.forEach((input, j) => {
      const col = new Array<Cell>(n);
      for (let r = 0; r < n; r++) {
        const raw = coerce(t.datatype, input, t.data[r * f + j]);
        const checked = schema.check(input, raw);
        if (typeof checked === 'string') issues.push({ path: `inputs[0].data[${r}][${j}]`, message: checked });
        else col[r] = checked.value;
      }
      frame[input.name] = col;
    });
    if (issues.length) throw invalidInput(issues.slice(0, 100));
    return { frame, n };
  }

  const n = tensors[0].shape[0];
  const columns = new Map<string, unknown[]>();
  const index = new Map<string, number>();
  tensors.forEach((t, i) => {
    index.set(t.name, i);
    if (t.shape.length > 2 || (t.shape.length === 2 && t.shape[1] !== 1)) {
      issues.push({ path: `inputs[${i}].shape`, message: `input '${t.name}' must have shape [N] or [N, 1] (one value per row), received [${t.shape.join(', ')}]` });
      return;
    }
    if (t.shape[0] !== n) {
      issues.push({ path: `inputs[${i}].shape`, message: `every input needs the same batch size: '${tensors[0].name}' has ${n} rows, '${t.name}' has ${t.shape[0]}` });
      return;
    }
    if (columns.has(t.name)) {
      issues.push({ path: `inputs[${i}].name`, message: `input '${t.name}' is given twice` });
      return;
    }
    const input = schema.inputs.find((x) => x.name === t.name);
    const values = new Array<unknown>(t.data.length);
    for (let r = 0; r < t.data.length; r++) values[r] = input ? coerce(t.datatype, input, t.data[r]) : t.data[r];
    columns.set(t.name, values);
  });
  if (issues.length) throw invalidInput(issues);
  const frame = schema.frameFromColumns(columns, n, (name) => (index.has(name) ? `inputs[${index.get(name)}]` : `inputs.${name}`));
  return { frame, n };
}

/** A BYTES value standing for a number or a boolean (an [N, F] tensor of mixed features travels as BYTES) is read as one. */
function coerce(datatype: string, input: CompiledInput, value: unknown): unknown {
  if (datatype === 'BYTES' && typeof value === 'string' && (input.kind === 'number' || input.kind === 'integer') && value.trim() !== '') {
    const num = Number(value);
    return Number.isNaN(num) && value.trim() !== 'NaN' ? value : num;
  }
  if (datatype === 'BYTES' && input.kind === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}

function checkTensor(t: DecodedTensor, i: number, issues: FieldIssue[]): void {
  const at = `inputs[${i}]`;
  if (t === null || typeof t !== 'object') {
    issues.push({ path: at, message: 'must be a tensor {name, shape, datatype, data}' });
    return;
  }
  if (typeof t.name !== 'string' || t.name.length === 0) issues.push({ path: `${at}.name`, message: 'a non-empty string is needed' });
  if (!DATATYPES.has(t.datatype)) issues.push({ path: `${at}.datatype`, message: `must be one of ${v2Datatypes.join(', ')}; received ${JSON.stringify(t.datatype)}` });
  if (!Array.isArray(t.shape) || t.shape.length === 0 || !t.shape.every((d) => Number.isInteger(d) && d >= 0)) {
    issues.push({ path: `${at}.shape`, message: 'must be a non-empty array of non-negative integers' });
    return;
  }
  const size = t.shape.reduce((a, b) => a * b, 1);
  if (!t.data || typeof t.data.length !== 'number') {
    issues.push({ path: `${at}.data`, message: 'must be an array of values (row-major)' });
    return;
  }
  if (t.data.length !== size) {
    issues.push({ path: `${at}.data`, message: `shape [${t.shape.join(', ')}] holds ${size} values, received ${t.data.length}` });
    return;
  }
  if (!DATATYPES.has(t.datatype)) return;
  for (let k = 0; k < t.data.length; k++) {
    const message = valueIssue(t.datatype, t.data[k]);
    if (message) {
      issues.push({ path: `${at}.data[${k}]`, message });
      if (issues.length >= 100) return;
    }
  }
}

/** Whether a value fits its tensor's datatype (null stands for a missing value in JSON). */
function valueIssue(datatype: string, v: unknown): string | undefined {
  if (v === null) return undefined;
  if (datatype === 'BOOL') return typeof v === 'boolean' ? undefined : `a BOOL tensor holds true/false, received ${JSON.stringify(v)}`;
  if (datatype === 'BYTES') return typeof v === 'string' ? undefined : `a BYTES tensor holds strings, received ${JSON.stringify(v)}`;
  if (typeof v !== 'number') return `a ${datatype} tensor holds numbers, received ${JSON.stringify(v)}`;
  if (INTEGER.has(datatype)) {
    if (!Number.isInteger(v)) return `a ${datatype} tensor holds integers, received ${v}`;
    if (datatype.startsWith('U') && v < 0) return `a ${datatype} tensor holds non-negative integers, received ${v}`;
  }
  if (!FLOAT.has(datatype) && !INTEGER.has(datatype)) return `unsupported datatype ${datatype}`;
  return undefined;
}

/** Flattens nested JSON data (`[[1, 2], [3, 4]]`) row-major; flat data is returned as it is. */
export function flattenData(data: unknown): unknown[] | undefined {
  if (!Array.isArray(data)) return undefined;
  if (!data.some(Array.isArray)) return data;
  const out: unknown[] = [];
  const walk = (v: unknown) => {
    if (Array.isArray(v)) for (const x of v) walk(x);
    else out.push(v);
  };
  walk(data);
  return out;
}

/** Model outputs → V2 output tensors (all, or those `requested`). */
export function outputTensors(v: LoadedVersion, out: RowOutputs, n: number, requested?: readonly string[]): V2OutputTensor[] {
  const meta = outputMetadata(v);
  const all: V2OutputTensor[] = [];
  all.push({ name: meta[0].name, datatype: meta[0].datatype, shape: [n], data: out.predictions as (number | string | boolean)[] });
  if (out.probabilities && meta[1]) {
    const k = meta[1].shape[1];
    const data = new Array<number>(n * k);
    for (let i = 0; i < n; i++) {
      const p = out.probabilities[i];
      if (k === 1) data[i] = p[1];
      else for (let j = 0; j < k; j++) data[i * k + j] = p[j];
    }
    all.push({ name: 'probabilities', datatype: 'FP32', shape: [n, k], data });
  }
  if (!requested || requested.length === 0) return all;
  const unknown = requested.filter((r) => !all.some((t) => t.name === r));
  if (unknown.length) {
    throw invalidInput(unknown.map((u) => ({ path: 'outputs', message: `unknown output '${u}'; the model has ${all.map((t) => t.name).join(', ')}` })));
  }
  return all.filter((t) => requested.includes(t.name));
}
