import type { EventView, RecordedEvent } from '@mlp/contracts';
import type { EventStore } from '@mlp/eventstore';

export const eventView = (e: RecordedEvent): EventView => ({
  position: e.position,
  id: e.id,
  type: e.type,
  stream: e.stream,
  revision: e.revision,
  occurredAt: e.occurredAt,
  correlationId: e.correlationId,
  causationId: e.causationId,
  actor: e.actor,
  data: e.data,
});

export interface EventQuery {
  /** Events after this global position; absent: the newest `limit` matches. */
  after?: number;
  limit: number;
  stream?: string;
  type?: string;
  correlation?: string;
}

export interface EventPage {
  events: EventView[];
  /** Position to pass as `after` for the next page (the last one scanned). */
  next: number;
  head: number;
}

const PAGE = 1000;
/** At most this many events are scanned per request, so a rare filter cannot hold a request forever. */
const MAX_SCANNED = 200_000;

const matches = (q: EventQuery) => (e: RecordedEvent) =>
  (q.stream === undefined || e.stream === q.stream) && (q.type === undefined || e.type === q.type) && (q.correlation === undefined || e.correlationId === q.correlation);

/**
 * A page of the global log, filtered by stream, type and correlation id.
 * With `after`, the first `limit` matches after it, in position order;
 * without it, the last `limit` matches (the tail), still in position order.
 */
export async function readEventPage(store: EventStore, head: number, q: EventQuery): Promise<EventPage> {
  const keep = matches(q);
  if (q.after !== undefined) {
    const events: EventView[] = [];
    let from = q.after + 1;
    let scanned = 0;
    while (events.length < q.limit && scanned < MAX_SCANNED) {
      const page = await store.readAll({ fromPosition: from, maxCount: PAGE });
      if (page.length === 0) break;
      for (const e of page) {
        from = e.position + 1;
        if (keep(e)) events.push(eventView(e));
        if (events.length === q.limit) break;
      }
      scanned += page.length;
    }
    return { events, next: from - 1, head };
  }
  // The tail: walk back from the head a page at a time until enough matched.
  const found: EventView[][] = [];
  let count = 0;
  let end = head;
  while (end >= 1 && count < q.limit && head - end < MAX_SCANNED) {
    const start = Math.max(1, end - PAGE + 1);
    const page = (await store.readAll({ fromPosition: start, maxCount: end - start + 1 })).filter((e) => e.position <= end && keep(e));
    const take = page.slice(Math.max(0, page.length - (q.limit - count))).map(eventView);
    found.unshift(take);
    count += take.length;
    end = start - 1;
  }
  return { events: found.flat(), next: head, head };
}
