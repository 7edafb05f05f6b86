import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsArtifactStore } from '@mlp/artifacts';
import { monitoringPolicySchema, streams, toNewEvent, type EventData } from '@mlp/contracts';
import { MemoryEventStore } from '@mlp/eventstore';
import type { LabelledPrediction } from '../performance/feedback-join';
import { MonitoringSettings } from '../windows/monitoring-settings';
import { PolicySettingsProjection } from '../windows/policy-settings.projection';
import { OnlineLearning, type OnlineRowsArtifact } from './online-learning';

const meta = { now: '2026-12-01T00:00:00.000Z', correlationId: 'c', causationId: null, actor: 't' };
const at = (minutes: number) => new Date(Date.parse('2026-12-01T00:00:00.000Z') + minutes * 60_000).toISOString();
const row = (i: number, minutes: number, version = 2): LabelledPrediction => ({
  model: 'churn', version, arm: 'production', prediction: 'no', label: i % 3 === 0 ? 'yes' : 'no', features: { x: i, plan: i % 2 ? 'a' : 'b' }, predictedAt: at(minutes), labelledAt: at(minutes),
});

describe('online learning collector', () => {
  let dir: string;
  let store: MemoryEventStore;
  let artifacts: FsArtifactStore;
  let settings: MonitoringSettings;
  const collector = () => new OnlineLearning(store, artifacts, (m) => settings.get(m).online, { codeVersion: 't' });
  const requested = async () => (await store.readStream(streams.monitor('churn'))).filter((e) => e.type === 'OnlineUpdateRequested').map((e) => e.data as EventData<'OnlineUpdateRequested'>);

  async function apply(onlineLearning?: { enabled: boolean; minLabels?: number; minIntervalMinutes?: number }) {
    const policy = monitoringPolicySchema.parse({ model: 'churn', window: { size: 100 }, ...(onlineLearning ? { onlineLearning } : {}) });
    await store.appendToStream(streams.monitor('churn'), [toNewEvent({ type: 'MonitoringPolicyApplied', data: { model: 'churn', policy, sha256: 'a'.repeat(64) } }, meta, { codeVersion: 't' })]);
    const recorded = await store.readStream(streams.monitor('churn'));
    new PolicySettingsProjection(settings).handle(recorded[recorded.length - 1]);
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'mlp-online-'));
    store = new MemoryEventStore();
    artifacts = new FsArtifactStore({ root: dir });
    settings = new MonitoringSettings();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('collects nothing when the policy leaves online learning off', async () => {
    await apply({ enabled: false, minLabels: 10, minIntervalMinutes: 1 });
    const c = collector();
    for (let i = 0; i < 50; i++) expect(await c.add(row(i, 0))).toBeUndefined();
    expect(await requested()).toEqual([]);
  });

  it('stores minLabels rows (features + label) by hash and requests one update from the served version', async () => {
    await apply({ enabled: true, minLabels: 10, minIntervalMinutes: 30 });
    const c = collector();
    const results = [];
    for (let i = 0; i < 10; i++) results.push(await c.add(row(i, 0)));
    expect(results.slice(0, 9).every((r) => r === undefined)).toBe(true);
    const [event] = await requested();
    expect(event).toMatchObject({ model: 'churn', version: 2, rows: 10, at: at(0) });
    expect(results[9]).toEqual(event);
    const bytes = await artifacts.getBuffer(event.rowsArtifactKey);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(event.sha256);
    const stored = JSON.parse(bytes.toString('utf8')) as OnlineRowsArtifact;
    expect(stored.rows).toHaveLength(10);
    expect(stored.rows[3]).toEqual({ features: { x: 3, plan: 'a' }, label: 'yes' });
  });

  it('holds further updates until minIntervalMinutes passed, also for a new collector after a restart', async () => {
    await apply({ enabled: true, minLabels: 10, minIntervalMinutes: 30 });
    const c = collector();
    for (let i = 0; i < 10; i++) await c.add(row(i, 0));
    for (let i = 10; i < 30; i++) await c.add(row(i, 20)); // 20 minutes later: within the bound
    expect(await requested()).toHaveLength(1);
    const restarted = collector();
    for (let i = 30; i < 40; i++) await restarted.add(row(i, 25));
    expect(await requested()).toHaveLength(1);
    for (let i = 40; i < 50; i++) await restarted.add(row(i, 31));
    const events = await requested();
    expect(events).toHaveLength(2);
    expect(events[1]).toMatchObject({ rows: 20, at: at(31) });
  });
});
