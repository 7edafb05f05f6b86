import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mlp, remoteCliEnv, startCliPlatform, type CliPlatform, type MlpRun as Run } from './cli-platform.fixture';

/** The last stdout line as JSON (`--json` prints the summary last). */
const lastJson = <T>(r: Run): T => JSON.parse(r.stdout.trim().split('\n').pop()!) as T;

describe('mlp train / runs / replay (embedded platform)', () => {
  jest.setTimeout(180_000);
  let cli: CliPlatform;
  let home: string;
  let env: NodeJS.ProcessEnv;
  let runId: string;

  beforeAll(async () => {
    cli = await startCliPlatform('train');
    ({ home, env } = cli);
    const ingested = await mlp(['ingest', 'examples/data/penguins.csv', '--dataset', 'penguins', '--schema', 'examples/data/penguins.schema.yaml', '--null', 'NA', '--json'], env);
    expect(ingested.status).toBe(0);
  });

  afterAll(async () => cli?.close());

  it('trains with --json, shows and replays the run to identical weights', async () => {
    const trained = await mlp(['train', 'examples/training/penguins.train.yaml', '--json'], env);
    expect(trained.status).toBe(0);
    const summary = lastJson<{ runId: string; status: string; metrics: Record<string, number>; model: { artifact: string; sha256: string } }>(trained);
    expect(summary.status).toBe('Completed');
    expect(summary.metrics.accuracy).toBeGreaterThan(0.9);
    expect(summary.model.artifact).toMatch(/^sha256\/[0-9a-f]{64}$/);
    expect(summary.model.sha256).toMatch(/^[0-9a-f]{64}$/);

    const shown = await mlp(['runs', summary.runId], env);
    expect(shown.stdout).toMatch(/holdout metrics/);
    expect(shown.stdout).toMatch(/accuracy/);

    const replayed = await mlp(['replay', 'run', summary.runId, '--json'], env);
    expect(replayed.status).toBe(0);
    expect(lastJson(replayed)).toEqual({ runId: summary.runId, identical: true, original: summary.model.sha256, replayed: summary.model.sha256 });
    runId = summary.runId;
  });

  it('downloads run artifacts over HTTP to a CLI on another machine: the model card and the weights, byte for byte', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'mlp-cli-remote-'));
    try {
      const remote = remoteCliEnv(env, elsewhere);
      const run = (await (await fetch(`${remote.MLP_TRAINING_URL}/runs/${runId}`)).json()) as { weightsSha256: string; artifacts: { modelCard: string; weights: string } };
      const card = join(elsewhere, 'card.md');
      const r = await mlp(['runs', runId, '--artifact', 'model-card', '--output', card], remote);
      expect(r.status).toBe(0);
      expect(readFileSync(card).equals(readFileSync(join(home, 'artifacts', 'objects', ...run.artifacts.modelCard.split('/'))))).toBe(true);
      expect(readFileSync(card, 'utf8')).toMatch(/^# /);
      expect(r.stdout.trim()).toMatch(new RegExp(`^wrote ${card}: model-card of run ${runId}, [0-9.]+ k?B, sha256 [0-9a-f]{64}$`));

      const weights = join(elsewhere, 'weights.bin');
      const w = await mlp(['runs', runId, '--artifact', 'weights', '--output', weights, '--json'], remote);
      expect(w.status).toBe(0);
      const bytes = readFileSync(weights);
      expect(JSON.parse(w.stdout)).toEqual({ runId, artifact: 'weights', output: weights, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
      expect(`sha256/${JSON.parse(w.stdout).sha256}`).toBe(run.artifacts.weights);

      const bad = await mlp(['runs', runId, '--artifact', 'secrets', '--output', join(elsewhere, 'x')], remote);
      expect(bad.status).toBe(2);
      expect(bad.stderr).toMatch(/--artifact must be one of model, weights, preprocessing, report, model-card/);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('rejects a bad spec naming the field and line', async () => {
    const file = join(home, 'bad.yaml');
    writeFileSync(file, 'experiment: x\ntask: binary\ndata: {dataset: {name: penguins}, label: species}\nmodel: {type: mlp, epochs: 0}\n');
    const r = await mlp(['train', file], env);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/model\.epochs/);
    expect(r.stderr).toMatch(/line 4/);
  });
});
