import { streams, toNewEvent, type EventData, type RecordedEvent } from '@mlp/contracts';
import { startService } from '@mlp/service-kit';
import { startInProcessServices, type InProcessServices } from '@mlp/service-kit/testing';
import { eventually } from '@mlp/testing';
import { monitoringService } from '../index';
import { parsePolicy, policySha256 } from '../policies/policy';
import { missedFiring } from './retraining-schedule';

/** The scheduler in the running service: firings recorded as events, caught up once after downtime, never doubled by a restart. */
describe('retraining schedule across restarts', () => {
  jest.setTimeout(60_000);
  let p: InProcessServices;
  const runtime = () => ({ eventStore: p.store, artifacts: p.artifacts, config: p.config });
  const restart = async () => {
    const running = p.services.pop();
    await running?.close();
    p.services.push(await startService(monitoringService, { runtime: runtime() }));
  };
  const fired = async (model: string): Promise<EventData<'RetrainingScheduleFired'>[]> =>
    (await p.store.readStream(streams.monitor(model))).filter((e: RecordedEvent) => e.type === 'RetrainingScheduleFired').map((e) => e.data as EventData<'RetrainingScheduleFired'>);

  beforeAll(async () => {
    p = await startInProcessServices([], { prefix: 'monitoring-schedule' });
  });
  afterAll(() => p?.close());

  it('a policy applied weeks ago fires the latest missed time once at start, and a restart does not repeat it', async () => {
    const policy = parsePolicy({ model: 'weekly', schedule: { retrain: '0 3 * * 0' } });
    const appliedAt = '2026-01-01T00:00:00.000Z';
    await p.store.appendToStream(streams.monitor('weekly'), [
      toNewEvent({ type: 'MonitoringPolicyApplied', data: { model: 'weekly', policy, sha256: policySha256(policy) } }, { now: appliedAt, correlationId: 'c', causationId: null, actor: 'alice' }, { codeVersion: 'test' }),
    ]);
    const expected = missedFiring('0 3 * * 0', undefined, appliedAt, new Date());
    p.services.push(await startService(monitoringService, { runtime: runtime() }));
    await eventually(async () => (await fired('weekly')).length > 0, 15_000, 'catch-up firing');
    expect(await fired('weekly')).toEqual([{ model: 'weekly', cron: '0 3 * * 0', scheduledAt: expected, catchUp: true }]);
    const triggered = (await p.store.readStream(streams.monitor('weekly'))).filter((e) => e.type === 'RetrainingTriggered');
    expect(triggered.map((e) => (e.data as EventData<'RetrainingTriggered'>).reason)).toEqual([{ kind: 'schedule', message: expect.stringContaining('caught up after a restart'), scheduledAt: expected }]);

    await restart();
    await restart();
    expect(await fired('weekly')).toHaveLength(1);
  });

  it('fires every due time once while running, and catches up the time missed while stopped', async () => {
    const base = `http://127.0.0.1:${p.config.MLP_MONITORING_PORT}`;
    const res = await fetch(`${base}/policies`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ policy: { model: 'often', schedule: { retrain: '* * * * * *' } } }) });
    expect(res.status).toBe(200);
    await eventually(async () => (await fired('often')).filter((f) => !f.catchUp).length >= 2, 15_000, 'two live firings');
    await p.services.pop()?.close();
    const before = await fired('often');
    await new Promise((r) => setTimeout(r, 2500)); // downtime spanning at least two due times
    p.services.push(await startService(monitoringService, { runtime: runtime() }));
    await eventually(async () => (await fired('often')).some((f) => f.catchUp), 15_000, 'catch-up firing');
    await eventually(async () => (await fired('often')).length >= before.length + 2, 15_000, 'live firings after the restart');

    const all = await fired('often');
    const times = all.map((f) => Date.parse(f.scheduledAt));
    expect(new Set(times).size).toBe(times.length);
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    // Exactly one catch-up: the latest second missed, not one per missed second.
    expect(all.filter((f) => f.catchUp)).toHaveLength(1);
    expect(times.every((t) => t % 1000 === 0)).toBe(true);
  });
});
