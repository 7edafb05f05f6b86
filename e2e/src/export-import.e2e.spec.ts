import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Client } from 'minio';
import { streams, type EventData } from '@mlp/contracts';
import { JetStreamEventStore } from '@mlp/eventstore';
import { SeededRng } from '@mlp/ml';
import { startInProcessServices, type InProcessServices } from '@mlp/service-kit/testing';
import { featureStoreService } from '@mlp/service-feature-store';
import { ingestionService } from '@mlp/service-ingestion';
import { trainingService } from '@mlp/service-training';
import { eventually, runMlp, startDistributedPlatform, type DistributedPlatform } from '@mlp/testing';

/** Card transactions of 40 customers; even customers spend ~10× more. One label per customer. */
function data(seed: number): { transactions: string; labels: string } {
  const rng = new SeededRng(seed);
  const txns = ['txn_id,customer_id,amount,ts'];
  const labels = ['customer_id,ts,big_spender'];
  for (let c = 0; c < 40; c++) {
    const id = `c${String(c).padStart(2, '0')}`;
    const scale = c % 2 === 0 ? 100 : 10;
    for (let k = 0; k < 4; k++) txns.push(`t${c}_${k},${id},${(scale * (0.5 + rng.next())).toFixed(2)},2024-01-${String(1 + Math.floor(rng.next() * 28)).padStart(2, '0')} 12:00:00`);
    labels.push(`${id},2024-02-01 00:00:00,${c % 2 === 0 ? 1 : 0}`);
  }
  return { transactions: txns.join('\n'), labels: labels.join('\n') };
}

const views = (p: string) => `entities:
  - {name: customer, joinKeys: [customer_id]}
featureViews:
  - name: ${p}spend
    entity: customer
    source: {dataset: ${p}txns}
    timestamp: ts
    ttl: 90d
    features:
      - {name: amount_mean_30d, agg: mean, column: amount, window: 30d}
      - {name: txn_count_30d, agg: count, window: 30d}
`;

const spec = (p: string) => `experiment: ${p}spenders
task: binary
data:
  trainingSet: {entities: {dataset: ${p}labels}, timestampColumn: ts, features: [${p}spend]}
  label: big_spender
preprocessing:
  - {impute: median, columns: numeric}
  - {scale: standard, columns: numeric}
split: {method: stratified, test: 0.25}
model: {type: mlp, layers: [4], epochs: 20, batchSize: 16, learningRate: 0.01}
evaluation: {baseline: naive}
seed: 3
`;

type Fetch = (path: string, init?: RequestInit) => Promise<Response>;
interface RunView {
  status: string;
  error?: string;
}

/** ingestion → feature store (view, materialization, point-in-time training set) → training; resolves with the completed run's id. */
async function pipeline(ingestion: Fetch, featureStore: Fetch, training: Fetch, prefix: string, seed: number): Promise<string> {
  const { transactions, labels } = data(seed);
  for (const [dataset, csv] of [[`${prefix}txns`, transactions], [`${prefix}labels`, labels]]) {
    const res = await ingestion(`/datasets/${dataset}/upload?format=csv`, { method: 'PUT', body: csv });
    expect(((await res.json()) as { status: string }).status).toBe('accepted');
  }
  expect((await featureStore('/feature-views', { method: 'PUT', headers: { 'content-type': 'text/yaml' }, body: views(prefix) })).status).toBe(200);
  expect((await featureStore(`/feature-views/${prefix}spend/materialize`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(200);
  const started = await training('/runs', { method: 'POST', headers: { 'content-type': 'text/yaml' }, body: spec(prefix) });
  expect(started.status).toBe(202);
  const { runId } = (await started.json()) as { runId: string };
  const run = await eventually(async () => {
    const r = (await (await training(`/runs/${runId}`)).json()) as RunView;
    return r.status !== 'Running' && r;
  }, 150_000, `run ${runId} to end`);
  expect(run.error).toBeUndefined();
  expect(run.status).toBe('Completed');
  return runId;
}

/**
 * Replay and run archives across platforms: a run trained through
 * ingestion → feature store → training in distributed mode (each service
 * its own process, nats-server and s3rver) replays to the same weights and
 * refuses a tampered input; a run trained on an embedded platform (SQLite,
 * files) is exported with `mlp export run`, imported into the distributed one
 * with `mlp import` (a tampered archive first, refused whole; then the real
 * one; then again, a no-op) and replays there to the same weights.
 */
describe('replay, export and import across platforms', () => {
  jest.setTimeout(300_000);
  let embedded: InProcessServices;
  let platform: DistributedPlatform;
  let events: JetStreamEventStore;
  let work: string;
  let embeddedRun: string;
  let distributedRun: string;
  const cliEnv = () => ({ MLP_TRAINING_URL: platform.url('training', ''), MLP_ADMIN_KEY: platform.adminKey, MLP_API_KEY: '', MLP_PROGRESS: '0' });

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'mlp-e2e-archive-'));
    [embedded, platform] = await Promise.all([
      startInProcessServices([ingestionService, featureStoreService, trainingService], {
        prefix: 'e2e-archive-src',
        env: { MLP_AUTH: 'off' },
        processEnv: (dir) => ({ MLP_ONLINE_STORE_URL: `sqlite://${join(dir, 'online.db')}`, MLP_AUTO_MATERIALIZE: 'off' }),
      }),
      startDistributedPlatform({ prefix: 'e2e-archive' }),
    ]);
    await Promise.all([
      platform.start('ingestion', 'ingestion'),
      platform.start('feature-store', 'feature-store', { MLP_AUTO_MATERIALIZE: 'off' }),
      platform.start('training', 'training'),
    ]);
    events = await JetStreamEventStore.connect({ servers: platform.nats.url });
  });

  afterAll(async () => {
    await events?.close();
    await platform?.stop();
    await embedded?.close();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  const [ingestionUrl, featureStoreUrl, trainingUrl] = [0, 1, 2].map((i) => (path: string, init?: RequestInit) => fetch(`${embedded.services[i].url}${path}`, init));
  const remote = (name: string): Fetch => (path, init) => platform.fetch(name, path, init);

  it('a distributed pipeline run replays to identical weights', async () => {
    distributedRun = await pipeline(remote('ingestion'), remote('feature-store'), remote('training'), 'd_', 7);
    const replay = await platform.call('training', 'POST', `/runs/${distributedRun}/replay`);
    expect(replay.status).toBe(200);
    expect(replay.body.identical).toBe(true);
    expect(replay.body.replayed).toBe(replay.body.original);
  });

  it('exports an embedded run; a tampered archive is refused whole; the real one imports, replays identically, and imports again as a no-op', async () => {
    embeddedRun = await pipeline(ingestionUrl, featureStoreUrl, trainingUrl, 'e_', 5);
    const original = (await (await trainingUrl(`/runs/${embeddedRun}`)).json()) as { weightsSha256: string };
    const sourceEnv = { MLP_TRAINING_URL: embedded.services[2].url, MLP_PROGRESS: '0' };
    const gz = join(work, 'run.tar.gz');
    const plain = join(work, 'run.tar');
    const exported = await runMlp(['export', 'run', embeddedRun, '--output', gz, '--json'], sourceEnv);
    expect(exported.stderr).toBe('');
    expect(exported.status).toBe(0);
    expect((await runMlp(['export', 'run', embeddedRun, '--output', plain], sourceEnv)).status).toBe(0);
    expect(gunzipSync(readFileSync(gz)).subarray(0, 512).toString('latin1')).toContain('manifest.json');

    // Flip one byte inside the first artifact's bytes: the archive no longer matches its manifest.
    const tar = readFileSync(plain);
    const header = tar.indexOf('artifacts/sha256/');
    expect(header).toBeGreaterThan(0);
    tar[header + 512 + 10] ^= 0xff;
    const tampered = join(work, 'tampered.tar');
    writeFileSync(tampered, tar);
    const refused = await runMlp(['import', tampered], cliEnv());
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(/invalid run archive: entry artifacts\/sha256\/[0-9a-f]{64} has sha256 [0-9a-f]{64}, not the/);
    expect(await events.readStream(streams.run(embeddedRun))).toEqual([]);

    const imported = await runMlp(['import', gz, '--json'], cliEnv());
    expect(imported.stderr).toBe('');
    expect(imported.status).toBe(0);
    const result = JSON.parse(imported.stdout) as { events: { appended: number; present: number }; artifacts: { uploaded: number }; streams: { stream: string }[] };
    expect(result.events.appended).toBeGreaterThan(0);
    expect(result.events.present).toBe(0);
    expect(result.artifacts.uploaded).toBeGreaterThan(0);
    expect(result.streams.map((s) => s.stream)).toEqual(
      expect.arrayContaining([streams.run(embeddedRun), streams.dataset('e_txns'), streams.dataset('e_labels'), streams.featureView('e_spend'), streams.experiment('e_spenders')]),
    );
    // Event ids are kept, so lineage links (causation, training set → run) still hold.
    const source = await embedded.store.readStream(streams.run(embeddedRun));
    const target = await events.readStream(streams.run(embeddedRun));
    expect(target.map((e) => e.id)).toEqual(source.map((e) => e.id));
    const requested = target[0].data as EventData<'TrainingRunRequested'>;
    expect((await events.readStream(streams.trainingSet(requested.data.trainingSetId!))).map((e) => e.id)).toEqual(
      (await embedded.store.readStream(streams.trainingSet(requested.data.trainingSetId!))).map((e) => e.id),
    );

    const replayed = await runMlp(['replay', 'run', embeddedRun, '--json'], cliEnv());
    expect(replayed.stderr).toBe('');
    expect(replayed.status).toBe(0);
    expect(JSON.parse(replayed.stdout)).toEqual({ runId: embeddedRun, identical: true, original: original.weightsSha256, replayed: original.weightsSha256 });

    const again = await runMlp(['import', gz, '--json'], cliEnv());
    expect(again.status).toBe(0);
    const second = JSON.parse(again.stdout) as { events: { appended: number; present: number; archived: number }; artifacts: { uploaded: number } };
    expect(second.events).toEqual({ archived: second.events.archived, present: second.events.archived, appended: 0 });
    expect(second.artifacts.uploaded).toBe(0);
    // Only the replay's event was added to the run stream.
    expect((await events.readStream(streams.run(embeddedRun))).length).toBe(source.length + 1);
  });

  it('reports a conflict when the target holds other events in a stream of the archive, and imports nothing', async () => {
    const res = await platform.fetch('training', `/runs/${distributedRun}/export`);
    expect(res.status).toBe(200);
    const archive = Buffer.from(await res.arrayBuffer());
    // The embedded platform gets its own, different d_txns dataset first.
    expect((await ingestionUrl('/datasets/d_txns/upload?format=csv', { method: 'PUT', body: 'txn_id,amount\n1,2\n' })).status).toBeLessThan(300);
    const conflict = await trainingUrl('/runs/import', { method: 'POST', headers: { 'content-type': 'application/gzip' }, body: archive });
    expect(conflict.status).toBe(409);
    const body = (await conflict.json()) as { code: string; message: string };
    expect(body.code).toBe('IMPORT_CONFLICT');
    expect(body.message).toMatch(/dataset-d_txns/);
    expect(await embedded.store.readStream(streams.run(distributedRun))).toEqual([]);
  });

  it('a replay whose input artifact was tampered with in the object store fails with INPUT_CHANGED and records nothing', async () => {
    const before = await events.readStream(streams.run(distributedRun));
    const requested = before[0].data as EventData<'TrainingRunRequested'>;
    const endpoint = new URL(platform.s3.endpoint);
    const s3 = new Client({ endPoint: endpoint.hostname, port: Number(endpoint.port), useSSL: false, accessKey: platform.s3.accessKey, secretKey: platform.s3.secretKey });
    await s3.putObject('e2e-archive', requested.data.artifactKey, Buffer.from('PAR1 not the training set PAR1'));
    const replay = await platform.call('training', 'POST', `/runs/${distributedRun}/replay`);
    expect(replay.status).toBe(409);
    expect(replay.body.code).toBe('INPUT_CHANGED');
    expect(replay.body.message).toContain(requested.data.artifactKey);
    expect(replay.body.message).toContain(requested.data.sha256);
    expect(await events.readStream(streams.run(distributedRun))).toHaveLength(before.length);
  });
});
