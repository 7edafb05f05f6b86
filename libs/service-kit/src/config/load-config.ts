import type { z } from 'zod';
import { ValidationError, type FieldIssue } from '@mlp/contracts';

const secretName = /SECRET|PASSWORD|TOKEN|(^|_)KEY$/i;

/**
 * Validates the environment with `schema`. Empty variables count as unset. On
 * failure throws one ValidationError (code INVALID_CONFIG) naming every bad
 * variable and what it held, e.g. `MLP_REGISTRY_PORT: expected a port number, got "abc"`.
 */
export function loadConfig<S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined> = process.env,
): z.output<S> {
  const input = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const result = schema.safeParse(input);
  if (result.success) return result.data;

  const issues: FieldIssue[] = result.error.issues.map((issue) => {
    const name = issue.path.map(String).join('.');
    if (/\bgot\b/.test(issue.message)) return { path: name, message: issue.message };
    const value = issue.path.length > 0 ? input[String(issue.path[0])] : undefined;
    const got = value === undefined ? 'nothing' : secretName.test(name) ? '(redacted)' : JSON.stringify(value);
    return { path: name, message: `${issue.message}, got ${got}` };
  });
  const lines = issues.map((i) => `  ${i.path || '(environment)'}: ${i.message}`).join('\n');
  throw new ValidationError(`invalid configuration:\n${lines}`, issues, { code: 'INVALID_CONFIG' });
}
