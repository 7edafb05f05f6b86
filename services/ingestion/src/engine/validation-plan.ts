import type { ColumnSpec, ColumnType, DatasetSchema, QuarantineReasonCode } from '@mlp/data';
import { parseIsoInstant, storageType } from '@mlp/data';
import { ValidationError } from '@mlp/contracts';
import type { StagedColumn } from './read-source';
import { ident, literal } from '@mlp/duckdb';

/** One way a value can fail, as SQL over the row's raw and typed values. */
interface Check {
  code: QuarantineReasonCode;
  column: string;
  /** True when the row fails. */
  when: string;
  /** SQL string expression explaining the failure. */
  message: string;
}

/**
 * A declared column, evaluated in three levels so each cast runs once:
 * `rawSql` over `src` is aliased `raw` (`"__r<i>"`), `typedSql` over that
 * alias is aliased by the column's name, and checks refer to both aliases.
 */
export interface ColumnPlan {
  name: string;
  spec: ColumnSpec;
  /** Source type, or null when the file lacks the column. */
  sourceType: string | null;
  /** The raw value over `src` (NULL when missing or blank). */
  rawSql: string;
  /** Alias of the raw value. */
  raw: string;
  /** The value in its storage type, over the `raw` alias (NULL when it does not convert). */
  typedSql: string;
}

export interface ValidationPlan {
  columns: ColumnPlan[];
  /** Columns of the file the schema does not declare: kept as read. */
  extra: StagedColumn[];
  /** Declared columns the file lacks. */
  missing: string[];
  checks: Check[];
  /** Columns whose combined value must be unique (primary key, then each unique column). */
  keys: string[][];
}

const numericSource = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL)/;
const integerSource = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT)$/;

/**
 * Text is trimmed of spaces and blank is missing. Most values carry no padding:
 * the LIKE guard (a prefix/suffix test, no allocation) keeps trim off them.
 */
export function rawExpr(col: StagedColumn | undefined): string {
  if (!col) return 'NULL';
  const c = ident(col.name);
  return col.type === 'VARCHAR' ? `CASE WHEN ${c} LIKE ' %' OR ${c} LIKE '% ' THEN NULLIF(trim(${c}), '') ELSE NULLIF(${c}, '') END` : c;
}

/** `raw` is the alias of the raw value; the result never re-reads `src`. */

/** Conversion to the storage type; NULL when the value does not convert. */
function typedExpr(type: ColumnType, col: StagedColumn | undefined, raw: string): string {
  const target = storageType[type];
  if (!col) return `NULL::${target}`;
  if (col.type === target) return raw;
  if (col.type === 'VARCHAR') {
    switch (type) {
      case 'int':
        // DuckDB's BIGINT cast rounds '1.5' and reads '0x10', '1e3', '1_000': only plain digits are ints. A full
        // match of a compiled pattern costs a seventh of the ltrim(...) = '' test it replaced.
        return `CASE WHEN regexp_full_match(${raw}, '[+-]?[0-9]+') THEN TRY_CAST(${raw} AS BIGINT) END`;
      case 'float':
        // DuckDB reads '1_000' as 1000; a digit separator is not a number here.
        return `CASE WHEN NOT contains(${raw}, '_') THEN TRY_CAST(${raw} AS DOUBLE) END`;
      case 'bool':
        return `TRY_CAST(${raw} AS BOOLEAN)`;
      case 'date':
        return `TRY_CAST(${raw} AS DATE)`;
      case 'datetime':
        // TIMESTAMP drops a UTC offset ('10:00+02:00' would read as 10:00); TIMESTAMPTZ applies it (the job's time zone is
        // UTC) but costs six times as much, so only text with a sign after the time of day takes it.
        return `CASE WHEN ${raw} LIKE '%:%+%' OR ${raw} LIKE '%:%-%' THEN TRY_CAST(${raw} AS TIMESTAMPTZ)::TIMESTAMP ELSE TRY_CAST(${raw} AS TIMESTAMP) END`;
      default:
        return raw;
    }
  }
  if (type === 'int' && !integerSource.test(col.type)) {
    return numericSource.test(col.type) ? `CASE WHEN ${raw} = trunc(${raw}) THEN TRY_CAST(${raw} AS BIGINT) END` : `TRY_CAST(${raw} AS BIGINT)`;
  }
  if (type === 'string' || type === 'category') return `CAST(${raw} AS VARCHAR)`;
  return `TRY_CAST(${raw} AS ${target})`;
}

function boundLiteral(column: string, type: ColumnType, value: number | string, which: 'min' | 'max'): string {
  if (type === 'date') return `DATE ${literal(String(value))}`;
  if (type === 'datetime') {
    // Through the platform's ISO reader: a TIMESTAMP literal would drop the offset of '…+02:00'.
    const instant = parseIsoInstant(String(value));
    if (!instant) throw new ValidationError(`${column}.${which} is not an ISO datetime`, [{ path: `columns.${column}.${which}`, message: `expected an ISO datetime, received ${JSON.stringify(value)}` }]);
    return `make_timestamp(${instant.epochMs * 1000 + Number(instant.nanos.slice(3, 6))})`;
  }
  return literal(Number(value));
}

/** Category lists up to this long are searched per row (no join in the plan). */
const SHORT_LIST = 64;

const show = (expr: string) => `coalesce(CAST(${expr} AS VARCHAR), 'null')`;

/**
 * Compiles a schema into DuckDB SQL against the staged `src` table: the typed
 * projection of every declared column and the checks that quarantine a row.
 */
export function planValidation(schema: DatasetSchema, staged: StagedColumn[]): ValidationPlan {
  const byName = new Map(staged.map((c) => [c.name, c]));
  const columns: ColumnPlan[] = [];
  const checks: Check[] = [];
  for (const [i, [name, spec]] of Object.entries(schema.columns).entries()) {
    const col = byName.get(name);
    const raw = `"__r${i}"`;
    const typedSql = typedExpr(spec.type, col, raw);
    const typed = ident(name);
    columns.push({ name, spec, sourceType: col?.type ?? null, rawSql: rawExpr(col), raw, typedSql });
    const mustHave = spec.required || spec.nullable === false;
    if (mustHave) checks.push({ code: 'missing_required', column: name, when: `${raw} IS NULL`, message: literal(`${name} is required`) });
    const convertible = spec.type !== 'string' && spec.type !== 'category';
    if (col && convertible && typedSql !== raw) {
      const temporal = spec.type === 'date' || spec.type === 'datetime';
      checks.push({
        code: temporal ? 'unparseable_date' : 'wrong_type',
        column: name,
        when: `${raw} IS NOT NULL AND ${typed} IS NULL`,
        message: `${literal(`expected ${spec.type}, got `)} || ${show(raw)}`,
      });
    }
    // NaN and ±Infinity are not numbers a model can use: quarantined unless the column allows them.
    const float = spec.type === 'float' && col !== undefined;
    if (float && !spec.allowNonFinite) {
      checks.push({ code: 'non_finite', column: name, when: `NOT isfinite(${typed})`, message: `${literal('not a finite number: ')} || ${show(raw)}` });
    }
    const bounds: string[] = [];
    if (spec.min !== undefined) bounds.push(`${typed} < ${boundLiteral(name, spec.type, spec.min, 'min')}`);
    if (spec.max !== undefined) bounds.push(`${typed} > ${boundLiteral(name, spec.type, spec.max, 'max')}`);
    if (bounds.length > 0) {
      const range = `[${spec.min ?? '-∞'}, ${spec.max ?? '∞'}]`;
      // DuckDB orders NaN above every number; a bound says nothing about NaN, and a non-finite value is
      // reported as such (or allowed) rather than as out of range — except an allowed ±Infinity past a bound.
      const comparable = !float ? '' : spec.allowNonFinite ? `NOT isnan(${typed}) AND ` : `isfinite(${typed}) AND `;
      checks.push({
        code: 'out_of_range',
        column: name,
        when: `(${comparable}(${bounds.join(' OR ')}))`,
        message: `${show(typed)} || ${literal(` is outside ${range}`)}`,
      });
    }
    if (spec.values && spec.values.length > 0) {
      const value = `CAST(${raw} AS VARCHAR)`;
      const list = spec.values.map(literal).join(', ');
      checks.push({
        code: 'unknown_category',
        column: name,
        // DuckDB plans an IN list as a join, and a join ends the order-preserving parallel insert or COPY (the whole
        // pass then runs on one thread); a short list is searched per row instead.
        when: `${raw} IS NOT NULL AND ${spec.values.length <= SHORT_LIST ? `NOT list_contains([${list}], ${value})` : `${value} NOT IN (${list})`}`,
        message: `${literal('unknown category ')} || ${show(raw)}`,
      });
    }
    if (spec.pattern) {
      checks.push({
        code: 'pattern_mismatch',
        column: name,
        when: `${raw} IS NOT NULL AND NOT regexp_matches(CAST(${raw} AS VARCHAR), ${literal(spec.pattern)})`,
        message: `${show(raw)} || ${literal(` does not match ${spec.pattern}`)}`,
      });
    }
  }
  const keys: string[][] = [];
  if (schema.primaryKey && schema.primaryKey.length > 0) keys.push(schema.primaryKey);
  for (const [name, spec] of Object.entries(schema.columns)) {
    if (spec.unique && !(keys[0]?.length === 1 && keys[0][0] === name)) keys.push([name]);
  }
  return {
    columns,
    extra: staged.filter((c) => !(c.name in schema.columns)),
    missing: Object.keys(schema.columns).filter((n) => !byName.has(n)),
    checks,
    keys,
  };
}

/** Level 1 over `src`: row key, raw values, and the undeclared columns as read. */
export function rawProjection(plan: ValidationPlan, rowKey: string): string {
  return [`${rowKey} AS __k`, ...plan.columns.map((c) => `${c.rawSql} AS ${c.raw}`), ...plan.extra.map((c) => ident(c.name))].join(', ');
}

/** Level 2 over level 1: everything, plus each declared column in its storage type. */
export function typedProjection(plan: ValidationPlan): string {
  return ['*', ...plan.columns.map((c) => `${c.typedSql} AS ${ident(c.name)}`)].join(', ');
}

/** SQL of the condition "this row fails some value check" (keys excluded), over level 2. */
export function anyCheckFails(plan: ValidationPlan): string {
  return plan.checks.length === 0 ? 'FALSE' : plan.checks.map((c) => `coalesce(${c.when}, FALSE)`).join(' OR ');
}

/** SQL list of reason structs for a failing row, duplicate keys included via the `__dup_<i>` flags. */
export function reasonsList(plan: ValidationPlan): string {
  const items = plan.checks.map(
    (c) => `CASE WHEN coalesce(${c.when}, FALSE) THEN {'code': ${literal(c.code)}, 'column': ${literal(c.column)}, 'message': ${c.message}} END`,
  );
  plan.keys.forEach((key, i) =>
    items.push(
      `CASE WHEN __dup_${i} THEN {'code': 'duplicate_key', 'column': ${literal(key.join(','))}, 'message': ${literal(`duplicate ${key.join(', ')}: an earlier row has the same value`)}} END`,
    ),
  );
  return items.length === 0 ? '[]' : `list_filter([${items.join(', ')}], x -> x IS NOT NULL)`;
}
