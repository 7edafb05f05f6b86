import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  evaluateChecks,
  inferSchema,
  type DatasetSchema,
  type ObservedColumn,
  type QualityReport,
  type QuarantineReasonCode,
} from '@mlp/data';
import { openDuck, type Duck } from '@mlp/duckdb';
import { profileColumns } from './profile';
import { stageSource, type SourceFile, type StagedSource } from './read-source';
import { anyCheckFails, planValidation, rawProjection, reasonsList, typedProjection, type ValidationPlan } from './validation-plan';
import { columnStats } from '@mlp/duckdb';
import { ident, literal } from '@mlp/duckdb';

export interface ProcessOptions {
  dataset: string;
  /** The declared schema; without one the schema is inferred from the file. */
  schema?: DatasetSchema;
  /** Scratch space for this job (DuckDB spill files, outputs). */
  workDir: string;
}

export interface ProcessResult {
  rows: number;
  accepted: number;
  quarantined: number;
  /** Parquet of the accepted rows, typed by the schema. */
  acceptedFile: string;
  /** Parquet of quarantined rows (`row`, `line`, `raw`, `reasons`), or null when none. */
  quarantineFile: string | null;
  reasons: Partial<Record<QuarantineReasonCode, number>>;
  schema: DatasetSchema;
  inferred: boolean;
  observed?: Record<string, ObservedColumn>;
  candidateKeys?: string[][];
  report: QualityReport;
  missingColumns: string[];
}

/** Infers a schema from a file without validating or writing anything. */
export async function inferFileSchema(file: SourceFile, dataset: string, workDir: string) {
  const duck = await openDuck(join(workDir, 'duck'));
  try {
    const staged = await stageSource(duck, file, workDir);
    return inferSchema(dataset, await profileColumns(duck, staged.columns));
  } finally {
    duck.close();
  }
}

/**
 * Reads, validates and splits one input in DuckDB: accepted rows → typed
 * Parquet, failing rows → quarantine Parquet with every reason, plus the
 * quality report of the accepted rows and the dataset-level checks.
 * `accepted + quarantined = rows` by construction.
 */
export async function processFile(file: SourceFile, options: ProcessOptions): Promise<ProcessResult> {
  mkdirSync(options.workDir, { recursive: true });
  const duck = await openDuck(join(options.workDir, 'duck'));
  try {
    const staged = await stageSource(duck, file, options.workDir);
    let schema = options.schema;
    let observed: Record<string, ObservedColumn> | undefined;
    let candidateKeys: string[][] | undefined;
    if (!schema) {
      const inferred = inferSchema(options.dataset, await profileColumns(duck, staged.columns));
      ({ schema, observed, candidateKeys } = inferred);
    }
    const plan = planValidation(schema, staged.columns);
    await checkRows(duck, plan, staged);

    const acceptedFile = join(options.workDir, 'accepted.parquet');
    const outputColumns = [...plan.columns.map((c) => ident(c.name)), ...plan.extra.map((c) => ident(c.name))];
    await duck.run(`CREATE VIEW accepted AS SELECT ${outputColumns.join(', ') || 'NULL AS __empty'} FROM checked WHERE NOT __fail`);
    await duck.run(`COPY (SELECT * FROM accepted) TO ${literal(acceptedFile)} (FORMAT PARQUET)`);

    const quarantine = await writeQuarantine(duck, plan, staged, join(options.workDir, 'quarantine.parquet'));
    const counts = await duck.one<{ parsed: string; bad: string }>(`SELECT (SELECT count(*) FROM checked) AS parsed, (SELECT count(*) FROM bad) AS bad`);
    const accepted = Number(counts.parsed) - Number(counts.bad);
    const rows = accepted + quarantine.count;

    const stats = await columnStats(duck, 'accepted', [
      ...plan.columns.map((c) => ({ name: c.name, type: c.spec.type })),
      ...plan.extra.map((c) => ({ name: c.name, type: 'string' as const })),
    ]);
    const base = { dataset: options.dataset, rows, accepted, quarantined: quarantine.count, reasons: quarantine.reasons, columns: stats.columns };
    const missingRequired = plan.missing;
    const report: QualityReport = { ...base, checks: evaluateChecks(schema, base, missingRequired) };
    return {
      rows,
      accepted,
      quarantined: quarantine.count,
      acceptedFile,
      quarantineFile: quarantine.count > 0 ? quarantine.file : null,
      reasons: quarantine.reasons,
      schema,
      inferred: !options.schema,
      observed,
      candidateKeys,
      report,
      missingColumns: plan.missing,
    };
  } finally {
    duck.close();
  }
}

/**
 * `checked`: the typed row plus `__fail` (some value check fails); `dup_<i>`:
 * rows repeating key i (later occurrences); `bad`: every row to quarantine.
 * Keys are checked in their own narrow pass: a window over the wide row costs
 * far more than one over (row, key).
 */
async function checkRows(duck: Duck, plan: ValidationPlan, staged: StagedSource): Promise<void> {
  const typed = plan.columns.map((c) => ident(c.name));
  const extra = plan.extra.map((c) => ident(c.name));
  const level3 = ['__k', ...typed, ...extra, `(${anyCheckFails(plan)}) AS __fail`].join(', ');
  await duck.run(`CREATE TABLE checked AS SELECT ${level3} FROM (
    SELECT ${typedProjection(plan)} FROM (SELECT ${rawProjection(plan, staged.rowKey)} FROM src))`);
  for (const [i, key] of plan.keys.entries()) {
    const cols = key.map(ident);
    await duck.run(`CREATE TABLE dup_${i} AS SELECT __k FROM (
      SELECT __k, row_number() OVER (PARTITION BY ${cols.join(', ')} ORDER BY __k) AS rn FROM checked
      WHERE ${cols.map((c) => `${c} IS NOT NULL`).join(' AND ')}) WHERE rn > 1`);
  }
  const dupUnion = plan.keys.map((_, i) => ` UNION SELECT __k FROM dup_${i}`).join('');
  await duck.run(`CREATE TABLE bad AS SELECT __k FROM checked WHERE __fail${dupUnion}`);
  // Fold the (few) duplicates into __fail so "accepted" is a plain filter, not an anti-join per query.
  if (plan.keys.length > 0) await duck.run(`UPDATE checked SET __fail = TRUE WHERE __k IN (SELECT __k FROM bad) AND NOT __fail`);
}

/**
 * Rows that failed a check, with their raw values as JSON, plus the rows the
 * reader rejected, numbered by their position among all data rows, to one
 * Parquet file ordered by row.
 */
async function writeQuarantine(
  duck: Duck,
  plan: ValidationPlan,
  staged: StagedSource,
  file: string,
): Promise<{ count: number; file: string; reasons: Partial<Record<QuarantineReasonCode, number>> }> {
  const dupFlags = plan.keys.map((_, i) => `__dup_${i}`);
  const srcColumns = [...plan.columns.filter((c) => c.sourceType !== null).map((c) => c.name), ...plan.extra.map((c) => c.name)];
  const rawJson = srcColumns.length > 0 ? `to_json({${srcColumns.map((n) => `${literal(n)}: ${ident(n)}`).join(', ')}})::VARCHAR` : `'{}'`;
  await duck.run(`CREATE TABLE failed AS
    SELECT l.__k, l.__raw AS raw, ${reasonsList(plan)} AS reasons
    FROM (SELECT ${typedProjection(plan)} FROM (SELECT ${rawProjection(plan, staged.rowKey)}, ${rawJson} AS __raw FROM src
      WHERE ${staged.rowKey} IN (SELECT __k FROM bad))) l
    JOIN (SELECT bad.__k${dupFlags.map((f, i) => `, d${i}.__k IS NOT NULL AS ${f}`).join('')} FROM bad${plan.keys
      .map((_, i) => ` LEFT JOIN dup_${i} d${i} ON d${i}.__k = bad.__k`)
      .join('')}) b ON l.__k = b.__k`);

  // k-th parsed row → its position among all rows: k plus the rejected rows before it.
  await duck.run(`CREATE TABLE reject_index AS
    SELECT a, max(j) AS j FROM (SELECT row_index - row_number() OVER (ORDER BY row_index) AS a, row_number() OVER (ORDER BY row_index) AS j FROM rejects)
    GROUP BY a`);
  await duck.run(`CREATE TABLE quarantined AS
    SELECT f.__k + coalesce(r.j, 0) AS "row", NULL::BIGINT AS line, f.raw, f.reasons FROM failed f ASOF LEFT JOIN reject_index r ON f.__k > r.a
    UNION ALL SELECT row_index AS "row", line, raw, reasons FROM rejects`);
  const count = Number((await duck.one<{ n: string }>('SELECT count(*) AS n FROM quarantined')).n);
  if (count > 0) await duck.run(`COPY (SELECT * FROM quarantined ORDER BY "row") TO ${literal(file)} (FORMAT PARQUET, COMPRESSION ZSTD)`);
  const byCode = await duck.all<{ code: QuarantineReasonCode; n: string }>(
    `SELECT code, count(DISTINCT "row") AS n FROM (SELECT "row", unnest(reasons).code AS code FROM quarantined) GROUP BY code ORDER BY code`,
  );
  return { count, file, reasons: Object.fromEntries(byCode.map((r) => [r.code, Number(r.n)])) };
}
