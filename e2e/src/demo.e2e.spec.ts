import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envKey, serviceNames, type ServiceName } from '@mlp/contracts';
import { distributedPids, eventually, freePort, repoRoot, spawnTs, type SpawnedProcess } from '@mlp/testing';

interface Started {
  mode: 'embedded' | 'distributed';
  home: string;
  ports: Record<ServiceName, number>;
  platform: SpawnedProcess;
  stdout: () => string;
}

/** The fields of monitoring's GET /events rows these checks read. */
type EventView = { position: number; id: string; stream: string; causationId: string | null; actor: string; data: Record<string, unknown> };

const DONE = 'Ctrl-C stops the platform.';

/**
 * `mlp up` (what `npm start` runs), or `mlp up --distributed` (six processes, a
 * nats-server and an s3rver it starts itself), on a fresh MLP_HOME and free
 * ports; its stdout kept apart from stderr.
 */
async function startDemo(mode: Started['mode']): Promise<Started> {
  const home = mkdtempSync(join(tmpdir(), 'mlp-demo-e2e-'));
  const env: NodeJS.ProcessEnv = {
    MLP_HOME: home, LOG_LEVEL: 'warn', EVENTSTORE_URL: '', ARTIFACTS_URL: '', MLP_TRANSPORT: '', MLP_PROGRESS: '0', MLP_SERVING_GRPC_PORT: String(await freePort()),
    NATS_URL: '', S3_ENDPOINT: '', MLP_ADMIN_KEY: '', MLP_API_KEY: '',
  };
  const ports = {} as Record<ServiceName, number>;
  for (const service of serviceNames) {
    ports[service] = await freePort();
    env[`MLP_${envKey(service)}_PORT`] = String(ports[service]);
    env[`MLP_${envKey(service)}_RPC_PORT`] = String(await freePort());
  }
  const platform = spawnTs('tools/cli/src/main.ts', mode === 'distributed' ? ['up', '--distributed'] : ['up'], env);
  let out = '';
  platform.child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  return { mode, home, ports, platform, stdout: () => out };
}

/** The bootstrap admin key `mlp up --distributed` printed (none in embedded mode: auth is off there). */
const adminKey = (run: Started): string | undefined => /this command uses it\): ([0-9a-f]{48})$/m.exec(run.stdout())?.[1];

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function finished(run: Started): Promise<string> {
  return eventually(
    async () => {
      if (run.platform.child.exitCode !== null) throw new Error(`mlp up exited ${run.platform.child.exitCode}:\n${run.platform.output()}`);
      return run.stdout().includes(DONE) && run.stdout();
    },
    360_000,
    'the demo to finish',
  ).catch((err: Error) => {
    throw new Error(`${run.mode}: ${err.message}; its output so far:\n${run.stdout().slice(-3000)}\n${run.platform.output().slice(-2000)}`);
  });
}

/** The output with what legitimately differs between runs masked: timings, ports, MLP_HOME, ids (the demo's API keys' too), timestamps, the code version. */
function stable(output: string): string {
  return output
    .replace(/[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}/g, '<uuid>')
    .replace(/\b[0-9a-f]{8}\b/g, '<id>')
    .replace(/apikey:[0-9a-f]{12}\b/g, 'apikey:<key>')
    .replace(/\d+\.\d s$/gm, '<s>')
    .replace(/total \d+\.\d s/g, 'total <s>')
    .replace(/ready in \d+ ms/g, 'ready in <ms>')
    .replace(/127\.0\.0\.1:\d+/g, '<host>')
    .replace(/\/tmp\/mlp-demo-e2e-\w+/g, '<home>')
    .replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '<time>')
    .replace(/@[\w.-]+:\d+/g, '@<host>:<pid>')
    .replace(/code [\w.+-]+/g, 'code <code>');
}

/**
 * The `npm start` demo end to end, twice on fresh homes (at the same time, to
 * keep the suite short): every stage's outcome in its output and in the event
 * store (read through monitoring's GET /events), and the output the same on
 * both runs apart from timings and ids.
 */
describe('npm start: the demo through every stage', () => {
  jest.setTimeout(420_000);
  let a: Started;
  let b: Started;
  let outA: string;
  let outB: string;

  /** Events of `type` in `run`'s event log (SQLite embedded, JetStream distributed), through its monitoring's GET /events. */
  const eventsOf = async (run: Started, type: string, stream?: string): Promise<EventView[]> => {
    const q = new URLSearchParams({ type, limit: '1000', ...(stream ? { stream } : {}) });
    const key = adminKey(run);
    const res = await fetch(`http://127.0.0.1:${run.ports.monitoring}/events?${q}`, { headers: key ? { 'x-api-key': key } : {} });
    expect(res.status).toBe(200);
    return ((await res.json()) as { events: EventView[] }).events.sort((x, y) => x.position - y.position);
  };

  beforeAll(async () => {
    [a, b] = await Promise.all([startDemo('embedded'), startDemo('distributed')]);
    [outA, outB] = await Promise.all([finished(a), finished(b)]);
  });

  afterAll(async () => {
    for (const run of [a, b]) {
      await run?.platform.kill('SIGKILL');
      // Should the CLI have died before stopping them: its services and nats-server, by pid.
      for (const pid of run ? distributedPids(run.stdout()) : []) if (alive(pid)) process.kill(pid, 'SIGKILL');
      if (run) rmSync(run.home, { recursive: true, force: true });
    }
  });

  describe.each([['embedded'], ['distributed']] as const)('%s mode', (mode) => {
    const run = () => (mode === 'embedded' ? a : b);
    const out = () => (mode === 'embedded' ? outA : outB);
    const events = (type: string, stream?: string) => eventsOf(run(), type, stream);

    it('announces the eight stages in order and ends with the summary, the dashboard URL and commands that exist', () => {
      const titles = [...out().matchAll(/^\[(\d)\/8\] (.+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
      expect(titles).toEqual(['1 ingest', '2 features', '3 train', '4 evaluate', '5 register', '6 serve', '7 drift → retrain → canary', '8 lineage']);
      const summary = out().slice(out().indexOf('\nsummary\n'));
      for (const [i, stage] of ['ingest', 'features', 'train', 'evaluate', 'register', 'serve', 'drift → retrain → canary', 'lineage'].entries()) {
        expect(summary).toMatch(new RegExp(`^${i + 1}\\. ${stage} .+ \\d+\\.\\d s$`, 'm'));
      }
      expect(out()).toContain(`dashboard: http://127.0.0.1:${run().ports.monitoring}/`);
      const explore = out().slice(out().indexOf('explore further:'), out().indexOf('dashboard:')).split('\n').slice(1).map((l) => l.trim()).filter(Boolean);
      expect(explore.length).toBeGreaterThan(5);
      const main = readFileSync(join(repoRoot, 'tools/cli/src/main.ts'), 'utf8');
      for (const command of explore) expect(main).toContain(`case '${command.split(' ')[2]}':`);
      expect(explore).toContain('npx mlp lineage model penguins 2');
    });

    it('stage 1: two penguins versions, the bad rows quarantined and the schema change recorded', async () => {
      expect(out()).toContain('348 rows: 343 accepted, 5 quarantined (missing_required 2, out_of_range 1, unknown_category 1, wrong_type 1)');
      expect(out()).toContain('schema changes: column "island" now accepts nulls');
      const versions = (await events('DatasetVersionIngested')).filter((e) => e.data.dataset === 'penguins');
      expect(versions.map((e) => e.data.version)).toEqual([1, 2]);
      const quarantined = (await events('RowsQuarantined')).find((e) => e.data.dataset === 'penguins' && e.data.version === 2);
      expect(quarantined?.data).toMatchObject({ count: 5, reasons: { missing_required: 2, out_of_range: 1, unknown_category: 1, wrong_type: 1 } });
      const change = (await events('SchemaChangeDetected')).find((e) => e.data.dataset === 'penguins');
      expect(change?.data).toMatchObject({ version: 2, previousVersion: 1, diff: [expect.objectContaining({ kind: 'nullability_changed', column: 'island' })] });
    });

    it('stages 2-5: the feature view materialized, a search with cross-validation, fairness slices, approved and in production', async () => {
      expect((await events('FeatureViewMaterialized')).map((e) => e.data.name)).toContain('customer_spend');
      const requested = (await events('TrainingRunRequested')).filter((e) => JSON.stringify(e.data).includes('penguins'));
      expect(requested).toHaveLength(2); // the demo's run and the retraining
      const firstRun = requested[0].stream.replace(/^run-/, '');
      expect((await events('TrialCompleted', requested[0].stream))).toHaveLength(3);
      const evaluated = (await events('ModelEvaluated', requested[0].stream))[0];
      expect(evaluated.data).toMatchObject({ blessed: true, fairness: { attributes: { sex: { slices: { female: expect.any(Object), male: expect.any(Object) } } } } });
      expect(out()).toMatch(/sex=female: \d+ rows, accuracy [\d.]+/);
      const registered = (await events('ModelVersionRegistered')).filter((e) => e.data.name === 'penguins');
      expect(registered.map((e) => e.data.runId)[0]).toBe(firstRun);
      // Approver and assigner: the two keys the demo made for the step (made, then revoked, in both modes), as recorded and as printed.
      const created = await events('ApiKeyCreated');
      const keyOf = (name: string) => `apikey:${created.find((e) => e.data.name === name)?.data.id as string}`;
      const [reviewer, assigner] = [keyOf('demo-reviewer'), keyOf('demo')];
      expect(reviewer).toMatch(/^apikey:[0-9a-f]{12}$/);
      expect(assigner).toMatch(/^apikey:[0-9a-f]{12}$/);
      expect((await events('ApiKeyRevoked')).map((e) => `apikey:${e.data.id as string}`).sort()).toEqual([reviewer, assigner].sort());
      const approved = (await events('ModelVersionApproved'))[0];
      expect(approved.data).toMatchObject({ version: 1, alias: 'production', approvedBy: reviewer });
      expect(approved.actor).toBe(reviewer);
      const first = (await events('ModelAliasAssigned')).find((e) => e.data.alias === 'production');
      expect(first?.data).toMatchObject({ version: 1, actor: assigner });
      expect(first?.actor).toBe(assigner);
      expect(out()).toContain(`approved version 1 for production by ${reviewer} (key 'demo-reviewer')`);
      expect(out()).toContain(`production → version 1 by ${assigner} (key 'demo')`);
    });

    it('stage 6: the same predictions over REST, V2 REST and gRPC', () => {
      const answers = [...out().matchAll(/^ {4}(?:REST|gRPC) .+ → ([A-Za-z, ]+?)(?: {2}\(p .+)?$/gm)].map((m) => m[1]);
      expect(answers).toHaveLength(3);
      expect(new Set(answers).size).toBe(1);
      expect(answers[0].split(', ').every((s) => ['Adelie', 'Chinstrap', 'Gentoo'].includes(s))).toBe(true);
    });

    it('stage 7: drift → alert and retraining → a new version → canary → promoted by the policy', async () => {
      const detected = await events('DriftDetected', 'monitor-penguins');
      expect(detected).toHaveLength(1);
      // The policy sets the window (no MLP_MONITORING_WINDOW in either mode): a window opened before it (by stage 6) adopts its 200 rows.
      const windows = (await events('DriftReportComputed', 'monitor-penguins')).map((e) => (e.data.window as { rows: number }).rows);
      expect(windows.length).toBeGreaterThanOrEqual(2);
      expect(windows.filter((rows) => rows !== 200)).toEqual([]);
      for (const resized of await events('DriftWindowResized', 'monitor-penguins')) expect(resized.data).toMatchObject({ from: { size: 1000 }, to: { size: 200 }, closes: false });
      const trigger = (await events('RetrainingTriggered', 'monitor-penguins'))[0];
      expect(trigger.causationId).toBe(detected[0].id);
      expect((await events('AlertRaised')).some((e) => e.data.model === 'penguins' && e.data.condition === 'drift')).toBe(true);
      const retraining = `retraining-${trigger.data.triggerId as string}`;
      const canary = (await events('CanaryDeploymentRequested', retraining))[0];
      expect(canary.data).toMatchObject({ model: 'penguins', version: 2, percent: 20 });
      const started = (await events('DeploymentStarted', 'deployment-penguins')).at(-1)!;
      expect(started.data).toMatchObject({ strategy: 'canary', stableVersion: 1, candidateVersion: 2 });
      const promoted = (await events('DeploymentPromoted', 'deployment-penguins'))[0];
      expect(promoted.data).toMatchObject({ version: 2, previousVersion: 1, by: 'policy' });
      expect(out()).toContain('canary promoted by the policy (DeploymentPromoted); production → version 2');
    });

    it('stage 8: the lineage tree of the final production version', async () => {
      const production = (await events('ModelAliasAssigned')).filter((e) => e.data.alias === 'production').at(-1)!;
      expect(production.data).toMatchObject({ version: 2 });
      const lineage = out().slice(out().indexOf('[8/8] lineage'), out().indexOf('\nsummary\n'));
      expect(lineage).toContain('lineage of penguins version 2, production');
      expect(lineage).toMatch(/└─ run [0-9a-f-]{36} \[penguins\] completed; .*seed 42/);
      expect(lineage).toMatch(/└─ dataset penguins v2 \(accepted\): sha256 [0-9a-f]{64}/);
    });
  });

  it('prints the same stages in both modes, apart from timings and ids (the same demo code; only URLs and the key differ)', () => {
    // The summary's columns are as wide as the longest time: the padding before a time is masked with it.
    const stages = (out: string) => stable(out.slice(out.indexOf('[1/8] ingest'), out.indexOf('dashboard:'))).replace(/ +(<s>|TIME)$/gm, ' $1');
    expect(stages(outB)).toEqual(stages(outA));
    expect(outA).not.toContain('bootstrap admin key');
    expect(outB).toMatch(/^ {2}NATS: nats:\/\/127\.0\.0\.1:\d+ \(nats-server -js started here/m);
    expect(outB).toMatch(/^ {2}artifacts: s3:\/\/mlp on http:\/\/127\.0\.0\.1:\d+ \(s3rver started here/m);
  });

  it('distributed: Ctrl-C stops every process it started and removes the JetStream and S3 temp dirs; each service logged to MLP_HOME/logs', async () => {
    const pids = distributedPids(outB);
    expect(pids).toHaveLength(7);
    expect(pids.every(alive)).toBe(true);
    expect(readdirSync(b.home).filter((f) => /^(nats|s3)-/.test(f))).toHaveLength(2);
    b.platform.child.kill('SIGINT');
    expect(await b.platform.exited).toBe(0);
    await eventually(async () => pids.every((pid) => !alive(pid)), 30_000, 'every child process gone');
    expect(readdirSync(b.home).filter((f) => /^(nats|s3)-/.test(f))).toEqual([]);
    for (const service of serviceNames) expect(existsSync(join(b.home, 'logs', `${service}.log`))).toBe(true);
  });
});
