import { ValidationError, type FieldIssue, type ModelSignature } from '@mlp/contracts';
import type { Cell, Frame } from '@mlp/ml';

/** How one input is checked: its JSON kind, whether null/NaN may stand for a missing value, its categories and bounds. */
export type InputKind = 'number' | 'integer' | 'boolean' | 'string' | 'category' | 'temporal' | 'any';

export interface CompiledInput {
  name: string;
  kind: InputKind;
  nullable: boolean;
  /** Allowed categories; undefined when any value of the kind goes. */
  values?: ReadonlySet<string | number | boolean>;
  /** The declared type, as shown in messages and metadata. */
  type: string;
  /** Declared bounds of a numeric value (inclusive). */
  min?: number;
  max?: number;
}

const MAX_ISSUES = 100;

export function inputKind(type: string): InputKind {
  switch (type.toLowerCase()) {
    case 'float':
    case 'double':
    case 'number':
    case 'numeric':
      return 'number';
    case 'int':
    case 'integer':
      return 'integer';
    case 'bool':
    case 'boolean':
      return 'boolean';
    case 'string':
    case 'text':
      return 'string';
    case 'category':
    case 'categorical':
      return 'category';
    case 'date':
    case 'datetime':
    case 'timestamp':
      return 'temporal';
    default:
      return 'any';
  }
}

const KIND_TEXT: Record<InputKind, string> = {
  number: 'a number',
  integer: 'an integer',
  boolean: 'true or false',
  string: 'a string',
  category: 'a string, number or boolean',
  temporal: 'a date string (ISO 8601) or epoch milliseconds',
  any: 'a string, number, boolean or null',
};

/**
 * Checks rows against a version's signature and builds the frame the saved
 * pipeline reads. Compiled once per loaded version: each row costs a loop
 * over the inputs with `typeof` checks and a set lookup, no schema library
 * on the hot path. Every bad field of every row is reported (up to 100),
 * with its path (`instances[2].age`), in one 400.
 */
export class InputSchema {
  readonly inputs: readonly CompiledInput[];
  private readonly byName: Map<string, CompiledInput>;

  constructor(signature: Pick<ModelSignature, 'inputs'>) {
    this.inputs = signature.inputs.map((i) => ({
      name: i.name,
      type: i.type,
      kind: inputKind(i.type),
      nullable: i.nullable,
      ...(i.values && i.values.length > 0 ? { values: new Set(i.values) } : {}),
      ...(typeof i.min === 'number' ? { min: i.min } : {}),
      ...(typeof i.max === 'number' ? { max: i.max } : {}),
    }));
    this.byName = new Map(this.inputs.map((i) => [i.name, i]));
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  /**
   * Named rows → frame. `extra(name)` says whether a field that is not an
   * input is still acceptable (an entity key for the online lookup).
   */
  frameFromRows(rows: readonly Record<string, unknown>[], path: string, extra?: (name: string) => boolean): Frame {
    const issues: FieldIssue[] = [];
    const n = rows.length;
    const columns: Cell[][] = this.inputs.map(() => new Array<Cell>(n));
    for (let r = 0; r < n; r++) {
      const row = rows[r];
      if (row === null || typeof row !== 'object' || Array.isArray(row)) {
        push(issues, { path: `${path}[${r}]`, message: 'must be an object of named features' });
        continue;
      }
      for (let j = 0; j < this.inputs.length; j++) {
        const input = this.inputs[j];
        const value = (row as Record<string, unknown>)[input.name];
        if (value === undefined) {
          push(issues, { path: `${path}[${r}].${input.name}`, message: `missing feature '${input.name}' (${input.type})${input.nullable ? '; send null for a missing value' : ''}` });
          continue;
        }
        const checked = this.check(input, value);
        if (typeof checked === 'string') push(issues, { path: `${path}[${r}].${input.name}`, message: checked });
        else columns[j][r] = checked.value;
      }
      for (const key in row) {
        if (!this.byName.has(key) && !extra?.(key)) push(issues, { path: `${path}[${r}].${key}`, message: `unknown feature '${key}'; the model takes ${this.names()}` });
      }
    }
    if (issues.length) throw invalidInput(issues);
    const frame: Frame = {};
    this.inputs.forEach((input, j) => (frame[input.name] = columns[j]));
    return frame;
  }

  /** Columns (one tensor per feature) → frame; every column must have `n` values. */
  frameFromColumns(columns: ReadonlyMap<string, readonly unknown[]>, n: number, path: (name: string) => string): Frame {
    const issues: FieldIssue[] = [];
    const frame: Frame = {};
    for (const input of this.inputs) {
      const values = columns.get(input.name);
      if (values === undefined) {
        push(issues, { path: path(input.name), message: `missing input '${input.name}' (${input.type})` });
        continue;
      }
      const out = new Array<Cell>(n);
      for (let r = 0; r < n; r++) {
        const checked = this.check(input, values[r]);
        if (typeof checked === 'string') push(issues, { path: `${path(input.name)}[${r}]`, message: checked });
        else out[r] = checked.value;
      }
      frame[input.name] = out;
    }
    for (const name of columns.keys()) {
      if (!this.byName.has(name)) push(issues, { path: path(name), message: `unknown input '${name}'; the model takes ${this.names()}` });
    }
    if (issues.length) throw invalidInput(issues);
    return frame;
  }

  /** A checked cell, or the message saying what is wrong with it. */
  check(input: CompiledInput, value: unknown): { value: Cell } | string {
    if (value === null || (typeof value === 'number' && Number.isNaN(value))) {
      if (input.nullable) return { value: null };
      return value === null ? `'${input.name}' may not be null` : `'${input.name}' may not be NaN`;
    }
    switch (input.kind) {
      case 'number':
      case 'integer':
        if (typeof value !== 'number') return `'${input.name}' must be ${KIND_TEXT[input.kind]}, received ${describe(value)}`;
        if (!Number.isFinite(value)) return `'${input.name}' must be finite, received ${value}`;
        if (input.kind === 'integer' && !Number.isInteger(value)) return `'${input.name}' must be an integer, received ${value}`;
        break;
      case 'boolean':
        if (typeof value !== 'boolean') return `'${input.name}' must be true or false, received ${describe(value)}`;
        break;
      case 'string':
        if (typeof value !== 'string') return `'${input.name}' must be a string, received ${describe(value)}`;
        break;
      case 'temporal':
        if (typeof value === 'string' ? value.length === 0 : typeof value !== 'number' || !Number.isFinite(value)) {
          return `'${input.name}' must be ${KIND_TEXT.temporal}, received ${describe(value)}`;
        }
        break;
      case 'category':
      case 'any':
        if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') return `'${input.name}' must be ${KIND_TEXT[input.kind]}, received ${describe(value)}`;
        if (typeof value === 'number' && !Number.isFinite(value)) return `'${input.name}' must be finite, received ${value}`;
        break;
    }
    if (typeof value === 'number') {
      if (input.min !== undefined && value < input.min) return `'${input.name}' must be at least ${input.min}, received ${value}`;
      if (input.max !== undefined && value > input.max) return `'${input.name}' must be at most ${input.max}, received ${value}`;
    }
    const cell = value as Cell;
    if (input.values && !input.values.has(cell as string | number | boolean)) {
      return `'${input.name}' must be one of ${[...input.values].map((v) => JSON.stringify(v)).join(', ')}; received ${JSON.stringify(value)}`;
    }
    return { value: cell };
  }

  private names(): string {
    return this.inputs.map((i) => i.name).join(', ');
  }
}

function push(issues: FieldIssue[], issue: FieldIssue): void {
  if (issues.length < MAX_ISSUES) issues.push(issue);
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${JSON.stringify(value)}`;
}

export function invalidInput(issues: FieldIssue[]): ValidationError {
  const first = issues[0];
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : '';
  return new ValidationError(`invalid input: ${first.path}: ${first.message}${more}`, issues, { code: 'INVALID_INPUT' });
}
