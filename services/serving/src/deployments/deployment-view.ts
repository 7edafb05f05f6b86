import type { DeploymentView, RecordedEvent } from '@mlp/contracts';
import { evolve, initialState, type DeploymentEvent, type DeploymentState } from './deployment';

/** Folds a deployment stream and renders it: the split in force and the whole history, event by event. */
export function deploymentView(model: string, events: readonly RecordedEvent[]): DeploymentView {
  let state: DeploymentState = initialState();
  let startedAt = '';
  for (const e of events) {
    state = evolve(state, { type: e.type, data: e.data } as DeploymentEvent);
    if (e.type === 'DeploymentStarted') startedAt = e.occurredAt;
  }
  const history = events.map((e) => ({ type: e.type, at: e.occurredAt, actor: e.actor, revision: e.revision, data: e.data as Record<string, unknown> }));
  const revision = events.length ? events[events.length - 1].revision : -1;
  if (state.status === 'Empty') return { model, revision, active: null, split: [], mirror: null, stableVersion: null, lastDecision: null, history };
  if (state.status === 'Idle') {
    return { model, revision, active: null, split: [{ arm: 'stable', version: state.stableVersion, weight: 100 }], mirror: null, stableVersion: state.stableVersion, lastDecision: state.lastDecision, history };
  }
  const r = state.rollout;
  return {
    model,
    revision,
    active: { ...r, startedAt },
    split: [
      { arm: 'stable', version: r.stableVersion, weight: r.weights.stable },
      { arm: 'candidate', version: r.candidateVersion, weight: r.weights.candidate },
    ],
    mirror: r.mirrorPercent > 0 ? { version: r.candidateVersion, percent: r.mirrorPercent } : null,
    stableVersion: r.stableVersion,
    lastDecision: state.lastDecision,
    history,
  };
}
