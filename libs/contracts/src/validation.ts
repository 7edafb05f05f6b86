import type { z } from 'zod';
import { FieldIssue, InfrastructureError, ValidationError } from './errors';

/** zod issues → field-level details. */
export function toFieldIssues(error: z.ZodError): FieldIssue[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
}

/** Parses `input` with `schema`, throwing a ValidationError naming every bad field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = toFieldIssues(result.error);
  const summary = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
  throw new ValidationError(`invalid ${what}: ${summary}`, issues);
}

/**
 * Re-validates data read back from storage (a spec inside an event, a JSON
 * artifact) with its schema before it is used. Data that no longer matches
 * (written by an older or broken version, or edited by hand) is an
 * InfrastructureError with code STORED_DATA_INVALID naming every bad field,
 * never a value cast and used as if it were valid.
 */
export function parseStored<S extends z.ZodType>(schema: S, input: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = toFieldIssues(result.error);
  const summary = issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
  throw new InfrastructureError(`stored ${what} is invalid: ${summary}`, { code: 'STORED_DATA_INVALID', details: issues });
}
