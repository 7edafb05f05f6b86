import type { z } from 'zod';

/** One version of one event type, with the zod schema of its `data`. */
export interface EventDefinition<T extends string = string, S extends z.ZodType = z.ZodType> {
  readonly type: T;
  readonly schemaVersion: number;
  readonly schema: S;
}

export function defineEvent<T extends string, S extends z.ZodType>(
  type: T,
  schemaVersion: number,
  schema: S,
): EventDefinition<T, S> {
  return { type, schemaVersion, schema };
}
