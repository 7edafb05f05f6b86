import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { streams, toNewEvent } from '@mlp/contracts';
import { eventually } from '@mlp/testing';
import { mlp, startCliPlatform, type CliPlatform } from './cli-platform.fixture';

const POLICY = `model: churn
window: {size: 1000}
drift: {shareThreshold: 0.5, features: {amount: {method: psi, threshold: 0.2}}}
actions:
  onDrift: [alert]
  onDegraded: []
alerts: {webhook: http://127.0.0.1:9/hook}
`;

/** `mlp monitor apply` and `mlp alerts` as child processes against the embedded platform. */
describe('mlp monitor apply, mlp alerts', () => {
  jest.setTimeout(120_000);
  let cli: CliPlatform;
  let dir: string;

  beforeAll(async () => {
    process.env.MLP_WEBHOOK_ATTEMPTS = '2'; // monitoring reads its webhook settings from process.env
    process.env.MLP_WEBHOOK_BASE_DELAY_MS = '1';
    cli = await startCliPlatform('alerts');
    dir = mkdtempSync(join(tmpdir(), 'mlp-policy-'));
  });
  afterAll(async () => {
    await cli?.close();
    delete process.env.MLP_WEBHOOK_ATTEMPTS;
    delete process.env.MLP_WEBHOOK_BASE_DELAY_MS;
    rmSync(dir, { recursive: true, force: true });
  });

  it('applies a policy once, names the file, line and field of a bad one, and lists alerts', async () => {
    const file = join(dir, 'churn-policy.yaml');
    writeFileSync(file, POLICY);
    const first = await mlp(['monitor', 'apply', file], cli.env);
    expect(first.stderr).toBe('');
    expect(first.stdout).toMatch(/^applied: policy for churn \(sha256 [0-9a-f]{12}\)\n {2}on drift: alert; on degraded: nothing\n {2}alerts to http:\/\/127\.0\.0\.1:9\n$/);
    const again = await mlp(['monitor', 'apply', file, '--json'], cli.env);
    expect(JSON.parse(again.stdout)).toMatchObject({ model: 'churn', changed: false });

    writeFileSync(file, POLICY.replace('method: psi', 'method: psy'));
    const bad = await mlp(['monitor', 'apply', file], cli.env);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/churn-policy\.yaml:3:\d+ drift\.features\.amount\.method: /);
    expect(bad.stderr).toMatch(/^ {2}drift\.features\.amount\.method: /m);
    expect((await mlp(['monitor', 'apply'], cli.env)).status).toBe(2);

    expect((await mlp(['alerts'], cli.env)).stdout).toBe('no alerts\n');
    const store = cli.platform.services[0].runtime.eventStore;
    const detected = toNewEvent(
      { type: 'DriftDetected', data: { model: 'churn', version: 2, windowId: '2:count:0', driftedFeatures: ['amount'], driftShare: 1, datasetDrift: true, predictionDrift: false, reportArtifactKey: `sha256/${'a'.repeat(64)}` } },
      { now: '2026-03-01T10:00:00.000Z', correlationId: 'c', causationId: null, actor: 'monitoring' },
      { codeVersion: 'test' },
    );
    await store.appendToStream(streams.monitor('churn'), [detected]);
    await eventually(async () => (await store.readStream(streams.monitor('churn'))).some((e) => e.type === 'AlertDeliveryFailed'), 30_000, 'the delivery attempt');
    const listed = await mlp(['alerts', '--status', 'active'], cli.env);
    expect(listed.stdout).toMatch(/churn v2 +drift +warning +ACTIVE +raised failed \(2 tries\) +drift on churn v2: 1 feature\(s\) drifted \(share 1: amount\)/);
    const asJson = JSON.parse((await mlp(['alerts', '--model', 'churn', '--json'], cli.env)).stdout) as { alerts: { alertId: string }[] };
    expect(asJson.alerts.map((a) => a.alertId)).toEqual([`drift-${detected.id}`]);
  });
});
