import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { penguinsSpec } from '@mlp/testing';
import { mlp, startCliPlatform, type CliPlatform, type MlpRun } from './cli-platform.fixture';

const SPEC = (seed: number, min: number) => penguinsSpec({ sensitive: true, seed, evaluation: `{baseline: naive, gate: {accuracy: {min: ${min}}}}` });

/** `--json` prints exactly one JSON document. */
function doc<T>(r: MlpRun): T {
  expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
  return JSON.parse(r.stdout) as T;
}

describe('mlp models / promote / approve / rollback / lineage (embedded platform)', () => {
  jest.setTimeout(240_000);
  let cli: CliPlatform;
  let env: NodeJS.ProcessEnv;
  let dir: string;
  const as = (actor: string) => ({ ...env, MLP_ACTOR: actor });
  let blessed: string;
  let unblessed: string;

  beforeAll(async () => {
    cli = await startCliPlatform('registry');
    env = cli.env;
    dir = mkdtempSync(join(tmpdir(), 'mlp-cli-registry-'));
    expect((await mlp(['ingest', 'examples/data/penguins.csv', '--dataset', 'penguins', '--schema', 'examples/data/penguins.schema.yaml', '--null', 'NA', '--json'], env)).status).toBe(0);
    for (const [seed, min] of [[3, 0.8], [4, 1.5]] as const) {
      writeFileSync(join(dir, `s${seed}.yaml`), SPEC(seed, min));
      const trained = await mlp(['train', join(dir, `s${seed}.yaml`), '--json'], env);
      const summary = JSON.parse(trained.stdout.trim().split('\n').pop()!) as { runId: string; status: string };
      expect(summary.status).toBe('Completed');
      if (seed === 3) blessed = summary.runId;
      else unblessed = summary.runId;
    }
  });
  afterAll(async () => {
    await cli?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('lists the auto-registered version, registers another by hand, and searches versions', async () => {
    let versions: { version: number; runId: string; source: string }[] = [];
    for (let i = 0; i < 100 && versions.length === 0; i++) {
      versions = doc<typeof versions>(await mlp(['models', 'versions', 'penguins', '--json'], env));
      if (versions.length === 0) await new Promise((r) => setTimeout(r, 200));
    }
    expect(versions).toMatchObject([{ version: 1, runId: blessed, source: 'auto' }]);
    const registered = doc<{ version: number; runId: string; source: string; blessed: boolean }>(await mlp(['models', 'register', 'penguins', '--run', unblessed, '--tag', 'why=compare', '--json'], env));
    expect(registered).toMatchObject({ version: 2, runId: unblessed, source: 'manual', blessed: false });
    const tagged = doc<{ version: number }[]>(await mlp(['models', 'versions', 'penguins', '--tag', 'why=compare', '--json'], env));
    expect(tagged.map((v) => v.version)).toEqual([2]);
    const again = await mlp(['models', 'register', 'penguins', '--run', unblessed], env);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/already registered as version 2/);
    const human = await mlp(['models', 'versions', 'penguins'], env);
    expect(human.stdout).toMatch(/VERSION\s+STATUS\s+ALIASES/);
  });

  it('needs an approval by someone else before production; promotes, shows the history, rolls back, and refuses a rollback with no history', async () => {
    expect(doc(await mlp(['models', 'policy', 'penguins', '--registration', 'blessed-only', '--approval', 'production', '--json'], env))).toEqual({
      registration: 'blessed-only',
      approvalRequiredFor: ['production'],
      source: 'model',
    });
    const refused = await mlp(['promote', 'penguins', '1', '--alias', 'production', '--json'], as('alice'));
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/needs an approval of version 1 by an actor other than alice/);
    expect(doc<{ approvals: { approvedBy: string }[] }>(await mlp(['approve', 'penguins', '1', '--alias', 'production', '--json'], as('bob'))).approvals).toMatchObject([{ approvedBy: 'bob' }]);
    expect(doc(await mlp(['promote', 'penguins', '1', '--alias', 'production', '--reason', 'first launch', '--json'], as('alice')))).toMatchObject({
      alias: 'production',
      version: 1,
      previousVersion: null,
      kind: 'assigned',
      actor: 'alice',
    });
    expect((await mlp(['approve', 'penguins', '2', '--alias', 'production'], as('bob'))).status).toBe(0);
    expect(doc(await mlp(['promote', 'penguins', '2', '--alias', 'production', '--reason', 'try v2', '--json'], as('alice')))).toMatchObject({ version: 2, previousVersion: 1, kind: 'moved' });
    const rolled = doc<{ version: number; kind: string; reason: string }>(await mlp(['rollback', 'penguins', '--reason', 'worse on live traffic', '--json'], as('oncall')));
    expect(rolled).toMatchObject({ version: 1, kind: 'rolled-back', reason: 'worse on live traffic' });
    const none = await mlp(['rollback', 'penguins', '--alias', 'production'], env);
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/cannot roll back alias 'production' of 'penguins'.*no previous version to go back to/);
    const history = doc<{ current: number; history: { version: number; kind: string; actor: string }[] }>(await mlp(['models', 'history', 'penguins', '--json'], env));
    expect(history.current).toBe(1);
    expect(history.history.map((h) => `${h.version}:${h.kind}:${h.actor}`)).toEqual(['1:assigned:alice', '2:moved:alice', '1:rolled-back:oncall']);
    expect(doc<{ aliases: Record<string, number> }>(await mlp(['models', 'penguins', '--json'], env)).aliases).toEqual({ production: 1 });
  });

  it('prints the lineage tree with the dataset sha256, the graph with --json, and the reverse query', async () => {
    const graph = doc<{ root: string; nodes: { id: string; sha256?: string }[] }>(await mlp(['lineage', 'model', 'penguins', '1', '--json'], env));
    const dataset = graph.nodes.find((n) => n.id === 'dataset:penguins@1')!;
    expect(dataset.sha256).toMatch(/^[0-9a-f]{64}$/);
    const tree = await mlp(['lineage', 'model', 'penguins', '1'], env);
    expect(tree.status).toBe(0);
    expect(tree.stdout).toMatch(/^model penguins v1 \(active\)/);
    expect(tree.stdout).toContain(`run ${blessed}`);
    expect(tree.stdout).toContain(`sha256 ${dataset.sha256}`);
    const ol = doc<{ events: { eventType: string; job: { name: string } }[] }>(await mlp(['lineage', 'model', 'penguins', '1', '--openlineage'], env));
    expect(ol.events.map((e) => e.job.name)).toEqual(['ingestion.penguins', 'training.penguins']);
    expect(doc<{ models: { name: string; version: number }[] }>(await mlp(['lineage', 'dataset', 'penguins', '1', '--json'], env)).models.map((m) => m.version)).toEqual([1, 2]);
  });
});
