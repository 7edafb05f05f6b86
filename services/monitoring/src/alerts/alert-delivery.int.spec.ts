import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { streams, type CommandMetadata, type RecordedEvent } from '@mlp/contracts';
import { handleCommand, MemoryEventStore, runProcessManager, type CheckpointStore } from '@mlp/eventstore';
import { UrlPolicy } from '@mlp/service-kit';
import { monitorPolicyDecider, type PolicyCommand } from '../policies/monitor-policy.decide';
import { parsePolicy, policySha256 } from '../policies/policy';
import { alertDeliveryProcessManager, type AlertPayload } from './alert-delivery.process-manager';
import { WebhookSecrets } from './webhook-secrets';
import { WebhookSender } from './webhook-sender';

/** A real webhook receiver on a free loopback port: answers with the scripted statuses in turn, then 200. */
class Receiver {
  readonly requests: { url?: string; headers: IncomingMessage['headers']; body: AlertPayload }[] = [];
  script: number[] = [];
  private server!: Server;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.requests.push({ url: req.url, headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as AlertPayload });
        const status = this.script.shift() ?? 200;
        if (status === 0) {
          req.socket.destroy(); // a dropped connection
          return;
        }
        res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  close(): Promise<void> {
    return new Promise((r) => this.server.close(() => r()));
  }
}

const retry = { attempts: 4, baseDelayMs: 1, maxDelayMs: 5 };
let at = Date.parse('2026-03-01T00:00:00.000Z');
const meta = (causationId: string): CommandMetadata => ({ now: new Date((at += 60_000)).toISOString(), correlationId: 'corr-1', causationId, actor: 'test' });

describe('alert delivery to a real webhook', () => {
  const receiver = new Receiver();
  let webhook: string;
  let store: MemoryEventStore;
  let checkpoints: CheckpointStore;

  beforeAll(async () => {
    webhook = await receiver.start();
  });
  afterAll(() => receiver.close());
  beforeEach(() => {
    store = new MemoryEventStore();
    checkpoints = store.checkpoints();
    receiver.requests.length = 0;
    receiver.script = [];
  });

  const decide = (command: PolicyCommand, cause = 'c') => handleCommand(store, streams.monitor('churn'), monitorPolicyDecider, command, meta(cause));
  const apply = (extra: Record<string, unknown> = {}) => {
    const policy = parsePolicy({ model: 'churn', actions: { onDrift: ['alert'], onDegraded: [] }, alerts: { webhook, ...extra } });
    return decide({ type: 'ApplyPolicy', policy, sha256: policySha256(policy) });
  };
  const drift = (drifted: boolean, eventId: string) => decide({ type: 'ObserveDrift', version: 1, drifted, driftShare: drifted ? 0.75 : 0, driftedFeatures: drifted ? ['amount'] : [], cause: { eventId, type: drifted ? 'DriftDetected' : 'DriftReportComputed' } });
  const deliver = async (allow = UrlPolicy.parse('127.0.0.1', 'test', undefined, { code: 'WEBHOOK_NOT_ALLOWED', subject: 'webhook', source: 'webhook' }), fresh = false) => {
    const pm = await runProcessManager(store, alertDeliveryProcessManager(new WebhookSender({ allow, retry, timeoutMs: 5000 })), { checkpoints: fresh ? store.checkpoints() : checkpoints });
    await pm.caughtUp;
    await pm.stop();
  };
  const outcomes = async (): Promise<RecordedEvent[]> => (await store.readStream(streams.monitor('churn'))).filter((e) => e.type === 'AlertDelivered' || e.type === 'AlertDeliveryFailed');

  it('a token in the webhook URL is sealed in the policy event and filled in only on the wire', async () => {
    const token = 'hook-token-3c1f9e77b2a04d5e';
    const secrets = new WebhookSecrets(Buffer.from('a-key-of-at-least-24-characters'));
    const sealed = secrets.seal(`${webhook}?token=${token}`);
    const policy = parsePolicy({ model: 'churn', actions: { onDrift: ['alert'], onDegraded: [] }, alerts: { webhook: sealed } });
    await decide({ type: 'ApplyPolicy', policy, sha256: policySha256(policy) });
    await drift(true, 'drift-1');
    const allow = UrlPolicy.parse('127.0.0.1', 'test', undefined, { code: 'WEBHOOK_NOT_ALLOWED', subject: 'webhook', source: 'webhook' });
    const sender = new WebhookSender({ allow, retry, timeoutMs: 5000, resolve: (w) => secrets.resolve(w) });
    const pm = await runProcessManager(store, alertDeliveryProcessManager(sender), { checkpoints });
    await pm.caughtUp;
    await pm.stop();

    expect(receiver.requests.map((r) => r.url)).toEqual([`/hook?token=${token}`]);
    expect((await outcomes()).map((e) => e.type)).toEqual(['AlertDelivered']);
    expect(JSON.stringify(await store.readAll())).not.toContain(token);
  });

  it('retries 5xx and a dropped connection with backoff, then records one delivery', async () => {
    await apply();
    await drift(true, 'drift-1');
    receiver.script = [500, 0, 503];
    await deliver();

    expect(receiver.requests).toHaveLength(4);
    const keys = new Set(receiver.requests.map((r) => r.headers['idempotency-key']));
    expect([...keys]).toEqual(['drift-drift-1:raised']);
    expect(receiver.requests[3].body).toMatchObject({ type: 'AlertRaised', alertId: 'drift-drift-1', model: 'churn', version: 1, condition: 'drift', severity: 'warning', details: { driftShare: 0.75, driftedFeatures: ['amount'] } });
    expect(new Set(receiver.requests.map((r) => JSON.stringify(r.body))).size).toBe(1);
    expect((await outcomes()).map((e) => [e.type, e.data])).toEqual([['AlertDelivered', { alertId: 'drift-drift-1', transition: 'raised', webhook, attempts: 4, status: 200 }]]);
  });

  it('dedupes: repeated drift raises no new alert, a replay from position 0 sends nothing again; the clear is sent once', async () => {
    await apply();
    await drift(true, 'drift-1');
    await deliver();
    await drift(true, 'drift-2');
    await drift(true, 'drift-3');
    await deliver();
    await deliver(undefined, true); // a new checkpoint store: every event is handled again
    expect(receiver.requests.map((r) => r.body.type)).toEqual(['AlertRaised']);

    await drift(false, 'report-9');
    await deliver();
    await deliver(undefined, true);
    expect(receiver.requests.map((r) => [r.body.type, r.body.alertId])).toEqual([
      ['AlertRaised', 'drift-drift-1'],
      ['AlertResolved', 'drift-drift-1'],
    ]);
    expect(receiver.requests[1].headers['idempotency-key']).toBe('drift-drift-1:resolved');
  });

  it('a condition that comes back within the dedupe window is recorded, not sent again (nor its clear)', async () => {
    await apply({ dedupe: '1h' });
    await drift(true, 'drift-1');
    await drift(false, 'report-1');
    await drift(true, 'drift-2'); // one minute later
    await drift(false, 'report-2');
    await deliver();
    const raised = (await store.readStream(streams.monitor('churn'))).filter((e) => e.type === 'AlertRaised');
    expect(raised).toHaveLength(2);
    expect(receiver.requests.map((r) => [r.body.type, r.body.alertId])).toEqual([
      ['AlertRaised', 'drift-drift-1'],
      ['AlertResolved', 'drift-drift-1'],
    ]);
  });

  it('a 4xx is final: no retry, the failure is recorded', async () => {
    await apply();
    await drift(true, 'drift-1');
    receiver.script = [400];
    await deliver();
    expect(receiver.requests).toHaveLength(1);
    const [failed] = await outcomes();
    expect(failed).toMatchObject({ type: 'AlertDeliveryFailed', data: { alertId: 'drift-drift-1', transition: 'raised', attempts: 1 } });
    expect((failed.data as { error: string }).error).toMatch(/HTTP 400/);
  });

  it('gives up after the configured attempts', async () => {
    await apply();
    await drift(true, 'drift-1');
    receiver.script = [502, 502, 502, 502, 502];
    await deliver();
    expect(receiver.requests).toHaveLength(4);
    expect((await outcomes())[0]).toMatchObject({ type: 'AlertDeliveryFailed', data: { attempts: 4 } });
  });

  it('a webhook host outside the allow-list is never contacted (same rules as ingestion URLs)', async () => {
    await apply();
    await drift(true, 'drift-1');
    await deliver(UrlPolicy.parse('*', 'MLP_WEBHOOK_ALLOW=*', undefined, { code: 'WEBHOOK_NOT_ALLOWED', subject: 'webhook', source: 'webhook' }));
    expect(receiver.requests).toHaveLength(0);
    const [failed] = await outcomes();
    expect(failed).toMatchObject({ type: 'AlertDeliveryFailed', data: { attempts: 1 } });
    expect((failed.data as { error: string }).error).toMatch(/^webhook not allowed: host 127\.0\.0\.1:\d+ is a loopback address/);
  });
});
