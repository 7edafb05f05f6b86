import type { DomainEvent, MonitoringPolicy } from '@mlp/contracts';
import type { Decider } from '@mlp/eventstore';

export type OnlineUpdateEvent = DomainEvent<'MonitoringPolicyApplied' | 'OnlineUpdateRequested'>;

/** Labelled rows of the served version, already stored as an artifact. */
export interface RequestOnlineUpdate {
  type: 'RequestOnlineUpdate';
  model: string;
  version: number;
  rows: number;
  rowsArtifactKey: string;
  sha256: string;
  /** When the rows were complete (time enters only through commands). */
  at: string;
}

/** A model's online-learning bounds and its last update (stream `monitor-<model>`). */
export interface OnlineUpdateState {
  config: MonitoringPolicy['onlineLearning'] | null;
  lastAt: string | null;
  /** Update ids already requested: the same rows are never requested twice. */
  requested: string[];
}

/** The update id: one per (version, rows content). */
export const onlineUpdateId = (version: number, sha256: string): string => `v${version}-${sha256.slice(0, 16)}`;

/** Whether `rows` labelled rows at `at` pass the policy's bounds (enabled, minLabels, minIntervalMinutes since the last update). */
export function withinBounds(state: OnlineUpdateState, rows: number, at: string): boolean {
  if (!state.config?.enabled || rows < state.config.minLabels) return false;
  return state.lastAt === null || Date.parse(at) - Date.parse(state.lastAt) >= state.config.minIntervalMinutes * 60_000;
}

/**
 * The rate bound of online learning as a pure decider: an update is requested
 * only when the policy enables it, at least `minLabels` rows are given, and
 * `minIntervalMinutes` passed since the last recorded update. The last update
 * is folded from the stream, so a restart neither doubles nor loses it.
 */
export const onlineUpdateDecider: Decider<RequestOnlineUpdate, OnlineUpdateState, OnlineUpdateEvent> = {
  initialState: () => ({ config: null, lastAt: null, requested: [] }),
  evolve(state, event) {
    if (event.type === 'MonitoringPolicyApplied') return { ...state, config: event.data.policy.onlineLearning ?? null };
    if (event.type === 'OnlineUpdateRequested') return { ...state, lastAt: event.data.at, requested: [...state.requested.slice(-99), event.data.updateId] };
    return state;
  },
  decide(c, state) {
    const updateId = onlineUpdateId(c.version, c.sha256);
    if (!withinBounds(state, c.rows, c.at) || state.requested.includes(updateId)) return [];
    return [
      {
        type: 'OnlineUpdateRequested',
        data: { updateId, model: c.model, version: c.version, rowsArtifactKey: c.rowsArtifactKey, rows: c.rows, sha256: c.sha256, at: c.at },
      },
    ];
  },
};
