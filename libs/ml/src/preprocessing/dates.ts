import { parseIsoInstant } from '@mlp/data';
import type { Cell } from './frame';

/*
 * Dates as features: reading date cells and taking them apart.
 *
 * A date cell is
 * - a number: epoch milliseconds (what the training loader makes of DATE and
 *   TIMESTAMP columns);
 * - or text in one of these forms, read in UTC unless the text gives a zone:
 *   - ISO 8601 (`2024-02-29`, `2024-02-29T23:30:00+02:00`, `… 23:30:00.5Z`,
 *     `…+0200`; see @mlp/data `parseIsoInstant`);
 *   - `YYYY/MM/DD` (year first is never ambiguous);
 *   - `DD.MM.YYYY` (day first, as everywhere the dotted form is used);
 *   - `DD/MM/YYYY` or `MM/DD/YYYY`: which one is decided per column from its
 *     values ({@link slashOrderOf}): day first when some first field is above
 *     12, month first when some second field is; a column where neither ever
 *     happens is ambiguous, and one where both happen is not a date column.
 *   Day and month may have one digit in the non-ISO forms. Each may be
 *   followed by a time of day and zone as in ISO 8601 (`31.12.2024 23:59`,
 *   `2024/12/31T23:59:59Z`). Surrounding spaces are ignored.
 */

/** Parts a date is taken apart into, in output order. `dayofweek` is Monday = 0 … Sunday = 6; `epoch` is seconds since 1970-01-01T00:00Z. */
export const datePartNames = ['year', 'month', 'day', 'dayofweek', 'dayofyear', 'hour', 'minute', 'is_weekend', 'epoch'] as const;
export type DatePartName = (typeof datePartNames)[number];

/** Order of day and month in `NN/NN/YYYY` dates. */
export type SlashOrder = 'dmy' | 'mdy';

const YMD_SLASH = /^(\d{4})\/(\d{1,2})\/(\d{1,2})([Tt ].*)?$/;
const DMY_DOT = /^(\d{1,2})\.(\d{1,2})\.(\d{4})([Tt ].*)?$/;
const SLASH = /^(\d{1,2})\/(\d{1,2})\/(\d{4})([Tt ].*)?$/;

const pad2 = (s: string) => s.padStart(2, '0');

/**
 * Epoch milliseconds of a date cell, or undefined when it is missing or not
 * a date. `NN/NN/YYYY` text needs `slashOrder` (undefined without it).
 */
export function parseDateCell(value: Cell | undefined, slashOrder?: SlashOrder): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  const iso = parseIsoInstant(text);
  if (iso) return iso.epochMs;
  let m = YMD_SLASH.exec(text);
  if (m) return parseIsoInstant(`${m[1]}-${pad2(m[2])}-${pad2(m[3])}${m[4] ?? ''}`)?.epochMs;
  m = DMY_DOT.exec(text);
  if (m) return parseIsoInstant(`${m[3]}-${pad2(m[2])}-${pad2(m[1])}${m[4] ?? ''}`)?.epochMs;
  m = SLASH.exec(text);
  if (m && slashOrder) {
    const [day, month] = slashOrder === 'dmy' ? [m[1], m[2]] : [m[2], m[1]];
    return parseIsoInstant(`${m[3]}-${pad2(month)}-${pad2(day)}${m[4] ?? ''}`)?.epochMs;
  }
  return undefined;
}

/**
 * The day/month order of a column's `NN/NN/YYYY` values: `dmy` when some
 * first field is above 12 (and no second one), `mdy` when some second field
 * is (and no first one), `ambiguous` when neither, `inconsistent` when both,
 * `none` when the column has no such values.
 */
export function slashOrderOf(values: Iterable<Cell | undefined>): SlashOrder | 'ambiguous' | 'inconsistent' | 'none' {
  let seen = false;
  let firstOver12 = false;
  let secondOver12 = false;
  for (const v of values) {
    if (typeof v !== 'string') continue;
    const m = SLASH.exec(v.trim());
    if (!m) continue;
    seen = true;
    if (Number(m[1]) > 12) firstOver12 = true;
    if (Number(m[2]) > 12) secondOver12 = true;
  }
  if (!seen) return 'none';
  if (firstOver12 && secondOver12) return 'inconsistent';
  return firstOver12 ? 'dmy' : secondOver12 ? 'mdy' : 'ambiguous';
}

const DAY_MS = 86_400_000;
const CUMULATIVE_DAYS = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

/** Every part of an instant, in UTC. */
export function dateParts(epochMs: number): Record<DatePartName, number> {
  const d = new Date(epochMs);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth() + 1;
  const day = d.getUTCDate();
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const dayofweek = (d.getUTCDay() + 6) % 7;
  const msOfDay = ((epochMs % DAY_MS) + DAY_MS) % DAY_MS;
  return {
    year,
    month,
    day,
    dayofweek,
    dayofyear: CUMULATIVE_DAYS[month - 1] + day + (leap && month > 2 ? 1 : 0),
    hour: Math.floor(msOfDay / 3_600_000),
    minute: Math.floor(msOfDay / 60_000) % 60,
    is_weekend: dayofweek >= 5 ? 1 : 0,
    epoch: epochMs / 1000,
  };
}
