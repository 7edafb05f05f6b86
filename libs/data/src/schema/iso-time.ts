/**
 * The one ISO 8601 reader of the platform (schemas, reports, the online
 * store's event times, date features in training and serving):
 * `2024-03-01`, `2024-03-01T12:30`, `2024-03-01 12:30:05.123+02:00`,
 * `2024-03-01T12:30:05,5Z`, `2024-03-01t12:30:05z`, `…+0200`, `…-05`.
 *
 * - A calendar date `YYYY-MM-DD`, then optionally a time `HH:MM[:SS[.f…]]`
 *   after `T`, `t` or one space; the fraction takes `.` or `,` and any number
 *   of digits.
 * - Then optionally a zone: `Z`/`z`, `±HH`, `±HHMM` or `±HH:MM` (spaces
 *   before it are allowed); only after a time of day. Without one the instant is read as UTC, never as
 *   the machine's local time, so results are the same everywhere.
 * - Dates must exist (2023-02-29 does not), hours are 0–23, minutes and
 *   seconds 0–59 (no leap second, no `24:00`), offsets at most ±23:59.
 */

/** What a parse yields: the instant plus what the text said about it. */
export interface IsoInstant {
  /** Epoch milliseconds (UTC), the fraction truncated to milliseconds. */
  epochMs: number;
  /** The fraction of the second as 9 digits (nanoseconds, truncated; `000000000` when none was given). */
  nanos: string;
  /** The text had a time of day (not only a date). */
  hasTime: boolean;
  /** Minutes east of UTC as written; null when the text gave no zone (read as UTC). */
  offsetMinutes: number | null;
}

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(?:\s*([Zz]|[+-]\d{2}(?::?\d{2})?))?)?$/;

/** Parses an ISO 8601 date or date-time; undefined when the text is not one (or names no real date or time). */
export function parseIsoInstant(text: string): IsoInstant | undefined {
  const m = ISO.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s = '0', frac = '', zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h ?? '0');
  const minute = Number(mi ?? '0');
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes: number | null = null;
  if (zone !== undefined) {
    offsetMinutes = 0;
    if (zone !== 'Z' && zone !== 'z') {
      const digits = zone.slice(1).replace(':', '');
      const oh = Number(digits.slice(0, 2));
      const om = digits.length > 2 ? Number(digits.slice(2)) : 0;
      if (oh > 23 || om > 59) return undefined;
      offsetMinutes = (zone[0] === '-' ? -1 : 1) * (oh * 60 + om);
    }
  }
  const nanos = frac.padEnd(9, '0').slice(0, 9);
  const utc = new Date(0);
  utc.setUTCFullYear(year, month - 1, day); // setUTCFullYear keeps years 0–99 literal, unlike Date.UTC
  utc.setUTCHours(hour, minute, second, Number(nanos.slice(0, 3)));
  return { epochMs: utc.getTime() - (offsetMinutes ?? 0) * 60_000, nanos, hasTime: h !== undefined, offsetMinutes };
}

/** Epoch milliseconds of an ISO date or datetime, or undefined when the text is not one (or not a real calendar date). */
export function isoToEpochMs(text: string): number | undefined {
  return parseIsoInstant(text)?.epochMs;
}

/** `YYYY-MM-DD` naming a real calendar day. */
export function isIsoDate(text: string): boolean {
  const parsed = parseIsoInstant(text);
  return parsed !== undefined && !parsed.hasTime;
}

/** A date, or a date with a time of day and optional offset. */
export function isIsoDatetime(text: string): boolean {
  return parseIsoInstant(text) !== undefined;
}

export function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}
