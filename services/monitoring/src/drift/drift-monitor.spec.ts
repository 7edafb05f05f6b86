import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FsArtifactStore } from '@mlp/artifacts';
import { streams, toNewEvent, type EventData, type PredictionTelemetry } from '@mlp/contracts';
import { MemoryEventStore } from '@mlp/eventstore';
import { MonitoringSettings } from '../windows/monitoring-settings';
import { parseWindowSpec } from '../windows/window-spec';
import { DriftMonitor } from './drift-monitor';
import { ReferenceLoader } from './reference';

const meta = { now: '2026-12-01T00:00:00.000Z', correlationId: 'c', causationId: null, actor: 't' };

describe('drift monitor windows', () => {
  let dir: string;
  let store: MemoryEventStore;
  let artifacts: FsArtifactStore;
  const at = (s: number) => new Date(Date.parse('2026-12-01T00:00:00.000Z') + s * 1000).toISOString();
  const record = (i: number, seconds: number, version = 1): PredictionTelemetry => ({
    requestId: `r${i}`, row: 0, model: 'churn', version, arm: 'production', instance: 'i', features: { x: (i * 7) % 10 }, prediction: 'no', latencyMs: 1, at: at(seconds),
  });
  const monitor = (settings: MonitoringSettings) => new DriftMonitor(store, artifacts, new ReferenceLoader(store, artifacts), settings, { sampleCap: 1000, maxCategories: 10, seed: 1, codeVersion: 't' });
  const reports = async () => (await store.readStream(streams.monitor('churn'))).filter((e) => e.type === 'DriftReportComputed').map((e) => e.data as EventData<'DriftReportComputed'>);

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlp-drift-monitor-'));
    store = new MemoryEventStore();
    artifacts = new FsArtifactStore({ root: dir });
    const bytes = Buffer.from(JSON.stringify({ columns: { x: Array.from({ length: 50 }, (_, i) => i % 10), prediction: Array.from({ length: 50 }, () => 'no') } }));
    const { key } = await artifacts.put(bytes, { contentType: 'application/json', size: bytes.length });
    const column = { kind: 'numeric' as const, count: 50, missing: 0, mean: 4.5, std: 2.9, min: 0, max: 9 };
    await store.appendToStream(streams.run('r1'), [
      toNewEvent({ type: 'BaselineRecorded', data: { runId: 'r1', experiment: 'churn', task: 'binary', classes: ['no', 'yes'], rows: 50, columns: { x: column }, prediction: { kind: 'categorical', count: 50, missing: 0, top: { no: 50 }, distinct: 1 }, sampleArtifactKey: key, sampleRows: 50, seed: 1 } }, meta, { codeVersion: 't' }),
    ]);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const register = () => store.appendToStream(streams.model('churn'), [toNewEvent({ type: 'ModelVersionRegistered', data: { name: 'churn', version: 1, runId: 'r1', artifacts: {}, metrics: {} } }, meta, { codeVersion: 't' })]);

  it('closes a time window when telemetry passes its end, or when the clock is past its end and grace', async () => {
    await register();
    const settings = new MonitoringSettings();
    settings.set('churn', { window: parseWindowSpec('1m') });
    const m = monitor(settings);
    for (let i = 0; i < 12; i++) await m.add(record(i, i * 10)); // 0s … 110s: the record at 60s opens the second window
    expect((await reports()).map((r) => [r.window.kind, r.window.rows, r.window.from, r.window.to])).toEqual([['time', 6, at(0), at(50)]]);
    await m.closeExpired(Date.parse(at(124)), 5_000); // the second window ends at 120 s: still within its grace
    expect(await reports()).toHaveLength(1);
    await m.closeExpired(Date.parse(at(125)), 5_000);
    expect((await reports()).map((r) => [r.window.rows, r.window.from, r.window.id])).toEqual([
      [6, at(0), '1:time:r0:0'],
      [6, at(60), '1:time:r6:0'],
    ]);
  });

  it('skips telemetry of a version not registered yet, tests it once registered, and a second reader appends nothing new', async () => {
    const settings = new MonitoringSettings({ window: { size: 5 } });
    const first = monitor(settings);
    for (let i = 0; i < 5; i++) await first.add(record(i, i));
    expect(await reports()).toEqual([]);
    await register();
    for (let i = 5; i < 15; i++) await first.add(record(i, i));
    expect((await reports()).map((r) => r.window.id)).toEqual(['1:count:r5:0', '1:count:r10:0']);
    const again = monitor(settings);
    for (let i = 5; i < 15; i++) await again.add(record(i, i));
    expect(await reports()).toHaveLength(2);
  });

  it('rejects a window that is neither a row count nor a duration, naming the setting', () => {
    expect(() => parseWindowSpec('soon', 'MLP_MONITORING_WINDOW')).toThrow(/invalid window 'soon'/);
    expect(parseWindowSpec('250')).toEqual({ size: 250 });
    expect(parseWindowSpec('2h')).toEqual({ durationMs: 7_200_000 });
  });
});
