import { createHash } from 'node:crypto';
import type { ProjectionCheck, ProjectionDifference, RecordedEvent } from '@mlp/contracts';
import type { EventFilter, EventStore } from './event-store';
import type { Projection } from './projection';

/** A projection that can render everything its queries read as plain, deterministic data. */
export interface VerifiableProjection extends Projection {
  /** Plain data (maps/sets are fine: `canonical` orders them); equal read models give equal snapshots. */
  snapshot(): unknown;
}

/**
 * A live read model as verification sees it: a ProjectionRunner over a
 * VerifiableProjection fits, and so does a hand-written subscription that
 * tracks the last position it handled.
 */
export interface LiveReadModel {
  readonly store: EventStore;
  /** Last global position the live side has handled. */
  readonly position: number;
  readonly projection: { readonly name: string; readonly version: number; readonly filter: EventFilter; snapshot(): unknown };
}

/**
 * JSON-ready canonical form: object keys sorted, undefined members dropped,
 * Maps as objects with sorted keys, Sets as sorted arrays, Dates as ISO
 * strings, non-finite numbers as strings (JSON would turn them into null).
 * Array order is kept: it means something (histories, versions).
 */
export function canonical(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'bigint':
      return value.toString();
    case 'function':
    case 'symbol':
      return null;
  }
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(canonical);
  if (ArrayBuffer.isView(value)) return Array.from(value as unknown as ArrayLike<number>, canonical);
  if (value instanceof Map) return sortedObject([...value].map(([k, v]) => [String(k), v]));
  if (value instanceof Set) {
    return [...value].map(canonical).sort((a, b) => compare(JSON.stringify(a), JSON.stringify(b)));
  }
  return sortedObject(Object.entries(value as Record<string, unknown>));
}

function sortedObject(entries: [string, unknown][]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries.sort(([a], [b]) => compare(a, b))) {
    if (v !== undefined && typeof v !== 'function') out[k] = canonical(v);
  }
  return out;
}

/** Code-point order: the same on every machine and locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** sha256 of the canonical JSON. */
export function snapshotHash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(canonical(value))).digest('hex');
}

const ABSENT = '(absent)';

/** The first `limit` paths where two canonical snapshots differ, depth first in key order. */
export function diffSnapshots(live: unknown, rebuilt: unknown, limit = 10): ProjectionDifference[] {
  const out: ProjectionDifference[] = [];
  diffSlots({ value: canonical(live) }, { value: canonical(rebuilt) }, '', out, limit);
  return out;
}

/** A value at a path, or undefined where that side has none. */
type Slot = { value: unknown } | undefined;

function diffSlots(a: Slot, b: Slot, path: string, out: ProjectionDifference[], limit: number): void {
  if (out.length >= limit) return;
  if (a && b) {
    const [x, y] = [a.value, b.value];
    if (Array.isArray(x) && Array.isArray(y)) {
      for (let i = 0; i < Math.max(x.length, y.length) && out.length < limit; i++) {
        diffSlots(i < x.length ? { value: x[i] } : undefined, i < y.length ? { value: y[i] } : undefined, `${path}[${i}]`, out, limit);
      }
      return;
    }
    if (isObject(x) && isObject(y)) {
      const keys = [...new Set([...Object.keys(x), ...Object.keys(y)])].sort(compare);
      for (const k of keys) {
        if (out.length >= limit) return;
        diffSlots(k in x ? { value: x[k] } : undefined, k in y ? { value: y[k] } : undefined, member(path, k), out, limit);
      }
      return;
    }
    if (x === y) return;
  }
  out.push({ path: path || '(root)', live: a ? preview(a.value) : ABSENT, rebuilt: b ? preview(b.value) : ABSENT });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function member(path: string, key: string): string {
  const part = /^[A-Za-z_$][\w$]*$/.test(key) ? key : JSON.stringify(key);
  return /^[A-Za-z_$]/.test(part) ? (path ? `${path}.${part}` : part) : `${path}[${part}]`;
}

function preview(value: unknown): string {
  const text = JSON.stringify(value);
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

export interface VerifyOptions {
  /** Compare again this many times while they differ (the live side may still be catching up). Default 3. */
  attempts?: number;
  /** Pause between attempts. Default 250 ms. */
  retryDelayMs?: number;
  /** Differences reported at most. Default 10. */
  maxDiffs?: number;
  /** Page size when reading the log. Default 1000. */
  pageSize?: number;
}

/**
 * Rebuilds `fresh` (a new, empty instance) from position 1 up to the live
 * side's position and compares the canonical snapshots. A difference is
 * compared again after a pause, feeding the rebuild further when the live side
 * has moved on, so only a lasting difference is reported.
 */
export async function verifyProjection(live: LiveReadModel, fresh: VerifiableProjection, options: VerifyOptions = {}): Promise<ProjectionCheck> {
  const attempts = Math.max(1, options.attempts ?? 3);
  const feeder = new Feeder(live.store, fresh, options.pageSize ?? 1000);
  fresh.reset();
  for (let attempt = 1; ; attempt++) {
    const position = live.position;
    const liveSnapshot = canonical(live.projection.snapshot());
    await feeder.feedTo(position);
    const rebuilt = canonical(fresh.snapshot());
    const liveJson = JSON.stringify(liveSnapshot);
    const rebuiltJson = JSON.stringify(rebuilt);
    const equal = liveJson === rebuiltJson;
    if (equal || attempt >= attempts) {
      return {
        name: live.projection.name,
        version: live.projection.version,
        position,
        events: feeder.handled,
        equal,
        liveHash: sha256(liveJson),
        rebuiltHash: sha256(rebuiltJson),
        ...(equal ? {} : { diff: diffSnapshots(liveSnapshot, rebuilt, options.maxDiffs ?? 10) }),
      };
    }
    await new Promise((r) => setTimeout(r, options.retryDelayMs ?? 250));
  }
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Reads the log page by page into a projection, never past a given position. */
class Feeder {
  handled = 0;
  private next = 1;

  constructor(
    private readonly store: EventStore,
    private readonly projection: Projection,
    private readonly pageSize: number,
  ) {}

  async feedTo(position: number): Promise<void> {
    while (this.next <= position) {
      const page: RecordedEvent[] = await this.store.readAll({ fromPosition: this.next, maxCount: this.pageSize, filter: this.projection.filter });
      if (page.length === 0) {
        // Nothing of this filter up to `position` (a filtered page may also come back short before the end).
        this.next = position + 1;
        return;
      }
      for (const event of page) {
        if (event.position > position) {
          this.next = position + 1;
          return;
        }
        if (this.projection.canHandle(event)) {
          await this.projection.handle(event);
          this.handled++;
        }
        this.next = event.position + 1;
      }
    }
  }
}
