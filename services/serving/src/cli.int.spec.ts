import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMlp } from '@mlp/testing';
import { churnRows, promoteTinyModel, type StoredTinyModel } from './testing/model.fixture';
import { startServingPlatform, type ServingPlatform } from './testing/serving-platform.fixture';

jest.setTimeout(120_000);

const mlp = runMlp;

describe('mlp predict and mlp serving status (CLI against a running serving)', () => {
  let s: ServingPlatform;
  let v1: StoredTinyModel;
  let env: NodeJS.ProcessEnv;
  const { rows } = churnRows(5, 13);

  beforeAll(async () => {
    s = await startServingPlatform({}, async (p) => {
      v1 = await promoteTinyModel(p, { epochs: 10 });
    });
    // Every service answers /auth/keys: the CLI's key commands go to serving here.
    env = { MLP_SERVING_URL: s.url, MLP_REGISTRY_URL: s.url, MLP_SERVING_GRPC_URL: `127.0.0.1:${s.grpcPort}`, MLP_API_KEY: '', MLP_ADMIN_KEY: '' };
    writeFileSync(join(s.p.dir, 'rows.json'), JSON.stringify(rows));
    writeFileSync(join(s.p.dir, 'rows.csv'), ['tenure,monthly,plan', ...rows.map((r) => `${r.tenure ?? ''},${r.monthly},${r.plan}`)].join('\n') + '\n');
  });
  afterAll(async () => s?.close());

  const expected = () => Array.from(v1.offline(rows));

  it('predicts rows from JSON and CSV over the JSON API (--json prints its answer)', async () => {
    for (const file of ['rows.json', 'rows.csv']) {
      const r = await mlp(['predict', 'churn@production', '--input', join(s.p.dir, file), '--json'], env);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const out = JSON.parse(r.stdout) as { predictions: string[]; probabilities: number[][]; model: string; version: string };
      expect(out).toMatchObject({ model: 'churn', version: '1', predictions: expected().map((p) => (p >= 0.5 ? 'yes' : 'no')) });
      out.probabilities.forEach((p, i) => expect(p[1]).toBeCloseTo(expected()[i], 6));
    }
    const human = await mlp(['predict', 'churn', '--input', join(s.p.dir, 'rows.csv')], env);
    expect(human.stdout).toMatch(/^churn version 1 {2}\(request [0-9a-f-]{36}\)\nROW {2}PREDICTION {2}PROBABILITY\n {2}0 {2}(yes|no) /);
  });

  it('--grpc sends V2 tensors to inference.GRPCInferenceService and prints the same answer', async () => {
    const r = await mlp(['predict', 'churn:1', '--input', join(s.p.dir, 'rows.csv'), '--grpc', '--json'], env);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { predictions: string[]; probabilities: number[][]; version: string };
    expect(out.version).toBe('1');
    expect(out.predictions).toEqual(expected().map((p) => (p >= 0.5 ? 'yes' : 'no')));
    out.probabilities.forEach((p, i) => expect(p[1]).toBeCloseTo(expected()[i], 6));
  });

  it('bad rows exit 1 naming the field; an unknown model says so', async () => {
    writeFileSync(join(s.p.dir, 'bad.json'), JSON.stringify([{ ...rows[0], plan: 'gold' }]));
    const bad = await mlp(['predict', 'churn', '--input', join(s.p.dir, 'bad.json')], env);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("instances[0].plan: 'plan' must be one of");
    const unknown = await mlp(['predict', 'nope', '--input', join(s.p.dir, 'rows.json')], env);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('model nope is not served here');
  });

  it('serving status lists loaded versions with aliases, memory and request rates', async () => {
    const r = await mlp(['serving', 'status', '--json'], env);
    const status = JSON.parse(r.stdout) as { ready: boolean; memory: { rssBytes: number }; models: { name: string; version: string; aliases: string[]; requests: number; requestsPerSecond: number }[] };
    expect(status.ready).toBe(true);
    expect(status.memory.rssBytes).toBeGreaterThan(0);
    expect(status.models).toEqual([expect.objectContaining({ name: 'churn', version: '1', aliases: ['production'] })]);
    expect(status.models[0].requests).toBeGreaterThanOrEqual(3);
    const human = await mlp(['serving', 'status'], env);
    expect(human.stdout).toMatch(/ready, RSS [\d.]+ MiB/);
    expect(human.stdout).toMatch(/MODEL\s+VERSION\s+ALIASES\s+BACKEND\s+WEIGHTS\s+REQ\/S\s+REQUESTS/);
    expect(human.stdout).toMatch(/churn\s+1\s+production\s+wasm/);
  });

  it('mlp keys create --scope predict makes a key with the predict scope', async () => {
    const r = await mlp(['keys', 'create', '--scope', 'predict', '--json'], env);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ name: 'predict-key', scopes: ['predict'] });
  });
});
