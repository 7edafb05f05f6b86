import { z } from 'zod';

const UNITS: Record<string, number> = { k: 1e3, m: 1e6, g: 1e9, t: 1e12, ki: 2 ** 10, mi: 2 ** 20, gi: 2 ** 30, ti: 2 ** 40 };
const MEMORY = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?)b?\s*$/i;
/** DuckDB needs a few tens of MB just to run a query. */
const MIN_DUCKDB_BYTES = 32e6;

/** `1GB`, `512MiB`, `1.5 GB`, `512M` → bytes (decimal units for KB/MB/GB/TB, binary for KiB/MiB/GiB/TiB); undefined when it is not a size. */
export function parseMemorySize(text: string): number | undefined {
  const m = MEMORY.exec(text);
  if (!m) return undefined;
  return Number(m[1]) * UNITS[m[2].toLowerCase()];
}

/** A DuckDB `memory_limit`: a size with a unit, at least 32MB. */
export const duckdbMemoryLimit = z.string().superRefine((text, ctx) => {
  const bytes = parseMemorySize(text);
  if (bytes === undefined) ctx.addIssue({ code: 'custom', message: 'expected a size with a unit, e.g. 1GB, 512MB or 2GiB' });
  else if (bytes < MIN_DUCKDB_BYTES) ctx.addIssue({ code: 'custom', message: 'expected at least 32MB (DuckDB cannot run queries with less)' });
});

/**
 * Settings that shared libraries read from the environment themselves
 * (`@mlp/duckdb`, `@mlp/eventstore`): part of every service's schema, so a
 * bad value stops the service at start-up rather than failing its first job.
 */
export const runtimeEnvShape = {
  /** Memory limit of every DuckDB session (ingestion, feature store, training frames); they spill to disk beyond it. Default 1GB. */
  MLP_DUCKDB_MEMORY_LIMIT: duckdbMemoryLimit.optional(),
  /** `1` or `true`: print each DuckDB statement's time to stderr. */
  MLP_DUCK_TRACE: z.enum(['1', 'true']).optional(),
  /** Recorded as `codeVersion` on every event instead of `<package version>+<git sha>`. */
  MLP_CODE_VERSION: z.string().regex(/^[\w.+-]{1,64}$/, 'expected up to 64 letters, digits, ".", "+", "-" or "_"').optional(),
  /** The git sha in `codeVersion` when the process does not run in a git checkout. */
  MLP_GIT_SHA: z.string().regex(/^[0-9a-f]{4,40}$/i, 'expected a hexadecimal git sha').optional(),
};
