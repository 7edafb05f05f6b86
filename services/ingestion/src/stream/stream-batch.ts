import { asOneLine, type PushedLine } from '../push/push-rows';

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The NDJSON lines of one message: an object is one row (its bytes kept when
 * they are already one line), an array is one row per item, anything else is
 * one row that the ingestion quarantines with its reason (not JSON, not an
 * object, bad encoding). Nothing is dropped: an empty message is the row `""`.
 */
export function messageLines(data: Uint8Array): PushedLine[] {
  const raw = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(raw));
  } catch {
    return raw.toString('utf8').trim() === '' ? [Buffer.from('""')] : [asOneLine(raw)];
  }
  if (Array.isArray(value)) return value.map((item) => Buffer.from(JSON.stringify(item) ?? 'null', 'utf8'));
  if (typeof value === 'object' && value !== null) {
    const line = asOneLine(raw);
    return line === raw ? [raw] : [Buffer.from(JSON.stringify(value), 'utf8')];
  }
  return [Buffer.from(JSON.stringify(value), 'utf8')];
}

interface Held<M> {
  seq: number;
  /** The latest delivery: acks go to its reply subject. */
  msg: M;
  lines: PushedLine[];
}

/** What a flush ingests, given the highest stream sequence already stored. */
export interface FlushPlan<M> {
  /** In stream order. */
  keep: Held<M>[];
  rows: number;
  range: { first: number; last: number } | null;
}

/**
 * The messages of a micro-batch, keyed by stream sequence: a redelivery of a
 * held message replaces the delivery to ack, never adds a row.
 */
export class StreamBatch<M> {
  private readonly held = new Map<number, Held<M>>();
  private rowCount = 0;
  /** When the first message was added (ms), or null when empty. */
  firstAt: number | null = null;

  /** False when the sequence was already held (a redelivery). */
  add(seq: number, msg: M, lines: () => PushedLine[], now = Date.now()): boolean {
    const held = this.held.get(seq);
    if (held) {
      held.msg = msg;
      return false;
    }
    const rows = lines();
    this.held.set(seq, { seq, msg, lines: rows });
    this.rowCount += rows.length;
    this.firstAt ??= now;
    return true;
  }

  get messages(): number {
    return this.held.size;
  }

  get rows(): number {
    return this.rowCount;
  }

  /** Removes the messages at or below `seq` (already stored) and returns their deliveries, to ack. */
  dropUpTo(seq: number): M[] {
    const dropped: M[] = [];
    for (const [s, h] of this.held) {
      if (s > seq) continue;
      this.held.delete(s);
      this.rowCount -= h.lines.length;
      dropped.push(h.msg);
    }
    if (this.held.size === 0) this.firstAt = null;
    return dropped;
  }

  plan(storedLast: number): FlushPlan<M> {
    const keep = [...this.held.values()].filter((h) => h.seq > storedLast).sort((a, b) => a.seq - b.seq);
    const rows = keep.reduce((n, h) => n + h.lines.length, 0);
    const range = keep.length > 0 ? { first: keep[0].seq, last: keep[keep.length - 1].seq } : null;
    return { keep, rows, range };
  }

  /** Every held delivery (to ack after the version is stored). */
  deliveries(): M[] {
    return [...this.held.values()].map((h) => h.msg);
  }

  clear(): void {
    this.held.clear();
    this.rowCount = 0;
    this.firstAt = null;
  }
}
