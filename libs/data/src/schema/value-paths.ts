/** zod's generic message prefixes add nothing to a field-level message. */
export function stripPrefix(message: string): string {
  return message.replace(/^(Invalid input|Invalid option|Too big|Too small): /, '');
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Whether `path` exists in `input` (own keys only). */
export function hasPath(input: unknown, path: readonly (string | number)[]): boolean {
  let node: unknown = input;
  for (const key of path) {
    if (typeof node !== 'object' || node === null || !Object.prototype.hasOwnProperty.call(node, key)) return false;
    node = (node as Record<string | number, unknown>)[key];
  }
  return true;
}

/** The value at `path` in `input`, or undefined. */
export function valueAt(input: unknown, path: readonly (string | number)[]): unknown {
  return path.reduce<unknown>((node, key) => (typeof node === 'object' && node !== null ? (node as Record<string | number, unknown>)[key] : undefined), input);
}
