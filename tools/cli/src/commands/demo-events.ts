import { call } from '../api';
import type { EventRow } from './events';

/** An event as monitoring's `GET /events` shows it, its data typed as the caller expects. */
export type LoggedEvent<D = Record<string, unknown>> = Omit<EventRow, 'data'> & { data: D };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Events of `type` (newest last), optionally of one stream, read from monitoring's event log. */
export async function readEvents<D = Record<string, unknown>>(type: string, stream?: string, env: NodeJS.ProcessEnv = process.env): Promise<LoggedEvent<D>[]> {
  const q = new URLSearchParams({ type, limit: '1000', ...(stream ? { stream } : {}) });
  const page = await call<{ events: LoggedEvent<D>[] }>('monitoring', 'GET', `/events?${q}`, undefined, env);
  return [...page.events].sort((a, b) => a.position - b.position);
}

/**
 * Polls the event log until an event of `type` (of `stream`, after
 * position `after`, matching `where`) is there; fails after `timeoutMs` naming what it waited for.
 * `tick` runs between polls (traffic that makes the event happen).
 */
export async function awaitEvent<D = Record<string, unknown>>(
  type: string,
  options: { stream?: string; after?: number; where?: (e: LoggedEvent<D>) => boolean; timeoutMs?: number; tick?: () => Promise<void> } = {},
  env: NodeJS.ProcessEnv = process.env,
): Promise<LoggedEvent<D>> {
  const { stream, after = 0, where = () => true, timeoutMs = 120_000, tick } = options;
  const t0 = Date.now();
  for (;;) {
    const found = (await readEvents<D>(type, stream, env)).find((e) => e.position > after && where(e));
    if (found) return found;
    if (Date.now() - t0 > timeoutMs) throw new Error(`demo failed: no ${type}${stream ? ` in ${stream}` : ''} within ${Math.round(timeoutMs / 1000)} s`);
    if (tick) await tick();
    else await sleep(200);
  }
}

/** The position of the newest event in the log (0 when it is empty): what came before a step is told apart from what it caused. */
export async function headPosition(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const page = await call<{ events: LoggedEvent[] }>('monitoring', 'GET', '/events?limit=1', undefined, env);
  return page.events[0]?.position ?? 0;
}

/** The first 8 characters of an id: enough to tell runs apart in the demo's output. */
export const shortId = (id: string) => id.slice(0, 8);
