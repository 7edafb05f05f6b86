/**
 * Durations of feature windows and TTLs: an integer and a unit, optionally
 * repeated (`30m`, `12h`, `7d`, `2w`, `1h30m`). Units: s, m (minutes), h, d
 * (24 hours), w (7 days). Months and years are not accepted: their length
 * varies.
 */
const unitSeconds: Record<string, number> = { s: 1, m: 60, h: 3_600, d: 86_400, w: 604_800 };

/** 100 years: keeps every window in microseconds below 2^53 (exact in SQL and JS). */
export const maxDurationSeconds = 100 * 365 * 86_400;

const durationPattern = /^(?:\d+[smhdw])+$/;

export type DurationParse = { ok: true; seconds: number } | { ok: false; message: string };

export function parseDuration(text: string): DurationParse {
  const trimmed = text.trim();
  if (!durationPattern.test(trimmed)) {
    return { ok: false, message: `expected a duration such as 30m, 12h, 7d or 2w (units s, m, h, d, w), received ${JSON.stringify(text)}` };
  }
  let seconds = 0;
  for (const [, amount, unit] of trimmed.matchAll(/(\d+)([smhdw])/g)) seconds += Number(amount) * unitSeconds[unit];
  if (seconds <= 0) return { ok: false, message: `must be positive, received ${JSON.stringify(text)}` };
  if (seconds > maxDurationSeconds) return { ok: false, message: `must be at most 100 years, received ${JSON.stringify(text)}` };
  return { ok: true, seconds };
}

/** Seconds of a duration; throws on a malformed one. */
export function durationSeconds(text: string): number {
  const parsed = parseDuration(text);
  if (!parsed.ok) throw new RangeError(parsed.message);
  return parsed.seconds;
}

/** Shortest exact spelling: 604800 → `1w`, 90000 → `1d1h`. */
export function formatDuration(seconds: number): string {
  if (!Number.isInteger(seconds) || seconds <= 0) return `${seconds}s`;
  let rest = seconds;
  let out = '';
  for (const unit of ['w', 'd', 'h', 'm', 's']) {
    const size = unitSeconds[unit];
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return out;
}
