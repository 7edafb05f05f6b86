import { type FieldIssue, ValidationError, toFieldIssues } from '@mlp/contracts';
import { z } from 'zod';

/*
 * A search space, as written in a training config (the map under `space:`):
 *
 *   lr:      {loguniform: [1.0e-4, 1.0e-1]}     # float, log scale, lo > 0
 *   dropout: {uniform: [0, 0.5]}                # float, linear scale
 *   units:   {int: [16, 128], step: 16}         # integer in [lo, hi], inclusive, on lo + k·step
 *   batch:   {int: [32, 256], log: true}        # integer, log scale (lo >= 1, no step)
 *   layers:  {choice: [[32], [64, 32]]}         # any JSON values, at least one, no duplicates
 *
 * Parameters keep the order in which they are written: samplers draw them in that order.
 */

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface UniformDistribution {
  kind: 'uniform';
  low: number;
  high: number;
}

export interface LogUniformDistribution {
  kind: 'loguniform';
  low: number;
  high: number;
}

export interface IntDistribution {
  kind: 'int';
  low: number;
  /** Inclusive; `high − low` is a multiple of `step`. */
  high: number;
  step: number;
  log: boolean;
}

export interface ChoiceDistribution {
  kind: 'choice';
  choices: JsonValue[];
}

export type Distribution = UniformDistribution | LogUniformDistribution | IntDistribution | ChoiceDistribution;

/** Parameter name → distribution, in the written order. */
export type SearchSpace = Readonly<Record<string, Distribution>>;

/** One point of a search space: parameter name → value. */
export type Params = Record<string, JsonValue>;

export const distributionKinds = ['uniform', 'loguniform', 'int', 'choice'] as const;

const bounds = z.tuple([z.number(), z.number()], { error: 'must be [lo, hi], two finite numbers' });

const uniformSchema = z.strictObject({ uniform: bounds }).superRefine(({ uniform: [lo, hi] }, ctx) => {
  if (lo >= hi) ctx.addIssue({ code: 'custom', path: ['uniform'], message: `lo must be less than hi, received [${lo}, ${hi}]` });
});

const logUniformSchema = z.strictObject({ loguniform: bounds }).superRefine(({ loguniform: [lo, hi] }, ctx) => {
  if (lo <= 0) ctx.addIssue({ code: 'custom', path: ['loguniform'], message: `log-scale bounds must be positive, received lo = ${lo}` });
  else if (lo >= hi) ctx.addIssue({ code: 'custom', path: ['loguniform'], message: `lo must be less than hi, received [${lo}, ${hi}]` });
});

const intSchema = z
  .strictObject({
    int: z.tuple([z.int(), z.int()], { error: 'must be [lo, hi], two integers' }),
    step: z.int().positive('must be a positive integer').optional(),
    log: z.boolean().optional(),
  })
  .superRefine(({ int: [lo, hi], step, log }, ctx) => {
    if (lo >= hi) ctx.addIssue({ code: 'custom', path: ['int'], message: `lo must be less than hi, received [${lo}, ${hi}]` });
    else if (log && lo < 1) ctx.addIssue({ code: 'custom', path: ['int'], message: `log-scale bounds must be at least 1, received lo = ${lo}` });
    if (log && step !== undefined && step !== 1) ctx.addIssue({ code: 'custom', path: ['step'], message: 'cannot be combined with log: true' });
    else if (step !== undefined && lo < hi && (hi - lo) % step !== 0) {
      ctx.addIssue({ code: 'custom', path: ['step'], message: `hi − lo (${hi - lo}) must be a multiple of step ${step}` });
    }
  });

const choiceSchema = z
  .strictObject({ choice: z.array(z.json(), { error: 'must be a list of values' }).min(1, 'must list at least one value') })
  .superRefine(({ choice }, ctx) => {
    const seen = new Set<string>();
    choice.forEach((value, i) => {
      const key = canonicalKey(value as JsonValue);
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['choice', i], message: `duplicate value ${key}` });
      seen.add(key);
    });
  });

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Parses and validates one distribution; issues are relative to the parameter. */
function parseDistribution(input: unknown): { distribution?: Distribution; issues: FieldIssue[] } {
  if (!isRecord(input)) return { issues: [{ path: '', message: `must be an object with one of ${distributionKinds.join(', ')}` }] };
  const kinds = distributionKinds.filter((k) => k in input);
  if (kinds.length !== 1) {
    const message =
      kinds.length === 0 ? `must have one of ${distributionKinds.join(', ')}` : `has more than one distribution (${kinds.join(', ')}): keep one`;
    return { issues: [{ path: '', message }] };
  }
  const kind = kinds[0];
  const schema = { uniform: uniformSchema, loguniform: logUniformSchema, int: intSchema, choice: choiceSchema }[kind];
  const result = schema.safeParse(input);
  if (!result.success) return { issues: toFieldIssues(result.error) };
  const d = result.data as Record<string, unknown>;
  switch (kind) {
    case 'uniform':
    case 'loguniform': {
      const [low, high] = d[kind] as [number, number];
      return { distribution: { kind, low, high }, issues: [] };
    }
    case 'int': {
      const [low, high] = d['int'] as [number, number];
      return { distribution: { kind, low, high, step: (d['step'] as number | undefined) ?? 1, log: d['log'] === true }, issues: [] };
    }
    case 'choice':
      return { distribution: { kind, choices: d['choice'] as JsonValue[] }, issues: [] };
  }
}

/**
 * Validates a search space map (the value under `space:` of a config).
 * Throws a ValidationError whose issues name the parameter and the field,
 * e.g. `{path: 'lr.loguniform', message: 'log-scale bounds must be positive…'}`.
 */
export function parseSearchSpace(input: unknown): SearchSpace {
  if (!isRecord(input)) throw new ValidationError('invalid search space: must be a map of parameter name → distribution', [{ path: '', message: 'must be a map of parameter name → distribution' }]);
  const names = Object.keys(input);
  if (names.length === 0) throw new ValidationError('invalid search space: it has no parameters', [{ path: '', message: 'must define at least one parameter' }]);
  const space: Record<string, Distribution> = {};
  const issues: FieldIssue[] = [];
  for (const name of names) {
    if (name.trim() === '') issues.push({ path: name, message: 'parameter names must not be blank' });
    const parsed = parseDistribution(input[name]);
    issues.push(...parsed.issues.map((i) => ({ path: i.path ? `${name}.${i.path}` : name, message: i.message })));
    if (parsed.distribution) space[name] = parsed.distribution;
  }
  if (issues.length > 0) {
    throw new ValidationError(`invalid search space: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  }
  return space;
}

/** The config form of a space (what {@link parseSearchSpace} reads): `parseSearchSpace(serializeSearchSpace(s))` equals `s`. */
export function serializeSearchSpace(space: SearchSpace): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const [name, d] of Object.entries(space)) {
    switch (d.kind) {
      case 'uniform':
      case 'loguniform':
        out[name] = { [d.kind]: [d.low, d.high] };
        break;
      case 'int':
        out[name] = { int: [d.low, d.high], ...(d.step !== 1 ? { step: d.step } : {}), ...(d.log ? { log: true } : {}) };
        break;
      case 'choice':
        out[name] = { choice: d.choices };
        break;
      default: {
        const never: never = d;
        throw new Error(`unknown distribution ${JSON.stringify(never)}`);
      }
    }
  }
  return out;
}

/** A JSON text with object keys sorted: equal values ⇔ equal keys (used to match choices and grid points). */
export function canonicalKey(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(canonicalKey).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalKey(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Index of `value` among a choice's values, or −1. */
export function choiceIndex(d: ChoiceDistribution, value: JsonValue | undefined): number {
  if (value === undefined) return -1;
  const key = canonicalKey(value);
  return d.choices.findIndex((c) => canonicalKey(c) === key);
}

/** Whether `value` is a legal value of `d` (inside the bounds, on the int step grid, or one of the choices). */
export function isInDistribution(d: Distribution, value: JsonValue | undefined): boolean {
  if (d.kind === 'choice') return choiceIndex(d, value) >= 0;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < d.low || value > d.high) return false;
  return d.kind !== 'int' || (Number.isInteger(value) && (value - d.low) % d.step === 0);
}

/** Nearest value on an int distribution's grid `low + k·step`, inside [low, high]. */
export function roundToStep(d: IntDistribution, x: number): number {
  const k = Math.round((x - d.low) / d.step);
  return Math.min(d.high, Math.max(d.low, d.low + k * d.step));
}
