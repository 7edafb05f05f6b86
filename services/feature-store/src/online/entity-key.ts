import { ValidationError } from '@mlp/contracts';

/** Separates join-key components; never appears inside an encoded component. */
const SEPARATOR = '|';

/**
 * The text form of one join-key value. A value is identified by its text, so
 * the number 42 and the string '42' are the same entity: lookups arrive as
 * text (CLI `--entity id=42`, HTTP query strings) while materializations carry
 * typed columns.
 */
function componentText(name: string, value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw invalid(name, `join key '${name}' is ${String(value)}`);
      return String(value); // shortest round-trip form; -0 → '0'
    case 'bigint':
      return value.toString();
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
      throw invalid(name, `join key '${name}' is missing`);
    case 'object':
      if (value === null) throw invalid(name, `join key '${name}' is null`);
      if (value instanceof Date) {
        if (Number.isNaN(value.getTime())) throw invalid(name, `join key '${name}' is an invalid date`);
        return value.toISOString();
      }
      throw invalid(name, `join key '${name}' must be a string, number, boolean or date`);
    default:
      throw invalid(name, `join key '${name}' must be a string, number, boolean or date`);
  }
}

function invalid(name: string, message: string): ValidationError {
  return new ValidationError(message, [{ path: name, message }]);
}

/**
 * Stable, escaping-safe key of an entity: the values of `joinKeys` in their
 * declared order, each percent-encoded (encodeURIComponent: ASCII letters,
 * digits and `-_.!~*'()` stay as they are, everything else, `|` `%` `=` `/`
 * spaces and non-ASCII included, becomes `%XX` of its UTF-8 bytes), joined
 * by `|`. So ('a|b') and ('a', 'b') give `a%7Cb` and `a|b`; the key is plain
 * ASCII and every adapter stores it as is. Changing this function re-keys
 * every stored entity: treat it as a storage format.
 */
export function entityKey(joinKeys: readonly string[], values: Record<string, unknown>): string {
  if (!Array.isArray(joinKeys) || joinKeys.length === 0) {
    throw new ValidationError('an entity needs at least one join key', [{ path: 'joinKeys', message: 'must not be empty' }]);
  }
  if (values === null || typeof values !== 'object') {
    throw new ValidationError('join key values must be an object', [{ path: 'values', message: 'must be an object' }]);
  }
  const seen = new Set<string>();
  const parts: string[] = [];
  for (const name of joinKeys) {
    if (typeof name !== 'string' || name === '') throw invalid('joinKeys', 'join key names must be non-empty strings');
    if (seen.has(name)) throw invalid('joinKeys', `join key '${name}' is declared twice`);
    seen.add(name);
    const own = Object.prototype.hasOwnProperty.call(values, name) ? values[name] : undefined;
    const text = componentText(name, own);
    try {
      parts.push(encodeURIComponent(text));
    } catch (cause) {
      throw new ValidationError(`join key '${name}' is not well-formed text (lone surrogate)`, [{ path: name, message: 'lone surrogate' }], { cause });
    }
  }
  return parts.join(SEPARATOR);
}
