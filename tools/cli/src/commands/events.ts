import type { EventView } from '@mlp/contracts';
import { call, CliError, parseReply, requestHeaders, serviceUrl, unreachable, UsageError } from '../api';
import { formatTable } from '../output';

const USAGE = 'usage: mlp events [--stream s] [--type T] [--correlation id] [--limit n] [--follow] [--json]';

/** One event as monitoring's `GET /events` and `/events/live` give it. */
export type EventRow = EventView;

export interface EventFilter {
  stream?: string;
  type?: string;
  correlation?: string;
}

export interface EventsArgs extends EventFilter {
  limit?: number;
  follow: boolean;
}

const VALUE_FLAGS = { '--stream': 'stream', '--type': 'type', '--correlation': 'correlation', '--limit': 'limit' } as const;

export function parseEventsArgs(args: string[]): EventsArgs {
  const parsed: EventsArgs = { follow: false };
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    if (flag === '--follow' || flag === '-f') {
      parsed.follow = true;
      continue;
    }
    const key = VALUE_FLAGS[flag as keyof typeof VALUE_FLAGS];
    const value = args[i + 1];
    if (!key || value === undefined || value.startsWith('--')) throw new UsageError(USAGE);
    if (key === 'limit') {
      if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`--limit: expected a positive integer, got ${value}\n${USAGE}`);
      parsed.limit = Number(value);
    } else parsed[key] = value;
    i++;
  }
  return parsed;
}

/** The `/events/live` feed has no filters: the CLI applies the same ones as `GET /events`. */
export const matchesFilter = (f: EventFilter) => (e: EventRow) =>
  (f.stream === undefined || e.stream === f.stream) && (f.type === undefined || e.type === f.type) && (f.correlation === undefined || e.correlationId === f.correlation);

const COLUMNS = ['position', 'time', 'type', 'stream', 'correlation'];
const row = (e: EventRow) => ({
  position: e.position,
  time: e.occurredAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
  type: e.type,
  stream: e.stream,
  correlation: e.correlationId.slice(0, 8),
});

/**
 * Table lines: `fixed` false sizes the columns to the rows (a one-off page);
 * true uses fixed widths, so lines printed later while following line up.
 */
export function eventLines(events: EventRow[], fixed: boolean): string[] {
  if (!fixed) return formatTable(events.map(row), COLUMNS, { right: ['position'] });
  return events.map((e) => fixedLine(row(e)));
}

const fixedLine = (r: { position: number | string; time: string; type: string; stream: string; correlation: string }) =>
  [String(r.position).padStart(8), r.time.padEnd(20), r.type.padEnd(30), r.stream.padEnd(36), r.correlation].join('  ').trimEnd();

/** The header line above fixed-width lines. */
export const followHeader = () => fixedLine({ position: 'POSITION', time: 'TIME', type: 'TYPE', stream: 'STREAM', correlation: 'CORRELATION' });

/**
 * Splits a server-sent-events byte stream into messages: returns the complete
 * ones in `buffer` (blank-line terminated) and the unfinished rest.
 */
export function parseSse(buffer: string): { messages: { event?: string; id?: string; data: string }[]; rest: string } {
  const messages: { event?: string; id?: string; data: string }[] = [];
  const blocks = buffer.replace(/\r\n/g, '\n').split('\n\n');
  const rest = blocks.pop() ?? '';
  for (const block of blocks) {
    const message: { event?: string; id?: string; data: string } = { data: '' };
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue; // comments: the start marker, heart-beats
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') message.event = value;
      else if (field === 'id') message.id = value;
      else if (field === 'data') data.push(value);
    }
    if (data.length) messages.push({ ...message, data: data.join('\n') });
  }
  return { messages, rest };
}

/** `mlp events`: a page of the global log (the newest `--limit`), then with `--follow` every new match until Ctrl-C. */
export async function events(args: string[], json: boolean): Promise<void> {
  const a = parseEventsArgs(args);
  const query = new URLSearchParams();
  for (const key of ['stream', 'type', 'correlation'] as const) if (a[key] !== undefined) query.set(key, a[key] as string);
  query.set('limit', String(a.limit ?? (a.follow ? 20 : 100)));
  const page = await call<{ events: EventRow[]; next: number; head: number }>('monitoring', 'GET', `/events?${query}`);
  const print = (batch: EventRow[], fixed: boolean) => {
    if (json) for (const e of batch) console.log(JSON.stringify(e));
    else for (const line of eventLines(batch, fixed)) console.log(line);
  };
  if (!a.follow) {
    if (!json && page.events.length === 0) console.log('no events');
    else print(page.events, false);
    return;
  }
  if (!json) console.log(followHeader());
  print(page.events, true);
  await follow(page.head, matchesFilter(a), (e) => print([e], true));
}

/** Reads `/events/live` from `after` on; a dropped connection (a restarted monitoring) resumes after the last event seen. */
async function follow(after: number, keep: (e: EventRow) => boolean, onEvent: (e: EventRow) => void): Promise<never> {
  let last = after;
  for (;;) {
    const url = `${serviceUrl('monitoring')}/events/live?after=${last}`;
    let response: Response;
    try {
      response = await fetch(url, { headers: { ...requestHeaders(), accept: 'text/event-stream' } });
    } catch {
      if (last === after) throw unreachable('monitoring');
      await new Promise((r) => setTimeout(r, 1000));
      continue;
    }
    // A refused request (auth, bad query) says why through the usual JSON error.
    if (!response.ok) parseReply(response.status, await response.text(), 'GET', url);
    if (!response.body) throw new CliError(`GET ${url} answered without a body`);
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of response.body) {
        buffer += decoder.decode(chunk as Uint8Array, { stream: true });
        const { messages, rest } = parseSse(buffer);
        buffer = rest;
        for (const m of messages) {
          if (m.event !== 'mlp') continue;
          const e = JSON.parse(m.data) as EventRow;
          if (e.position <= last) continue;
          last = e.position;
          if (keep(e)) onEvent(e);
        }
      }
    } catch {
      // The connection broke: reconnect below.
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}
