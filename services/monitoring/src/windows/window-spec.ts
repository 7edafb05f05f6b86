import { ValidationError } from '@mlp/contracts';
import { parseDuration } from '@mlp/ml';

/** A current window: closed after `size` predictions, or once telemetry time passes `durationMs` from its first row. */
export type WindowSpec = { size: number } | { durationMs: number };

export const DEFAULT_WINDOW: WindowSpec = { size: 1000 };

/** `1000` (rows) or a duration such as `15m`, `1h`, `1d` (MLP_MONITORING_WINDOW). */
export function parseWindowSpec(text: string, path = 'window'): WindowSpec {
  const t = text.trim();
  if (/^[1-9][0-9]*$/.test(t)) return { size: Number(t) };
  const d = parseDuration(t);
  if (d.ok) return { durationMs: d.seconds * 1000 };
  throw new ValidationError(`invalid window '${text}': a row count (1000) or a duration (15m, 1h, 1d)`, [{ path, message: 'a positive row count or a duration like 15m, 1h, 1d' }]);
}

export const windowKind = (spec: WindowSpec): 'count' | 'time' => ('size' in spec ? 'count' : 'time');
