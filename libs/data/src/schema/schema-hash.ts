import { createHash } from 'node:crypto';
import { DatasetSchema } from './dataset-schema';

/**
 * sha256 (hex) of the schema's canonical JSON: object keys sorted, undefined
 * fields dropped, array order kept. Equal schemas hash equal whatever the key
 * order they were written in.
 */
export function schemaHash(schema: DatasetSchema): string {
  return createHash('sha256').update(canonicalJson(schema)).digest('hex');
}

/** JSON with sorted object keys and no undefined fields. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const field = (value as Record<string, unknown>)[key];
    if (field !== undefined) out[key] = sortKeys(field);
  }
  return out;
}
