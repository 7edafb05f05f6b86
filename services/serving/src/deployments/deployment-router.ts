import type { ModelRef, StickyKey } from '@mlp/contracts';
import type { RequestRouter, RoutedLease, RoutingKey } from '../inference/inference.service';
import type { ModelManager } from '../models/model-manager';
import type { Rollout } from './deployment';

export type Arm = 'stable' | 'candidate';

/** FNV-1a (32 bit) over the UTF-8 bytes: the same key gives the same bucket in every process. */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** The sticky bucket 0..99 of a key within one rollout (salted by its id, so each experiment reshuffles keys). */
export const stickyBucket = (deploymentId: string, key: string) => fnv1a(`${deploymentId}:${key}`) % 100;

const GOLDEN = 0.6180339887498949;
const LATENCY_WINDOW = 4096;

/** Requests, failures and the recent latencies of one arm. */
export class ArmStats {
  requests = 0;
  errors = 0;
  private readonly latencies = new Float64Array(LATENCY_WINDOW);
  private filled = 0;
  private next = 0;

  add(ok: boolean, latencyMs: number): void {
    this.requests++;
    if (!ok) this.errors++;
    this.latencies[this.next] = latencyMs;
    this.next = (this.next + 1) % LATENCY_WINDOW;
    if (this.filled < LATENCY_WINDOW) this.filled++;
  }

  /** p99 of the last (at most 4096) latencies in milliseconds; null before the first request. */
  p99(): number | null {
    if (this.filled === 0) return null;
    const sorted = this.latencies.slice(0, this.filled).sort();
    return sorted[Math.min(this.filled - 1, Math.ceil(0.99 * this.filled) - 1)];
  }
}

/**
 * One active rollout as the router uses it: its split, the per-arm
 * statistics the automatic policy reads, and two low-discrepancy counters
 * (Weyl sequences) that spread unkeyed requests and mirrored requests over
 * the weights evenly, without randomness.
 */
export class LiveRollout {
  readonly stats: Record<Arm, ArmStats> = { stable: new ArmStats(), candidate: new ArmStats() };
  private n = 0;
  private m = 0;
  /** Candidate requests at which the policy is next evaluated. */
  nextEvaluation: number;

  constructor(
    readonly model: string,
    public rollout: Rollout,
    /** Epoch ms of the last change (start or shift): the schedule counts from it. */
    public changedAt: number,
  ) {
    this.nextEvaluation = rollout.policy?.minRequests ?? Infinity;
  }

  /** The arm of a request: by the key's bucket when the split is sticky and the request has a key, else spread by weight. */
  pick(key: string | undefined): Arm {
    const w = this.rollout.weights.candidate;
    if (w <= 0) return 'stable';
    if (w >= 100) return 'candidate';
    if (key !== undefined) return stickyBucket(this.rollout.deploymentId, key) < w ? 'candidate' : 'stable';
    this.n++;
    return (this.n * GOLDEN) % 1 < w / 100 ? 'candidate' : 'stable';
  }

  /** Whether this request is also mirrored to the candidate (shadow). */
  mirror(): boolean {
    const p = this.rollout.mirrorPercent;
    if (p <= 0) return false;
    this.m++;
    return (this.m * GOLDEN) % 1 < p / 100;
  }
}

export interface RouterHooks {
  /** After each routed request: `code` is OK or the error code. */
  onRouted?(live: LiveRollout, arm: Arm, version: number, code: string, latencyMs: number): void;
  /** The candidate reached the policy's next evaluation point. */
  onPolicyDue?(live: LiveRollout): void;
  /** A mirrored (shadow) request ended: never seen by the caller. */
  onMirrored?(model: string, version: number, code: string): void;
}

/**
 * Chooses the arm of each request to a model with an active rollout: the
 * alias the rollout splits (a bare model name counts as `production`). The
 * arm's version must be loaded here; until the candidate is loaded and warm
 * (or after it was dropped) the other arm answers. Requests naming a version
 * or another alias are not routed.
 */
export class DeploymentRouter implements RequestRouter {
  private readonly live = new Map<string, LiveRollout>();

  constructor(
    private readonly models: Pick<ModelManager, 'tryAcquire'>,
    private readonly hooks: RouterHooks = {},
  ) {}

  /** Sets (or clears) a model's active rollout; statistics carry over while the rollout id stays the same. */
  set(model: string, rollout: Rollout | null, changedAt: number): void {
    if (!rollout) {
      this.live.delete(model);
      return;
    }
    const current = this.live.get(model);
    if (current && current.rollout.deploymentId === rollout.deploymentId) {
      const shifted = current.rollout.weights.candidate !== rollout.weights.candidate;
      current.rollout = rollout;
      if (shifted) current.changedAt = changedAt;
      return;
    }
    this.live.set(model, new LiveRollout(model, rollout, changedAt));
  }

  get(model: string): LiveRollout | undefined {
    return this.live.get(model);
  }

  all(): LiveRollout[] {
    return [...this.live.values()];
  }

  acquire(ref: ModelRef, key: RoutingKey): RoutedLease | undefined {
    if (this.live.size === 0) return undefined;
    const live = this.live.get(ref.name);
    if (!live) return undefined;
    const r = live.rollout;
    if ((ref.alias ?? 'production') !== r.alias) return undefined;
    const picked = live.pick(r.sticky ? keyOf(r.sticky, key) : undefined);
    let arm: Arm = picked;
    let version = arm === 'candidate' ? r.candidateVersion : r.stableVersion;
    let lease = this.models.tryAcquire(ref.name, version, arm);
    if (!lease) {
      arm = picked === 'candidate' ? 'stable' : 'candidate';
      version = arm === 'candidate' ? r.candidateVersion : r.stableVersion;
      lease = this.models.tryAcquire(ref.name, version, arm);
    }
    if (!lease) return undefined;
    const mirrorVersion = r.strategy === 'shadow' && live.mirror() ? r.candidateVersion : undefined;
    return {
      served: lease.served,
      arm,
      mirrorVersion,
      done: (code, latencyMs) => this.observe(live, arm, version, code, latencyMs),
    };
  }

  mirrored(model: string, version: number, code: string): void {
    this.hooks.onMirrored?.(model, version, code);
  }

  private observe(live: LiveRollout, arm: Arm, version: number, code: string, latencyMs: number): void {
    live.stats[arm].add(code === 'OK', latencyMs);
    this.hooks.onRouted?.(live, arm, version, code, latencyMs);
    if (arm === 'candidate' && live.stats.candidate.requests >= live.nextEvaluation && this.live.get(live.model) === live) {
      live.nextEvaluation += live.rollout.policy?.minRequests ?? Infinity;
      this.hooks.onPolicyDue?.(live);
    }
  }
}

function keyOf(sticky: StickyKey, key: RoutingKey): string | undefined {
  return 'header' in sticky ? key.header(sticky.header) : key.field(sticky.field);
}
