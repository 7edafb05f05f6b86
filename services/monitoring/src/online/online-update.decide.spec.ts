import { monitoringPolicySchema, type MonitoringPolicyInput } from '@mlp/contracts';
import { deciderSpec } from '@mlp/testing';
import { parsePolicy } from '../policies/policy';
import { onlineUpdateDecider, onlineUpdateId, type OnlineUpdateEvent, type RequestOnlineUpdate } from './online-update.decide';

const spec = deciderSpec(onlineUpdateDecider);

const applied = (onlineLearning?: MonitoringPolicyInput['onlineLearning']): OnlineUpdateEvent => {
  const policy = monitoringPolicySchema.parse({ model: 'churn', window: { size: 100 }, ...(onlineLearning ? { onlineLearning } : {}) });
  return { type: 'MonitoringPolicyApplied', data: { model: 'churn', policy, sha256: 'a'.repeat(64) } };
};
const hash = (c: string) => c.repeat(64);
const request = (rows: number, at: string, sha256 = hash('1')): RequestOnlineUpdate => ({
  type: 'RequestOnlineUpdate',
  model: 'churn',
  version: 2,
  rows,
  rowsArtifactKey: `sha256/${sha256}`,
  sha256,
  at,
});
const requested = (c: RequestOnlineUpdate): OnlineUpdateEvent => ({
  type: 'OnlineUpdateRequested',
  data: { updateId: onlineUpdateId(c.version, c.sha256), model: c.model, version: c.version, rowsArtifactKey: c.rowsArtifactKey, rows: c.rows, sha256: c.sha256, at: c.at },
});

describe('online update decider (rate bound)', () => {
  const enabled = applied({ enabled: true, minLabels: 50, minIntervalMinutes: 30 });

  it('defaults the bounds to 200 labels and 60 minutes', () => {
    const e = applied({ enabled: true });
    expect(e.type === 'MonitoringPolicyApplied' && e.data.policy.onlineLearning).toEqual({ enabled: true, minLabels: 200, minIntervalMinutes: 60 });
  });

  it('validates the bounds with field-level errors', () => {
    let details: { path: string; message: string }[] = [];
    try {
      parsePolicy({ model: 'churn', window: { size: 100 }, onlineLearning: { enabled: true, minLabels: 0, minIntervalMinutes: 1.5, rate: 3 } });
    } catch (err) {
      details = (err as { details: { path: string; message: string }[] }).details;
    }
    expect(details.map((d) => d.path).sort()).toEqual(['onlineLearning', 'onlineLearning.minIntervalMinutes', 'onlineLearning.minLabels']);
  });

  it('requests nothing without a policy, or when online learning is off or absent', () => {
    spec.given([]).when(request(500, '2026-01-01T00:00:00Z')).then([]);
    spec.given([applied()]).when(request(500, '2026-01-01T00:00:00Z')).then([]);
    spec.given([applied({ enabled: false, minLabels: 10, minIntervalMinutes: 1 })]).when(request(500, '2026-01-01T00:00:00Z')).then([]);
  });

  it('waits for minLabels rows', () => {
    spec.given([enabled]).when(request(49, '2026-01-01T00:00:00Z')).then([]);
    const c = request(50, '2026-01-01T00:00:00Z');
    spec.given([enabled]).when(c).then([requested(c)]);
  });

  it('requests at most one update per minIntervalMinutes, counted from the recorded last one', () => {
    const first = request(60, '2026-01-01T00:00:00Z');
    spec.given([enabled, requested(first)]).when(request(60, '2026-01-01T00:29:59Z', hash('2'))).then([]);
    const next = request(60, '2026-01-01T00:30:00Z', hash('2'));
    spec.given([enabled, requested(first)]).when(next).then([requested(next)]);
  });

  it('never requests the same rows twice (a restart that re-reads them)', () => {
    const first = request(60, '2026-01-01T00:00:00Z');
    spec.given([enabled, requested(first)]).when(request(60, '2026-01-02T00:00:00Z')).then([]);
  });

  it('follows a new policy: a tighter bound applies from then on', () => {
    const first = request(60, '2026-01-01T00:00:00Z');
    const tighter = applied({ enabled: true, minLabels: 100, minIntervalMinutes: 120 });
    spec.given([enabled, requested(first), tighter]).when(request(80, '2026-01-01T03:00:00Z', hash('3'))).then([]);
    spec.given([enabled, requested(first), tighter]).when(request(100, '2026-01-01T01:00:00Z', hash('3'))).then([]);
    const ok = request(100, '2026-01-01T02:00:00Z', hash('3'));
    spec.given([enabled, requested(first), tighter]).when(ok).then([requested(ok)]);
  });
});
