import { ValidationError, type FieldIssue } from '@mlp/contracts';
import { parseIsoInstant } from '@mlp/data';
import type { OnlineRow } from './online-store';

/** Same rule as a feature view's name (libs/contracts events/common.ts). */
const VIEW_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const MAX_VIEW_NAME = 100;
/** Entity keys end up in NATS subjects (base64url, ×4/3): keep them well under the 4 KB control line. */
export const MAX_ENTITY_KEY = 1024;
const LONE_SURROGATE = /\p{Surrogate}/u;

/** A row checked and put in the form every adapter stores. */
export interface PreparedRow {
  entityKey: string;
  /** As written by the caller; returned by reads. */
  eventTimestamp: string;
  /** Sortable instant (see timestampKey): compare these, never eventTimestamp. */
  tsKey: string;
  /** canonicalJson(values). */
  valuesJson: string;
  materializationId: string;
}

/** What the write rule needs to know about a stored row. */
export type Comparable = Pick<PreparedRow, 'tsKey' | 'valuesJson' | 'materializationId'>;

export function checkView(view: unknown): string {
  if (typeof view !== 'string' || view.length > MAX_VIEW_NAME || !VIEW_NAME.test(view)) {
    const message = `feature view name must match ${VIEW_NAME.source} (at most ${MAX_VIEW_NAME} characters)`;
    throw new ValidationError(`invalid feature view name '${String(view)}': ${message}`, [{ path: 'view', message }]);
  }
  return view;
}

export function checkEntityKey(key: unknown, path: string): string {
  if (typeof key !== 'string') throw new ValidationError(`${path} must be a string`, [{ path, message: 'must be a string' }]);
  if (key.length > MAX_ENTITY_KEY) {
    throw new ValidationError(`${path} is longer than ${MAX_ENTITY_KEY} characters`, [{ path, message: `at most ${MAX_ENTITY_KEY} characters` }]);
  }
  if (LONE_SURROGATE.test(key)) throw new ValidationError(`${path} is not well-formed text`, [{ path, message: 'lone surrogate' }]);
  return key;
}

/**
 * ISO 8601 instant (read by @mlp/data's `parseIsoInstant`) →
 * `YYYY-MM-DDTHH:MM:SS.fffffffffZ` in UTC, which sorts as text in time order
 * (offsets applied, nanosecond digits kept, more are truncated). A date-time
 * without a zone is read as UTC, never as the machine's local time. Returns
 * null for anything else, and for instants outside the years 0000-9999.
 */
export function timestampKey(text: string): string | null {
  const parsed = parseIsoInstant(text);
  if (!parsed) return null;
  const utc = new Date(parsed.epochMs).toISOString();
  if (!/^\d{4}-/.test(utc)) return null; // shifted out of years 0000-9999
  return `${utc.slice(0, 19)}.${parsed.nanos}Z`;
}

/**
 * JSON of `values` with keys in sorted order, so equal values give equal
 * text in every adapter (the "same row again" test compares these strings).
 * Checks that every value is a finite number, a string, a boolean or null.
 */
export function canonicalJson(values: Record<string, unknown>, path = 'values'): string {
  if (values === null || typeof values !== 'object' || Array.isArray(values)) {
    throw new ValidationError(`${path} must be an object of feature values`, [{ path, message: 'must be an object' }]);
  }
  const names = Object.keys(values).sort();
  const entries: [string, unknown][] = [];
  let issues: FieldIssue[] | undefined;
  for (const name of names) {
    const value = values[name];
    const ok =
      value === null ||
      typeof value === 'string' ||
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isFinite(value));
    if (!ok) {
      (issues ??= []).push({
        path: `${path}.${name}`,
        message: typeof value === 'number' ? `${String(value)} is not storable (map it to null)` : `must be a number, string, boolean or null, got ${typeof value}`,
      });
      continue;
    }
    entries.push([name, value]);
  }
  if (issues) throw new ValidationError(`invalid feature values: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, issues);
  return JSON.stringify(Object.fromEntries(entries));
}

/** The write rule, written once: does `incoming` replace `stored`? */
export function supersedes(incoming: Comparable, stored: Comparable | undefined | null): boolean {
  if (!stored) return true;
  if (incoming.tsKey !== stored.tsKey) return incoming.tsKey > stored.tsKey;
  return incoming.valuesJson !== stored.valuesJson || incoming.materializationId !== stored.materializationId;
}

/**
 * Checks every row, then keeps, per entity, the row the rule would leave
 * stored after writing the batch in order. Throws one ValidationError naming
 * every bad row; nothing is written then.
 */
export function prepareRows(rows: readonly OnlineRow[]): PreparedRow[] {
  if (!Array.isArray(rows)) throw new ValidationError('rows must be an array', [{ path: 'rows', message: 'must be an array' }]);
  const issues: FieldIssue[] = [];
  const winners = new Map<string, PreparedRow>();
  rows.forEach((row, i) => {
    const at = `rows[${i}]`;
    if (row === null || typeof row !== 'object') {
      issues.push({ path: at, message: 'must be an object' });
      return;
    }
    try {
      const entityKey = checkEntityKey(row.entityKey, `${at}.entityKey`);
      const tsKey = typeof row.eventTimestamp === 'string' ? timestampKey(row.eventTimestamp) : null;
      if (tsKey === null) {
        issues.push({ path: `${at}.eventTimestamp`, message: `'${String(row.eventTimestamp)}' is not an ISO 8601 timestamp` });
        return;
      }
      if (typeof row.materializationId !== 'string') {
        issues.push({ path: `${at}.materializationId`, message: 'must be a string' });
        return;
      }
      const prepared: PreparedRow = {
        entityKey,
        eventTimestamp: row.eventTimestamp,
        tsKey,
        valuesJson: canonicalJson(row.values, `${at}.values`),
        materializationId: row.materializationId,
      };
      if (supersedes(prepared, winners.get(entityKey))) winners.set(entityKey, prepared);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      issues.push(...err.details);
    }
  });
  if (issues.length > 0) {
    const shown = issues.slice(0, 5).map((i) => `${i.path}: ${i.message}`).join('; ');
    throw new ValidationError(`invalid online rows (${issues.length} issues): ${shown}${issues.length > 5 ? '; …' : ''}`, issues);
  }
  return [...winners.values()];
}

/** The listed features the stored values have (features null: all of them). */
export function selectFeatures(values: Record<string, unknown>, features: readonly string[] | null): Record<string, unknown> {
  if (features === null) return values;
  const picked: [string, unknown][] = [];
  for (const name of features) {
    if (Object.prototype.hasOwnProperty.call(values, name)) picked.push([name, values[name]]);
  }
  return Object.fromEntries(picked);
}
