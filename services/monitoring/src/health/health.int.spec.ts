import { subjects } from '@mlp/contracts';
import type { MlpClient } from '@mlp/messaging';
import { startInProcessServicesOverNats, type InProcessServicesOverNats } from '@mlp/service-kit/testing';
import { registryService } from '@mlp/service-registry';

import { monitoringService } from '../index';
import type { ProcessManagerLag, ServiceHealthView } from './health.service';

type HealthReply = { services: ServiceHealthView[]; head: number; managers: ProcessManagerLag[] };

/** Monitoring scrapes the real /metrics of the services running (registry, itself) and reads the checkpoints of the real event store. */
describe('system health', () => {
  jest.setTimeout(60_000);
  let p: InProcessServicesOverNats;
  let client: MlpClient;

  beforeAll(async () => {
    p = await startInProcessServicesOverNats([registryService, monitoringService], {
      prefix: 'monitoring-health',
      caller: 'training',
      processEnv: () => ({ MLP_HEALTH_SCRAPE_INTERVAL_MS: '0' }),
    });
    client = p.client;
  });
  afterAll(async () => {
    await p?.close();
  });

  it('request rate, error rate and latency per service from its /metrics; down services say why; process-manager lag against the head', async () => {
    const registry = p.services[0].url;
    const monitoring = p.services[1].url;
    const health = async () => (await (await fetch(`${monitoring}/health/services?fresh=true`)).json()) as HealthReply;
    await health(); // the first scrape: totals only
    const created = await fetch(`${registry}/models`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'churn' }) });
    expect(created.status).toBe(201);
    for (let i = 0; i < 9; i++) expect((await fetch(`${registry}/models/churn`)).status).toBe(200);
    for (let i = 0; i < 3; i++) expect((await fetch(`${registry}/models/nope`)).status).toBe(404);
    const reply = await health();

    const reg = reply.services.find((s) => s.service === 'registry')!;
    expect(reg).toMatchObject({ up: true, error: null });
    expect(reg.http!.requestRate).toBeGreaterThan(0);
    expect(reg.http!.requestsTotal).toBeGreaterThanOrEqual(13);
    expect(reg.http!.errorRate).toBe(0); // 404s are client errors, not 5xx
    for (const q of ['p50', 'p95', 'p99'] as const) expect(reg.http!.latency[q]).toBeGreaterThan(0);
    expect(reg.http!.latency.p50!).toBeLessThanOrEqual(reg.http!.latency.p99!);

    const ingestion = reply.services.find((s) => s.service === 'ingestion')!;
    expect(ingestion).toMatchObject({ up: false, http: null });
    expect(ingestion.error).toEqual(expect.any(String));

    // RegisteredModelCreated → MonitorCreated: the head is the last event, and both managers have caught up to at least their own events.
    const events = await p.store.readAll({ maxCount: 10_000 });
    expect(reply.head).toBe(events[events.length - 1].position);
    const creation = reply.managers.find((m) => m.name === 'monitoring.monitor-creation')!;
    expect(creation.checkpoint).not.toBeNull();
    expect(creation.lag).toBe(reply.head - creation.checkpoint!);
    expect(reply.managers.find((m) => m.name === 'training.retraining')).toMatchObject({ checkpoint: null, lag: null });
    // Listed from the store: every running manager's checkpoint, named as it saved it.
    expect(reply.managers.map((m) => m.name)).toEqual(expect.arrayContaining(['monitoring.alert-delivery', 'monitoring.policy', 'monitoring.policy-actions', 'registry.registration']));
    expect(reply.managers.map((m) => m.name)).toEqual([...reply.managers.map((m) => m.name)].sort());

    const exposed = await (await fetch(`${monitoring}/metrics`)).text();
    expect(exposed).toMatch(new RegExp(`^mlp_process_manager_lag_events\\{manager="monitoring.monitor-creation",service="monitoring"\\} \\d+$`, 'm'));
    expect(exposed).toMatch(/^mlp_event_store_head_position\{service="monitoring"\} \d+$/m);

    const viaNats = await client.send<HealthReply>(subjects.qry.monitoring.serviceHealth, {});
    expect(viaNats.services.map((s) => s.service)).toEqual(['ingestion', 'feature-store', 'training', 'registry', 'serving', 'monitoring']);
  });
});
