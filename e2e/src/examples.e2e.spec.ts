import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { envKey, serviceNames, type DeploymentView, type ServiceName } from '@mlp/contracts';
import { eventually, freePort, repoRoot, runMlp, spawnTs, waitForHttp, type MlpRun, type SpawnedProcess } from '@mlp/testing';

const examplesDir = join(repoRoot, 'examples');

/** Every file under examples/, relative to it. */
function exampleFiles(dir = examplesDir): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? exampleFiles(path) : [relative(examplesDir, path)];
  });
}

/**
 * Every file in examples/ goes through the path a user takes: `mlp … ` against
 * `mlp up --no-demo` (the embedded platform), and each must be accepted and do
 * what it says. The last test fails when a file in examples/ was not used here,
 * so a new example cannot go untested.
 */
describe('examples/ through the CLI on the embedded platform', () => {
  jest.setTimeout(600_000); // generous: each step spawns `mlp`, and the machine may be loaded
  const used = new Set<string>();
  /** The absolute path of an example, recorded as exercised. */
  const example = (file: string) => {
    used.add(file);
    return join(examplesDir, file);
  };
  let home: string;
  let env: NodeJS.ProcessEnv;
  let platform: SpawnedProcess;
  const ports = {} as Record<ServiceName, number>;
  const url = (service: ServiceName, path: string) => `http://127.0.0.1:${ports[service]}${path}`;
  const getJson = async <T>(service: ServiceName, path: string): Promise<T> => {
    const res = await fetch(url(service, path));
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };

  const mlp = async (...args: string[]): Promise<MlpRun> => runMlp(args, env);
  /** `mlp … --json`, which must exit 0: the last line of its output, parsed. */
  async function mlpJson<T>(...args: string[]): Promise<T> {
    const r = await mlp(...args, '--json');
    if (r.status !== 0) throw new Error(`mlp ${args.join(' ')} exited ${r.status}:\n${r.stderr}\n${r.stdout}`);
    const lines = r.stdout.trim().split('\n');
    try {
      return JSON.parse(r.stdout) as T;
    } catch {
      return JSON.parse(lines[lines.length - 1]) as T;
    }
  }

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'mlp-examples-'));
    env = { MLP_HOME: home, LOG_LEVEL: 'warn', EVENTSTORE_URL: '', ARTIFACTS_URL: '', MLP_TRANSPORT: '', MLP_PROGRESS: '0', MLP_ACTOR: 'examples-test' };
    for (const service of serviceNames) {
      ports[service] = await freePort();
      env[`MLP_${envKey(service)}_PORT`] = String(ports[service]);
      env[`MLP_${envKey(service)}_RPC_PORT`] = String(await freePort());
      env[`MLP_${envKey(service)}_URL`] = '';
    }
    platform = spawnTs('tools/cli/src/main.ts', ['up', '--no-demo'], env);
    await Promise.all(serviceNames.map((s) => waitForHttp(url(s, '/health/ready'), { process: platform, timeoutMs: 120_000 })));
  });

  afterAll(async () => {
    await platform?.kill('SIGKILL');
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('data: penguins.csv is ingested with its declared schema (2 rows without measurements quarantined)', async () => {
    const out = await mlpJson<{ status: string; version: number; rows: number; accepted: number; quarantined: number }>(
      'ingest', example('data/penguins.csv'), '--dataset', 'penguins', '--schema', example('data/penguins.schema.yaml'), '--null', 'NA',
    );
    expect(out).toMatchObject({ status: 'accepted', version: 1, rows: 344, accepted: 342, quarantined: 2 });
    const declared = parseYaml(readFileSync(example('data/penguins.schema.yaml'), 'utf8')) as { columns: Record<string, { type: string }> };
    const stored = parseYaml(await (await fetch(url('ingestion', '/datasets/penguins/schema'))).text()) as { columns: Record<string, { type: string }> };
    expect(Object.keys(stored.columns)).toEqual(Object.keys(declared.columns));
    for (const [column, spec] of Object.entries(declared.columns)) expect({ column, type: stored.columns[column].type }).toEqual({ column, type: spec.type });
  });

  it('features: transactions.csv with its schema, featureviews.yaml applied and materialized, customers looked up online', async () => {
    const ingested = await mlpJson<{ status: string; rows: number; accepted: number }>(
      'ingest', example('features/transactions.csv'), '--dataset', 'transactions', '--schema', example('features/transactions.schema.yaml'),
    );
    expect(ingested).toMatchObject({ status: 'accepted', rows: 2000, accepted: 2000 });
    expect(await mlpJson('features', 'apply', example('features/featureviews.yaml'))).toEqual([{ name: 'customer_spend', version: 1, changed: true, breaking: false, diff: [] }]);
    const materialized = await mlpJson<{ materialization: { rows: number; onlineRows: number } }>('features', 'materialize', 'customer_spend');
    expect(materialized.materialization).toMatchObject({ rows: 2000, onlineRows: 50 });
    const online = await mlpJson<{ results: { entity: Record<string, string>; features: Record<string, { status: string }> }[] }>(
      'features', 'get', 'customer_spend', '--entity', 'customer_id=C001', '--feature', 'txn_count_30d',
    );
    expect(online.results[0].entity).toEqual({ customer_id: 'C001' });
    // Present while the view's TTL (1500d from the data's 2024 dates) lasts, expired after: found either way.
    expect(['present', 'expired']).toContain(online.results[0].features['customer_spend:txn_count_30d'].status);
  });

  const runs: string[] = [];

  it('training: penguins-demo.train.yaml trains as it is; penguins.train.yaml is accepted as it is and trains on a tiny budget', async () => {
    // Versions are registered by hand below, whatever the gates say.
    await mlpJson('models', 'create', 'penguins');
    await mlpJson('models', 'policy', 'penguins', '--registration', 'manual');
    const demo = await mlpJson<{ runId: string; status: string; metrics: Record<string, number> }>('train', example('training/penguins-demo.train.yaml'));
    expect(demo.status).toBe('Completed');
    expect(demo.metrics.accuracy).toBeGreaterThan(0.8);
    runs.push(demo.runId);

    // The full spec verbatim through the service's validation (POST /runs), then cancelled: its budget is minutes.
    const full = readFileSync(example('training/penguins.train.yaml'), 'utf8');
    const accepted = await fetch(url('training', '/runs'), { method: 'POST', headers: { 'content-type': 'text/yaml' }, body: full });
    expect(accepted.status).toBe(202);
    const { runId } = (await accepted.json()) as { runId: string };
    await fetch(url('training', `/runs/${runId}/cancel`), { method: 'POST' });
    await eventually(async () => ['Cancelled', 'Completed', 'Failed'].includes((await getJson<{ status: string }>('training', `/runs/${runId}`)).status), 120_000, 'the full run to end');

    // The same spec with its search and epochs cut down trains through `mlp train`.
    const tiny = full.replace('trials: 6', 'trials: 2').replace('parallelism: 2', 'parallelism: 1').replace('epochs: 60', 'epochs: 8');
    expect(tiny).not.toBe(full);
    expect(tiny).toMatch(/trials: 2[\s\S]*epochs: 8|epochs: 8[\s\S]*trials: 2/);
    const tinyFile = join(home, 'penguins-tiny.train.yaml');
    writeFileSync(tinyFile, tiny);
    const trained = await mlpJson<{ runId: string; status: string }>('train', tinyFile);
    expect(trained.status).toBe('Completed');
    runs.push(trained.runId);
  });

  it('deployments: canary.rollout.yaml and shadow.rollout.yaml start the rollouts they describe', async () => {
    expect(runs).toHaveLength(2);
    // Both runs registered by hand; the first version in production.
    for (const runId of runs) await mlpJson('models', 'register', 'penguins', '--run', runId);
    const all = await mlpJson<{ version: number; runId: string }[]>('models', 'versions', 'penguins');
    const [v1, v2] = runs.map((r) => all.find((v) => v.runId === r)!.version);
    await mlpJson('promote', 'penguins', String(v1), '--alias', 'production');
    await eventually(async () => (await fetch(url('serving', '/v2/models/penguins/ready'))).ok || undefined, 60_000, 'serving penguins@production');

    const canary = await mlpJson<DeploymentView>('deploy', 'penguins', '--version', String(v2), '--spec', example('deployments/canary.rollout.yaml'));
    expect(canary.active).toMatchObject({
      strategy: 'canary',
      alias: 'production',
      stableVersion: v1,
      candidateVersion: v2,
      weights: { stable: 95, candidate: 5 },
      sticky: { header: 'x-mlp-key' },
      policy: { minRequests: 500, maxErrorRate: 0.01, maxP99Ms: 50, metrics: [{ metric: 'accuracy', op: '>=', value: 0.85 }] },
      schedule: { steps: [25, 50, 100], everySeconds: 600 },
    });
    expect(canary.history[0]).toMatchObject({ type: 'DeploymentStarted', data: expect.objectContaining({ reason: 'weekly retrain' }) });
    expect((await mlpJson<DeploymentView>('deploy', 'rollback', 'penguins')).active).toBeNull();

    const shadow = await mlpJson<DeploymentView>('deploy', 'penguins', '--version', String(v2), '--spec', example('deployments/shadow.rollout.yaml'));
    expect(shadow.active).toMatchObject({ strategy: 'shadow', stableVersion: v1, candidateVersion: v2, mirrorPercent: 20 });
    expect(shadow.mirror).toEqual({ version: v2, percent: 20 });
    expect(shadow.split).toEqual([{ arm: 'stable', version: v1, weight: 100 }, { arm: 'candidate', version: v2, weight: 0 }]);
    expect((await mlpJson<DeploymentView>('deploy', 'rollback', 'penguins')).active).toBeNull();
  });

  it('monitoring: churn.policy.yaml is applied, stored as written, and unchanged the second time', async () => {
    const file = example('monitoring/churn.policy.yaml');
    const first = await mlpJson<{ model: string; changed: boolean; policy: Record<string, unknown> }>('monitor', 'apply', file);
    expect(first).toMatchObject({ model: 'churn', changed: true });
    const written = parseYaml(readFileSync(file, 'utf8')) as Record<string, unknown>;
    expect(first.policy).toMatchObject({ model: 'churn', drift: written.drift, actions: written.actions, schedule: written.schedule });
    expect((await mlpJson<{ changed: boolean }>('monitor', 'apply', file)).changed).toBe(false);
  });

  it('the READMEs in examples/ name only files and commands that exist', async () => {
    const usage = (await mlp('help')).stdout;
    for (const readme of exampleFiles().filter((f) => f.endsWith('README.md'))) {
      const text = readFileSync(example(readme), 'utf8');
      const dir = join(examplesDir, readme, '..');
      const named = [...text.matchAll(/`([\w./-]+\.(?:csv|ya?ml))`/g)].map((m) => m[1]);
      for (const file of named) {
        const path = file.startsWith('examples/') ? join(repoRoot, file) : join(dir, file);
        expect({ readme, file, exists: statSync(path, { throwIfNoEntry: false })?.isFile() ?? false }).toEqual({ readme, file, exists: true });
      }
      for (const m of text.matchAll(/npx mlp ([a-z-]+)/g)) expect({ readme, command: m[1], known: usage.includes(`  ${m[1]} `) }).toEqual({ readme, command: m[1], known: true });
    }
    // The top-level README's references to examples/ too.
    for (const m of readFileSync(join(repoRoot, 'README.md'), 'utf8').matchAll(/examples\/[\w./-]*\.(?:csv|ya?ml)/g)) {
      expect({ file: m[0], exists: statSync(join(repoRoot, m[0]), { throwIfNoEntry: false })?.isFile() ?? false }).toEqual({ file: m[0], exists: true });
    }
  });

  it('every file in examples/ was exercised above', () => {
    expect(exampleFiles().filter((f) => !used.has(f))).toEqual([]);
  });
});
