import type { RecordedEvent } from '@mlp/contracts';
import type { EventStore } from '@mlp/eventstore';
import type { DistributedPlatform } from '@mlp/testing';

/** The whole JetStream log, page by page, in position order. */
export async function readLog(events: EventStore): Promise<RecordedEvent[]> {
  const all: RecordedEvent[] = [];
  for (;;) {
    const page = await events.readAll({ fromPosition: (all.at(-1)?.position ?? 0) + 1, maxCount: 1000 });
    all.push(...page);
    if (page.length < 1000) return all;
  }
}

/** What a consistent log looks like, as one value for a single `toEqual`: empty lists and zero counts. */
export interface LogProblems {
  /** Event ids stored more than once. */
  duplicateIds: string[];
  /** Positions out of order or missing (1..N with no gap). */
  positionGaps: number;
  /** Streams whose revisions are not exactly 0..n-1. */
  revisionGaps: string[];
}

export function logProblems(log: readonly RecordedEvent[]): LogProblems {
  const seen = new Set<string>();
  const duplicateIds: string[] = [];
  let positionGaps = 0;
  const revisions = new Map<string, number[]>();
  log.forEach((e, i) => {
    if (seen.has(e.id)) duplicateIds.push(e.id);
    seen.add(e.id);
    if (e.position !== i + 1) positionGaps++;
    revisions.set(e.stream, [...(revisions.get(e.stream) ?? []), e.revision]);
  });
  const revisionGaps = [...revisions].filter(([, r]) => r.some((rev, i) => rev !== i)).map(([s]) => s);
  return { duplicateIds, positionGaps, revisionGaps };
}

export const NO_PROBLEMS: LogProblems = { duplicateIds: [], positionGaps: 0, revisionGaps: [] };

/** The events of one stream of the log, of `type`. */
export const ofType = (log: readonly RecordedEvent[], stream: string, type: string) => log.filter((e) => e.stream === stream && e.type === type);

/**
 * The answers of a service's read endpoints, as JSON: taken before and after
 * a clean restart (which rebuilds every projection from the log), they must be equal.
 */
export async function snapshot(platform: DistributedPlatform, name: string, paths: readonly string[]): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const path of paths) {
    const res = await platform.call(name, 'GET', path);
    out[path] = { status: res.status, body: res.body };
  }
  return out;
}

/**
 * `POST /admin/projections/verify` when the service answers it (a live read
 * model against a fresh rebuild); undefined where the endpoint does not exist yet.
 */
export async function verifyProjections(platform: DistributedPlatform, name: string): Promise<{ name: string; equal: boolean }[] | undefined> {
  const res = await platform.call(name, 'POST', '/admin/projections/verify', {});
  if (res.status === 404) return undefined;
  expect(res.status).toBeLessThan(300);
  return (res.body.projections as { name: string; equal: boolean }[]).map(({ name: n, equal }) => ({ name: n, equal }));
}

/** Milliseconds since `t0`, rounded: recovery figures printed by the specs. */
export const since = (t0: number) => Math.round(performance.now() - t0);
