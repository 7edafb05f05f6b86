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
import { columnStats, ident, literal, openDuck, parquetWriteStats, type Duck, type KnownFacts } from '@mlp/duckdb';
import { profileColumns } from './profile';
import { stageSource, type SourceFile, type StagedSource } from './read-source';
import { anyCheckFails, planValidation, rawProjection, reasonsList, typedProjection, type ValidationPlan } from './validation-plan';

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
    // With a declared schema the input is read once, typed and checked in the same pass.
    const staged = await stageSource(duck, file, options.workDir, { lazy: options.schema !== undefined });
    let schema = options.schema;
    let observed: Record<string, ObservedColumn> | undefined;
    let candidateKeys: string[][] | undefined;
    if (!schema) {
      const inferred = inferSchema(options.dataset, await profileColumns(duck, staged.columns));
      ({ schema, observed, candidateKeys } = inferred);
    }
    const plan = planValidation(schema, staged.columns);
    const dupOnly = await checkRows(duck, plan, staged);

    const acceptedFile = join(options.workDir, 'accepted.parquet');
    const outputColumns = [...plan.columns.map((c) => ident(c.name)), ...plan.extra.map((c) => ident(c.name))].join(', ');
    // COPY answers with the rows it wrote and each column's null count and bounds: the accepted count comes from
    // the same pass, and the statistics need one aggregate pass fewer.
    const copyAccepted = async (select: string) =>
      parquetWriteStats(await duck.one<{ count: string; column_statistics: unknown }>(`COPY (${select}) TO ${literal(acceptedFile)} (FORMAT PARQUET, RETURN_STATS)`));
    let written: KnownFacts;
    if (staged.keepRaw) {
      await duck.run(`CREATE VIEW accepted AS SELECT ${outputColumns} FROM checked WHERE NOT __fail`);
      written = await copyAccepted('SELECT * FROM accepted');
    } else {
      // A source that is cheap to scan again streams from the input to the Parquet output, typed on the way
      // (filters and projections keep file order): no table of every row, so memory stays flat. The checks ran
      // once, in checkRows: the rows they failed, and the duplicates, are left out by position, looked up in a
      // bitstring (one bit per row) held in a variable. An anti-join would do the same, but a join makes DuckDB
      // write the file on one thread (no order-preserving parallel COPY).
      const source = await staged.rawRows();
      const left = ['SELECT __k FROM failed_src', ...(dupOnly > 0 ? ['SELECT __k FROM dup_only'] : [])].join(' UNION ALL ');
      const excluded = Number((await duck.one<{ n: string }>(`SELECT count(*) AS n FROM (${left})`)).n);
      let keep = '';
      if (excluded > 0) {
        const total = Number((await duck.one<{ n: string }>(`SELECT count(*) AS n FROM ${source}`)).n);
        if (total < 2 ** 31) {
          await duck.run(`SET VARIABLE mlp_excluded = (SELECT bitstring_agg(__k, 1, ${total}) FROM (${left}))`);
          keep = ` WHERE get_bit(getvariable('mlp_excluded'), ("__mlp_k" - 1)::INTEGER) = 0`;
        } else {
          keep = ` WHERE "__mlp_k" NOT IN (${left})`; // get_bit takes an INTEGER position
        }
      }
      written = await copyAccepted(`SELECT ${outputColumns} FROM (${typedRowsSql(plan, staged, source, ['"__mlp_k"'])})${keep}`);
      await duck.run(`CREATE VIEW accepted AS SELECT * FROM read_parquet(${literal(acceptedFile)})`);
    }
    const accepted = written.rows;

    const quarantine = await writeQuarantine(duck, plan, staged, dupOnly, join(options.workDir, 'quarantine.parquet'));
    const rows = accepted + quarantine.count;

    // A declared-unique column holds distinct values once duplicates are quarantined: its distinct count is exact.
    const uniqueColumns = plan.keys.filter((k) => k.length === 1).map((k) => k[0]);
    // Declared categories and booleans have few values: counted one by one in the main pass, no estimate.
    const fewValueColumns = plan.columns.filter((c) => c.spec.type === 'bool' || (c.spec.type === 'category' && (c.spec.values?.length ?? 0) > 0)).map((c) => c.name);
    const stats = await columnStats(
      duck,
      'accepted',
      [...plan.columns.map((c) => ({ name: c.name, type: c.spec.type })), ...plan.extra.map((c) => ({ name: c.name, type: 'string' as const }))],
      { uniqueColumns, fewValueColumns, known: written },
    );
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

/** The key of a row of `checked`: its position among the parsed rows. */
const ROW = 'rowid + 1';

/**
 * The one pass that evaluates the checks, then the duplicate keys.
 *
 * - A lazy CSV (reading it again costs a full parse) goes into `checked`: the
 *   typed row, `__fail` (some value check fails) and, for failing rows,
 *   `__src`, the source values, so the quarantine needs no second parse.
 * - A source cheap to scan again (Parquet, a staged table) keeps only its
 *   failing rows, with their source values, in `failed_src(__k, …)`: the
 *   accepted rows stream from the source later, so memory stays flat.
 *
 * Then `dup_<i>`: rows repeating key i (later occurrences), found on hashes
 * first so the exact comparison runs only on the few rows whose hash repeats
 * (none, usually), and `dup_only`: those that passed every value check (their
 * source values were not kept). For a lazy CSV they are folded into `__fail`.
 * Returns the number of `dup_only` rows.
 */
async function checkRows(duck: Duck, plan: ValidationPlan, staged: StagedSource): Promise<number> {
  let keyRows: string;
  if (staged.keepRaw) {
    // A list, not a struct: a NULL list costs its row 16 bytes, a NULL struct a slot in every field.
    const kept = staged.columns.length > 0 ? `CASE WHEN __fail THEN [${staged.columns.map((_, j) => `"__s${j}"`).join(', ')}] END` : 'NULL::VARCHAR[]';
    const output = [...plan.columns.map((c) => ident(c.name)), ...plan.extra.map((c) => ident(c.name)), '__fail', `${kept} AS __src`];
    await staged.read('checked', (relation) => checkedSql(plan, staged, relation, output));
    keyRows = `(SELECT ${ROW} AS __k, * FROM checked)`;
  } else {
    const source = await staged.rawRows();
    const output = ['"__mlp_k" AS __k', ...staged.columns.map((c, j) => `"__s${j}" AS ${ident(c.name)}`)];
    await staged.read('failed_src', () => `${checkedSql(plan, staged, source, output, ['"__mlp_k"'])} WHERE __fail`);
    // The keys in their typed form, straight from the source: the scan reads and converts only the key columns.
    const keyColumns = plan.columns.filter((c) => plan.keys.some((k) => k.includes(c.name)));
    const raw = ['"__mlp_k" AS __k', ...keyColumns.map((c) => `${c.rawSql} AS ${c.raw}`)].join(', ');
    keyRows = `(SELECT __k, ${keyColumns.map((c) => `${c.typedSql} AS ${ident(c.name)}`).join(', ') || 'NULL AS __none'} FROM (SELECT ${raw} FROM ${source}))`;
  }
  for (const [i, key] of plan.keys.entries()) {
    const cols = key.map((name) => {
      const spec = plan.columns.find((c) => c.name === name)?.spec;
      // -0 and 0 are one key; x + 0.0 makes them one hash too.
      return spec?.type === 'float' ? `(${ident(name)} + 0.0)` : ident(name);
    });
    const present = key.map((name) => `${ident(name)} IS NOT NULL`).join(' AND ');
    // Rows held in a table (a lazy CSV) are cheap to look at again: the sort takes 32-bit hashes (about half the cost
    // of 64-bit ones), and the exact comparison below sorts out the collisions (≈ n²/2³³ rows: ~100 for 1M rows). A
    // source read again for that look (Parquet) keeps 64-bit hashes, which repeat only for repeated keys.
    const hash = staged.keepRaw ? `(hash(${cols.join(', ')}) >> 32)::UINTEGER` : `hash(${cols.join(', ')})`;
    // Hashes that repeat, by sorting them (a radix sort of integers costs about half a hash aggregate here).
    await duck.run(`CREATE TABLE dup_hash_${i} AS SELECT DISTINCT h FROM (
      SELECT h, h = lag(h) OVER (ORDER BY h) AS same FROM (SELECT ${hash} AS h FROM ${keyRows} WHERE ${present})) WHERE same`);
    const repeated = Number((await duck.one<{ n: string }>(`SELECT count(*) AS n FROM dup_hash_${i}`)).n);
    if (repeated === 0) {
      // No hash repeats: every key is distinct, no second look at the rows.
      await duck.run(`CREATE TABLE dup_${i} (__k BIGINT)`);
      continue;
    }
    await duck.run(`CREATE TABLE dup_${i} AS SELECT __k FROM (
      SELECT __k, row_number() OVER (PARTITION BY ${key.map(ident).join(', ')} ORDER BY __k) AS rn FROM ${keyRows}
      WHERE ${present} AND ${hash} IN (SELECT h FROM dup_hash_${i}))
      WHERE rn > 1`);
  }
  if (plan.keys.length === 0) return 0;
  const dups = plan.keys.map((_, i) => `SELECT __k FROM dup_${i}`).join(' UNION ');
  const failing = staged.keepRaw ? `SELECT ${ROW} FROM checked WHERE __fail` : 'SELECT __k FROM failed_src';
  await duck.run(`CREATE TABLE dup_only AS SELECT __k FROM (${dups}) WHERE __k NOT IN (${failing})`);
  const n = Number((await duck.one<{ n: string }>('SELECT count(*) AS n FROM dup_only')).n);
  // Fold the (few) duplicates into __fail so "accepted" is a plain filter, not an anti-join per query.
  if (n > 0 && staged.keepRaw) await duck.run(`UPDATE checked SET __fail = TRUE WHERE ${ROW} IN (SELECT __k FROM dup_only)`);
  return n;
}

/**
 * SQL of the typed rows of `relation` in two levels (raw values, typed values).
 * Level 1 also carries each source column as `__s<j>` and the `pass` columns.
 */
function typedRowsSql(plan: ValidationPlan, staged: StagedSource, relation: string, pass: string[] = []): string {
  const source = staged.columns.map((c, j) => `${ident(c.name)} AS "__s${j}"`);
  const level1 = [...source, ...plan.columns.map((c) => `${c.rawSql} AS ${c.raw}`), ...plan.extra.map((c) => ident(c.name)), ...pass].join(', ') || 'NULL AS __none';
  return `SELECT ${typedProjection(plan)} FROM (SELECT ${level1} FROM ${relation})`;
}

/** SQL of the typed, checked rows of `relation`: typedRowsSql plus `__fail`, selecting `output`. */
function checkedSql(plan: ValidationPlan, staged: StagedSource, relation: string, output: string[], pass: string[] = []): string {
  return `SELECT ${output.join(', ')} FROM (SELECT *, (${anyCheckFails(plan)}) AS __fail FROM (${typedRowsSql(plan, staged, relation, pass)}))`;
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
  dupOnly: number,
  file: string,
): Promise<{ count: number; file: string; reasons: Partial<Record<QuarantineReasonCode, number>> }> {
  // Source values of every quarantined row: kept by the checking pass, read again only for duplicates that passed
  // every other check.
  const names = staged.columns.map((c) => c.name);
  const reread = async (keys: string) =>
    `SELECT ${['"__mlp_k" AS __k', ...names.map(ident)].join(', ')} FROM ${await staged.rawRows()} WHERE "__mlp_k" IN (${keys})`;
  let badSrc = staged.keepRaw
    ? `SELECT ${[`${ROW} AS __k`, ...names.map((n, j) => `__src[${j + 1}] AS ${ident(n)}`)].join(', ')} FROM checked WHERE __src IS NOT NULL`
    : 'SELECT * FROM failed_src';
  if (dupOnly > 0) badSrc += ` UNION ALL BY NAME ${await reread('SELECT __k FROM dup_only')}`;
  await duck.run(`CREATE TABLE bad_src AS ${badSrc}`);

  const dupFlags = plan.keys.map((_, i) => `__dup_${i}`);
  const srcColumns = [...plan.columns.filter((c) => c.sourceType !== null).map((c) => c.name), ...plan.extra.map((c) => c.name)];
  const rawJson = srcColumns.length > 0 ? `to_json({${srcColumns.map((n) => `${literal(n)}: ${ident(n)}`).join(', ')}})::VARCHAR` : `'{}'`;
  await duck.run(`CREATE TABLE failed AS
    SELECT l.__k, l.__raw AS raw, ${reasonsList(plan)} AS reasons
    FROM (SELECT ${typedProjection(plan)} FROM (SELECT ${rawProjection(plan, '__k')}, ${rawJson} AS __raw FROM bad_src)) l
    ${
      plan.keys.length === 0
        ? ''
        : `LEFT JOIN (SELECT b.__k${dupFlags.map((f, i) => `, d${i}.__k IS NOT NULL AS ${f}`).join('')} FROM bad_src b${plan.keys
            .map((_, i) => ` LEFT JOIN dup_${i} d${i} ON d${i}.__k = b.__k`)
            .join('')}) b ON l.__k = b.__k`
    }`);

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
