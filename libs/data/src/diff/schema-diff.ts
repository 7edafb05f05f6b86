import { ColumnSpec, ColumnType, DatasetSchema } from '../schema/dataset-schema';
import { isoToEpochMs } from '../schema/iso-time';
import { ColumnReport, QualityReport } from '../report/quality-report';

export const schemaChangeKinds = ['column_added', 'column_removed', 'type_changed', 'new_categories', 'range_shift', 'nullability_changed'] as const;
export type SchemaChangeKind = (typeof schemaChangeKinds)[number];

/** One difference between two versions of a dataset. */
export interface SchemaChange {
  kind: SchemaChangeKind;
  column: string;
  from?: unknown;
  to?: unknown;
  message: string;
}

/** A dataset version as the diff sees it: its schema, and its quality report when there is one. */
export interface SchemaSnapshot {
  schema: DatasetSchema;
  report?: Pick<QualityReport, 'columns'>;
}

/** Means further apart than this many previous standard deviations are a shift. */
const meanShiftStds = 3;
/** A min or max beyond the previous range by more than this fraction of its width is a shift. */
const rangeOverflow = 0.5;

/**
 * What changed from one version to the next, ordered by column then kind
 * (in `schemaChangeKinds` order).
 *
 * - `column_added` / `column_removed` / `type_changed`: from the schemas.
 * - `nullability_changed`: whether the column accepts nulls (`nullable`,
 *   default: not `required`); from/to are booleans.
 * - `new_categories` (category in both): current values not among the
 *   previous ones. Declared `values` are used when present, else the report's
 *   topValues; the previous list counts only when it is complete
 *   (topValues.length ≥ distinct), since a value below the top-N cut is not new.
 * - `range_shift` (int/float or date/datetime in both, with reports): the mean
 *   moved by more than 3 previous standard deviations, or min/max went beyond
 *   the previous range by more than half its width.
 */
export function diffSchemas(previous: SchemaSnapshot, current: SchemaSnapshot): SchemaChange[] {
  const changes: SchemaChange[] = [];
  const before = previous.schema.columns;
  const after = current.schema.columns;
  for (const [column, spec] of Object.entries(before)) {
    if (!(column in after)) {
      changes.push({ kind: 'column_removed', column, from: spec.type, message: `column "${column}" (${spec.type}) was removed` });
    }
  }
  for (const [column, cur] of Object.entries(after)) {
    const prev = before[column];
    if (!prev) {
      changes.push({ kind: 'column_added', column, to: cur.type, message: `column "${column}" (${cur.type}) was added` });
      continue;
    }
    if (prev.type !== cur.type) {
      changes.push({ kind: 'type_changed', column, from: prev.type, to: cur.type, message: `column "${column}" changed type from ${prev.type} to ${cur.type}` });
    }
    const wasNullable = acceptsNull(prev);
    const isNullable = acceptsNull(cur);
    if (wasNullable !== isNullable) {
      changes.push({
        kind: 'nullability_changed',
        column,
        from: wasNullable,
        to: isNullable,
        message: isNullable ? `column "${column}" now accepts nulls` : `column "${column}" no longer accepts nulls`,
      });
    }
    const prevReport = previous.report?.columns.find((c) => c.name === column);
    const curReport = current.report?.columns.find((c) => c.name === column);
    const categories = newCategories(column, prev, cur, prevReport, curReport);
    if (categories) changes.push(categories);
    const shift = rangeShift(column, prev.type, cur.type, prevReport, curReport);
    if (shift) changes.push(shift);
  }
  return changes.sort(
    (a, b) => (a.column < b.column ? -1 : a.column > b.column ? 1 : 0) || schemaChangeKinds.indexOf(a.kind) - schemaChangeKinds.indexOf(b.kind),
  );
}

function acceptsNull(spec: ColumnSpec): boolean {
  return spec.nullable ?? !spec.required;
}

function newCategories(column: string, prev: ColumnSpec, cur: ColumnSpec, prevReport?: ColumnReport, curReport?: ColumnReport): SchemaChange | undefined {
  if (prev.type !== 'category' || cur.type !== 'category') return undefined;
  const known = prev.values ?? completeTopValues(prevReport);
  const seen = cur.values ?? curReport?.topValues?.map((v) => v.value);
  if (!known || !seen) return undefined;
  const knownSet = new Set(known);
  const added = [...new Set(seen.filter((v) => !knownSet.has(v)))].sort();
  if (added.length === 0) return undefined;
  const shown = added.slice(0, 10).map((v) => JSON.stringify(v)).join(', ');
  const more = added.length > 10 ? ` and ${added.length - 10} more` : '';
  return {
    kind: 'new_categories',
    column,
    from: [...knownSet].sort(),
    to: added,
    message: `column "${column}" has ${added.length} new ${added.length === 1 ? 'category' : 'categories'}: ${shown}${more}`,
  };
}

function completeTopValues(report?: ColumnReport): string[] | undefined {
  const top = report?.topValues;
  if (!top || top.length === 0 || top.length < report.distinct) return undefined;
  return top.map((v) => v.value);
}

type Family = 'number' | 'time' | undefined;
function family(type: ColumnType): Family {
  if (type === 'int' || type === 'float') return 'number';
  if (type === 'date' || type === 'datetime') return 'time';
  return undefined;
}

function rangeShift(column: string, prevType: ColumnType, curType: ColumnType, prev?: ColumnReport, cur?: ColumnReport): SchemaChange | undefined {
  const kind = family(prevType);
  if (!prev || !cur || kind === undefined || kind !== family(curType)) return undefined;
  const reasons: string[] = [];
  if (prev.mean !== undefined && prev.std !== undefined && cur.mean !== undefined) {
    const moved = Math.abs(cur.mean - prev.mean);
    if (moved > meanShiftStds * prev.std) {
      reasons.push(`mean moved from ${fmt(prev.mean)} to ${fmt(cur.mean)}, more than ${meanShiftStds} standard deviations (${fmt(prev.std)})`);
    }
  }
  const [pMin, pMax, cMin, cMax] = [prev.min, prev.max, cur.min, cur.max].map(ordinal);
  if (pMin !== undefined && pMax !== undefined && cMin !== undefined && cMax !== undefined) {
    const slack = rangeOverflow * (pMax - pMin);
    if (cMin < pMin - slack || cMax > pMax + slack) {
      reasons.push(`range moved from [${fmt(prev.min)}, ${fmt(prev.max)}] to [${fmt(cur.min)}, ${fmt(cur.max)}], beyond half the previous width`);
    }
  }
  if (reasons.length === 0) return undefined;
  return {
    kind: 'range_shift',
    column,
    from: stats(prev, true),
    to: stats(cur, false),
    message: `column "${column}": ${reasons.join('; ')}`,
  };
}

function stats(report: ColumnReport, withStd: boolean): Record<string, number | string> {
  const out: Record<string, number | string> = {};
  if (report.min !== undefined) out.min = report.min;
  if (report.max !== undefined) out.max = report.max;
  if (report.mean !== undefined) out.mean = report.mean;
  if (withStd && report.std !== undefined) out.std = report.std;
  return out;
}

function ordinal(value: number | string | undefined): number | undefined {
  if (value === undefined) return undefined;
  return typeof value === 'number' ? value : isoToEpochMs(value);
}

function fmt(value: number | string | undefined): string {
  if (typeof value !== 'number') return String(value);
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
}
