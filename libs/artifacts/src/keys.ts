import { ValidationError } from '@mlp/contracts';

/** Longest accepted key, in characters (S3 allows 1024 bytes including an adapter's prefix). */
export const MAX_KEY_LENGTH = 512;
/** Longest accepted segment: file names are capped at 255 bytes and the fs adapter adds a suffix. */
export const MAX_SEGMENT_LENGTH = 200;

const SEGMENT_CHARS = /^[A-Za-z0-9._=-]+$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** The key under which content with this sha256 is stored. */
export function contentKey(sha256Hex: string): string {
  if (!SHA256_HEX.test(sha256Hex)) throw new Error(`not a lowercase sha256 hex digest: ${sha256Hex}`);
  return `sha256/${sha256Hex}`;
}

/**
 * Checks an object key: a relative `a/b/c` path of `[A-Za-z0-9._=-]` segments.
 * Anything that could escape a root directory or confuse a backend is a
 * ValidationError naming the key and the reason. Returns the key.
 */
export function validateKey(key: unknown, field = 'key'): string {
  const reason = keyProblem(key, false);
  if (reason) throw invalid(field, key, reason);
  return key as string;
}

/**
 * Checks a list prefix: '' (everything), or complete segments optionally
 * followed by '/' or by the start of a segment (`sha256/ab`). Same rules as keys.
 */
export function validatePrefix(prefix: unknown, field = 'prefix'): string {
  const reason = keyProblem(prefix, true);
  if (reason) throw invalid(field, prefix, reason);
  return prefix as string;
}

function keyProblem(value: unknown, isPrefix: boolean): string | undefined {
  if (typeof value !== 'string') return 'must be a string';
  if (value === '') return isPrefix ? undefined : 'is empty';
  if (value.length > MAX_KEY_LENGTH) return `is longer than ${MAX_KEY_LENGTH} characters`;
  if (value.includes('\0')) return 'contains a NUL byte';
  if (value.includes('\\')) return 'contains a backslash';
  if (value.startsWith('/')) return 'is absolute (starts with "/")';
  // A prefix may end with '/' ("everything under this folder").
  const body = isPrefix && value.endsWith('/') ? value.slice(0, -1) : value;
  for (const segment of body.split('/')) {
    if (segment === '') return 'has an empty segment ("//" or a trailing "/")';
    if (segment === '.' || segment === '..') return `has a "${segment}" segment`;
    if (segment.length > MAX_SEGMENT_LENGTH) return `has a segment longer than ${MAX_SEGMENT_LENGTH} characters`;
    if (!SEGMENT_CHARS.test(segment)) return `segment ${JSON.stringify(segment)} has characters outside [A-Za-z0-9._=-]`;
  }
  return undefined;
}

function invalid(field: string, value: unknown, reason: string): ValidationError {
  const shown = typeof value === 'string' ? JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value) : String(value);
  const message = `invalid artifact ${field} ${shown}: ${reason}`;
  return new ValidationError(message, [{ path: field, message: `${shown} ${reason}` }]);
}
