import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mlp, startCliPlatform, type CliPlatform, type MlpRun as Run } from './cli-platform.fixture';

/** The last stdout line as JSON (`--json` prints the summary last). */
const lastJson = <T>(r: Run): T => JSON.parse(r.stdout.trim().split('\n').pop()!) as T;

describe('mlp train / runs / replay (embedded platform)', () => {
  jest.setTimeout(180_000);
  let cli: CliPlatform;
  let home: string;
  let env: NodeJS.ProcessEnv;

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
