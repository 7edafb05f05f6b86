import type { RecordedEvent, ServiceName } from '@mlp/contracts';
import { JetStreamEventStore, type EventStore } from '@mlp/eventstore';
import { SeededRng } from '@mlp/ml';
import { eventually, penguinRows, penguinsTraffic, startDistributedPlatform, type DistributedPlatform, type DistributedPlatformOptions } from '@mlp/testing';

/**
 * What the fault specs share: the distributed platform with its services
 * started, a reader of its JetStream log, seeded penguin traffic for serving
 * (with the `predict` key a spec makes), and figures printed once at the end.
 */
export class FaultRig {
  platform!: DistributedPlatform;
  events!: JetStreamEventStore;
  /** A key with the predict scope, made by the spec once penguins is served. */
  predictKey = '';
  readonly figures: Record<string, unknown> = {};
  private readonly rng: SeededRng;
  private readonly rows = penguinRows();

  constructor(
    seed: number,
    private readonly findTimeoutMs: number,
  ) {
    this.rng = new SeededRng(seed);
  }

  /** The platform, then `groups` of services one group after the other (a group's services at once), then the log reader. */
  async start(options: DistributedPlatformOptions, groups: readonly (readonly ServiceName[])[]): Promise<void> {
    this.platform = await startDistributedPlatform(options);
    for (const group of groups) await this.startServices(group);
    this.events = await JetStreamEventStore.connect({ servers: this.platform.nats.url });
  }

  /** Starts (or restarts, on the same ports) services at once; serving without its gRPC server. */
  startServices(group: readonly ServiceName[]): Promise<unknown> {
    return Promise.all(group.map((s) => this.platform.start(s, s, s === 'serving' ? { MLP_SERVING_GRPC_PORT: '-1' } : {})));
  }

  /** `n` penguins from the seeded traffic to serving's JSON API, with the predict key. */
  predict(n: number) {
    const instances = penguinsTraffic(this.rows, this.rng, n).map((r) => r.features);
    return this.platform.call('serving', 'POST', '/v1/models/penguins:predict', { instances }, { key: this.predictKey });
  }

  /** Waits for the first event of `type` in `stream`. */
  find(stream: string, type: string, timeoutMs = this.findTimeoutMs): Promise<RecordedEvent> {
    return eventually(async () => (await this.events.readStream(stream)).find((e) => e.type === type), timeoutMs, `${type} in ${stream}`) as Promise<RecordedEvent>;
  }

  /** Prints the figures under `label`, then closes the reader and stops every process. */
  async stop(label: string): Promise<void> {
    console.log(`${label}: ${JSON.stringify(this.figures)}`);
    await this.events?.close();
    await this.platform?.stop();
  }
}

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
