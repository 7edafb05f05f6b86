import { streams, subjects, toNewEvent, type RecordedEvent } from '@mlp/contracts';
import type { MlpClient } from '@mlp/messaging';
import { startInProcessServicesOverNats, type InProcessServicesOverNats } from '@mlp/service-kit/testing';
import { eventually } from '@mlp/testing';
import { registryService } from '@mlp/service-registry';
import { monitoringService } from '../index';
import type { AlertView } from '../alerts/alerts.projection';
import type { PolicyView } from './policies.projection';

const policyYaml = (webhook: string) => `model: churn
window: {size: 1000}
drift: {shareThreshold: 0.5, features: {amount: {method: psi, threshold: 0.2}}}
performance: {metric: roc_auc, minimum: 0.75, window: 500}
actions:
  onDrift: [alert, retrain]
  onDegraded: [rollback]
alerts: {webhook: ${webhook}}
`;

const meta = (now: string) => ({ now, correlationId: 'corr-drift', causationId: null, actor: 'monitoring-core' });
const key = `sha256/${'a'.repeat(64)}`;

/** Policies and alerts of the monitoring service over HTTP and over a real nats-server, reacting to what the monitors record. */
describe('monitoring policies over HTTP and NATS', () => {
  jest.setTimeout(60_000);
  let p: InProcessServicesOverNats;
  let client: MlpClient;
  let base: string;

  beforeAll(async () => {
    p = await startInProcessServicesOverNats([registryService, monitoringService], {
      prefix: 'monitoring-policies',
      caller: 'training',
      env: { MLP_WEBHOOK_ALLOW: '127.0.0.1' },
      processEnv: () => ({ MLP_REGISTRY_AUTO_REGISTER: 'off' }),
    });
    base = `http://127.0.0.1:${p.config.MLP_MONITORING_PORT}`;
    client = p.client;
  });
  afterAll(async () => {
    await p?.close();
  });

  const post = (body: string, type = 'application/yaml') => fetch(`${base}/policies`, { method: 'POST', headers: { 'content-type': type }, body });
  const monitorEvents = async (): Promise<RecordedEvent[]> => p.store.readStream(streams.monitor('churn'));

  it('applies a policy.yaml over HTTP once, and refuses a bad one with every field named', async () => {
    const first = await post(policyYaml('http://127.0.0.1:9/hook'));
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ model: 'churn', changed: true, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    const again = (await (await post(policyYaml('http://127.0.0.1:9/hook'))).json()) as { changed: boolean };
    expect(again.changed).toBe(false);
    expect((await monitorEvents()).filter((e) => e.type === 'MonitoringPolicyApplied')).toHaveLength(1);

    const bad = await post(policyYaml('http://127.0.0.1:9/hook').replace('psi', 'psy').replace('[rollback]', '[rollback, page]'));
    expect(bad.status).toBe(400);
    const body = (await bad.json()) as { details: { path: string }[] };
    expect(body).toMatchObject({ name: 'ValidationError' });
    expect(body.details.map((d: { path: string }) => d.path).sort()).toEqual(['actions.onDegraded.1', 'drift.features.amount.method']);
    expect(JSON.stringify(body)).not.toMatch(/\bat .*\.ts:\d+/);

    const view = (await (await fetch(`${base}/policies/churn`)).json()) as PolicyView;
    expect(view.policy.actions.onDrift).toEqual(['alert', 'retrain']);
  });

  it('applies and reads policies over NATS', async () => {
    const applied = await client.send<{ model: string; changed: boolean }>(subjects.cmd.monitoring.applyPolicy, { policy: { model: 'fraud', actions: { onDrift: ['retrain'], onDegraded: [] } } });
    expect(applied).toMatchObject({ model: 'fraud', changed: true });
    const view = await client.send<PolicyView>(subjects.qry.monitoring.getPolicy, { name: 'fraud' });
    expect(view.policy.actions.onDrift).toEqual(['retrain']);
    await expect(client.send(subjects.cmd.monitoring.applyPolicy, { policy: { model: 'fraud', window: { size: 0 } } })).rejects.toMatchObject({ name: 'ValidationError', details: [{ path: 'window.size' }] });
  });

  it('DriftDetected → AlertRaised + RetrainingTriggered (once), a clean report → AlertResolved; alerts over HTTP and NATS', async () => {
    const detected = (windowId: string) =>
      toNewEvent({ type: 'DriftDetected', data: { model: 'churn', version: 1, windowId, driftedFeatures: ['amount'], driftShare: 1, datasetDrift: true, predictionDrift: false, reportArtifactKey: key } }, meta('2026-03-01T00:00:00.000Z'), { codeVersion: 'test' });
    const first = detected('1:count:0');
    await p.store.appendToStream(streams.monitor('churn'), [first]);
    await p.store.appendToStream(streams.monitor('churn'), [detected('1:count:1000')]);
    const triggered = await eventually(async () => (await monitorEvents()).find((e) => e.type === 'RetrainingTriggered'), 15_000, 'RetrainingTriggered');
    expect(triggered.data).toMatchObject({ model: 'churn', reason: { kind: 'drift', version: 1 }, cause: { eventId: first.id, type: 'DriftDetected' } });
    expect(triggered).toMatchObject({ causationId: first.id, correlationId: 'corr-drift' });

    const alerts = (await (await fetch(`${base}/alerts?model=churn&status=active`)).json()) as { alerts: AlertView[] };
    expect(alerts.alerts.map((a) => [a.alertId, a.condition, a.status])).toEqual([[`drift-${first.id}`, 'drift', 'active']]);

    const report = toNewEvent(
      {
        type: 'DriftReportComputed',
        data: {
          model: 'churn',
          version: 1,
          window: { id: '1:count:2000', kind: 'count', rows: 1000, from: '2026-03-01T00:00:00.000Z', to: '2026-03-01T01:00:00.000Z', sampledRows: 1000 },
          reference: { runId: 'r1', rows: 100, sampleArtifactKey: key },
          features: [{ name: 'amount', method: 'psi', statistic: 0.01, pValue: null, threshold: 0.2, drifted: false }],
          prediction: null,
          driftShare: 0,
          shareThreshold: 0.5,
          datasetDrift: false,
          reportArtifactKey: key,
        },
      },
      meta('2026-03-01T01:00:00.000Z'),
      { codeVersion: 'test' },
    );
    await p.store.appendToStream(streams.monitor('churn'), [report]);
    await eventually(async () => (await monitorEvents()).find((e) => e.type === 'AlertResolved'), 15_000, 'AlertResolved');
    const viaNats = await client.send<{ alerts: AlertView[] }>(subjects.qry.monitoring.listAlerts, { model: 'churn' });
    expect(viaNats.alerts).toHaveLength(1);
    expect(viaNats.alerts[0]).toMatchObject({ status: 'resolved', resolution: 'no drift on churn v1 (share 0)' });
    expect((await monitorEvents()).filter((e) => e.type === 'RetrainingTriggered')).toHaveLength(1);
    // The webhook (port 9, nothing listens) failed: recorded on the alert, the alert itself stands.
    const delivery = await eventually(async () => (await monitorEvents()).find((e) => e.type === 'AlertDeliveryFailed'), 30_000, 'delivery outcome');
    expect(delivery.data).toMatchObject({ alertId: `drift-${first.id}`, transition: 'raised' });
  });

  it('PerformanceDegraded → RollbackRequested → the registry is asked to roll back, and the outcome is recorded with its cause', async () => {
    const degraded = toNewEvent(
      { type: 'PerformanceDegraded', data: { model: 'churn', version: 1, arm: 'stable', metric: 'roc_auc', value: 0.6, reference: 0.8, rule: 'roc_auc 0.6 < minimum 0.75', windowSeq: 500 } },
      meta('2026-03-01T02:00:00.000Z'),
      { codeVersion: 'test' },
    );
    await p.store.appendToStream(streams.monitor('churn'), [degraded]);
    const requested = await eventually(async () => (await monitorEvents()).find((e) => e.type === 'RollbackRequested'), 15_000, 'RollbackRequested');
    expect(requested.data).toMatchObject({ condition: 'degraded', version: 1, cause: { eventId: degraded.id, type: 'PerformanceDegraded' } });
    const executed = await eventually(async () => (await monitorEvents()).find((e) => e.type === 'RollbackExecuted'), 30_000, 'RollbackExecuted');
    // The registry answered over NATS: churn has no versions here, so its refusal is the recorded outcome.
    expect(executed.data).toMatchObject({ model: 'churn', serving: null, registry: { ok: false }, cause: { eventId: requested.id, type: 'RollbackRequested' } });
    expect((executed.data as { registry: { detail: string } }).registry.detail).toMatch(/NOT_FOUND/);
    expect(executed.causationId).toBe(requested.id);
  });
});
