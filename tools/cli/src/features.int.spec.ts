import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { OnlineFeaturesResponse, SkewReport } from '@mlp/contracts';
import { repoRoot } from '@mlp/testing';
import { mlp, remoteCliEnv, startCliPlatform, type CliPlatform } from './cli-platform.fixture';
import type { AppliedView, FeatureViewDetail, MaterializeReply, TrainingSetOutput } from './commands/features';

const examples = join(repoRoot, 'examples/features');
const transactionsCsv = join(examples, 'transactions.csv');
const transactionsSchema = join(examples, 'transactions.schema.yaml');
const featureViews = join(examples, 'featureviews.yaml');

/** `mlp … --json`, which must succeed: its parsed output. */
async function mlpJson<T>(args: string[], env: NodeJS.ProcessEnv): Promise<T> {
  const r = await mlp([...args, '--json'], env);
  if (r.status !== 0) throw new Error(`mlp ${args.join(' ')} exited ${r.status}: ${r.stderr}${r.stdout}`);
  return JSON.parse(r.stdout) as T;
}

// ---------------------------------------------------------------- reference values, computed here from the CSV

interface Txn {
  customer: string;
  amount: number;
  t: number;
}

const DAY = 86_400_000;
const transactions: Txn[] = readFileSync(transactionsCsv, 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => {
    const [, customer, amount, , , ts] = line.split(',');
    return { customer, amount: Number(amount), t: Date.parse(`${ts.replace(' ', 'T')}Z`) };
  });

/** The customer's latest transaction at or before `at` and the window features as of that row: (t - window, t]. */
function reference(customer: string, at = Infinity) {
  const own = transactions.filter((x) => x.customer === customer && x.t <= at);
  if (own.length === 0) return null;
  const t0 = Math.max(...own.map((x) => x.t));
  const within = (days: number) => own.filter((x) => x.t > t0 - days * DAY && x.t <= t0).map((x) => x.amount);
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const w7 = within(7);
  const w30 = within(30);
  const date = new Date(t0);
  return {
    t0,
    eventTimestamp: date.toISOString(),
    amount_sum_7d: sum(w7),
    txn_count_7d: w7.length,
    txn_count_30d: w30.length,
    amount_mean_30d: sum(w30) / w30.length,
    amount_max_30d: Math.max(...w30),
    amount_sum_30d: sum(w30),
    txn_hour: date.getUTCHours(),
    txn_weekday: (date.getUTCDay() + 6) % 7,
  };
}

/** `mlp features apply/materialize/get/check-skew/training-set --json` against the embedded platform started in this process, on examples/features. */
describe('mlp features (embedded platform, example data)', () => {
  jest.setTimeout(180_000);
  let cli: CliPlatform;
  let home: string;
  let env: NodeJS.ProcessEnv;
  let noTtlViews: string;

  beforeAll(async () => {
    cli = await startCliPlatform('features');
    ({ home, env } = cli);
    // The example view has a TTL and the data is from 2024: depending on the day it may be served as expired.
    // The same features without a TTL let the values themselves be checked.
    noTtlViews = join(home, 'featureviews-nottl.yaml');
    const text = readFileSync(featureViews, 'utf8');
    const variant = text.replace('name: customer_spend', 'name: customer_spend_nottl').replace(/^\s*ttl: .*\n/m, '');
    expect(variant).not.toBe(text);
    expect(variant).not.toMatch(/ttl:/);
    writeFileSync(noTtlViews, variant);
  });

  afterAll(async () => cli?.close());

  it('ingests the example transactions with their declared schema', async () => {
    const out = await mlpJson<{ status: string; rows: number; accepted: number; version: number }>(
      ['ingest', transactionsCsv, '--dataset', 'transactions', '--schema', transactionsSchema],
      env,
    );
    expect(out).toMatchObject({ status: 'accepted', version: 1, rows: 2000, accepted: 2000 });
  });

  it('applies the example feature views, and again finds them unchanged', async () => {
    expect(await mlpJson<AppliedView[]>(['features', 'apply', featureViews], env)).toEqual([{ name: 'customer_spend', version: 1, changed: true, breaking: false, diff: [] }]);
    expect(await mlpJson<AppliedView[]>(['features', 'apply', featureViews], env)).toEqual([{ name: 'customer_spend', version: 1, changed: false, breaking: false, diff: [] }]);
    expect(await mlpJson<AppliedView[]>(['features', 'apply', noTtlViews], env)).toEqual([expect.objectContaining({ name: 'customer_spend_nottl', version: 1, changed: true })]);

    const human = await mlp(['features', 'apply', featureViews], env);
    expect(human).toEqual({ status: 0, stdout: 'customer_spend: v1 unchanged\n', stderr: '' });
  });

  it('refuses a broken feature views file before sending it, naming the line and field (exit 1)', async () => {
    const bad = join(home, 'bad.yaml');
    writeFileSync(bad, readFileSync(featureViews, 'utf8').replace('window: 7d}', 'window: 7 days}'));
    const r = await mlp(['features', 'apply', bad], env);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^error: invalid feature views in ${bad}:\\n  ${bad}:\\d+:\\d+ featureViews\\.customer_spend\\.features\\.amount_mean_7d\\.window: expected a duration`));
  });

  let materialization: MaterializeReply['materialization'];

  it('materializes once: the offline table has every transaction, the online store one row per customer', async () => {
    const first = await mlpJson<MaterializeReply>(['features', 'materialize', 'customer_spend'], env);
    materialization = first.materialization;
    expect(materialization).toMatchObject({ name: 'customer_spend', version: 1, dataset: 'transactions', datasetVersion: 1, rows: 2000, onlineRows: 50, watermark: '2024-04-29 23:52:12' });
    const again = await mlpJson<MaterializeReply>(['features', 'materialize', 'customer_spend', '--dataset-version', '1'], env);
    expect(again).toEqual({ created: false, materialization });
    const detail = await mlpJson<FeatureViewDetail>(['features', 'describe', 'customer_spend'], env);
    expect(detail.materializations).toEqual([materialization]);
    expect((await mlpJson<MaterializeReply>(['features', 'materialize', 'customer_spend_nottl'], env)).materialization).toMatchObject({ rows: 2000, onlineRows: 50 });
  });

  it('looks customers up online: values as of their latest transaction, expired past the TTL, missing when unknown', async () => {
    const c1 = reference('C001')!;
    const customers = [...new Set(transactions.map((x) => x.customer))].sort();
    expect(customers).toHaveLength(50);
    const features = ['txn_count_7d', 'amount_sum_7d', 'txn_count_30d', 'amount_mean_30d', 'amount_max_30d', 'amount_sum_30d', 'txn_hour', 'txn_weekday'];
    const present = await mlpJson<OnlineFeaturesResponse>(
      ['features', 'get', 'customer_spend_nottl', ...customers.flatMap((c) => ['--entity', `customer_id=${c}`]), '--feature', features.join(',')],
      env,
    );
    expect(present.results.map((r) => r.entity.customer_id)).toEqual(customers);
    present.results.forEach((result, i) => {
      const want = reference(customers[i])!;
      expect(Object.keys(result.features)).toEqual(features.map((f) => `customer_spend_nottl:${f}`));
      for (const f of features) {
        const got = result.features[`customer_spend_nottl:${f}`];
        expect({ customer: customers[i], feature: f, status: got.status, eventTimestamp: got.eventTimestamp }).toEqual({ customer: customers[i], feature: f, status: 'present', eventTimestamp: want.eventTimestamp });
        expect(got.value as number).toBeCloseTo(want[f as keyof typeof want] as number, 9);
      }
    });

    const ttl = await mlpJson<OnlineFeaturesResponse>(
      ['features', 'get', 'customer_spend', '--entity', 'customer_id=C001', '--entity', 'customer_id=C999', '--feature', 'amount_sum_7d'],
      env,
    );
    // The example view's TTL decides, relative to today, whether C001's latest row is still served.
    const ttlDays = Number(/ttl: (\d+)d/.exec(readFileSync(featureViews, 'utf8'))![1]);
    const expired = Date.now() - Date.parse(c1.eventTimestamp) > ttlDays * 86_400_000;
    expect(ttl.results).toEqual([
      {
        entity: { customer_id: 'C001' },
        features: { 'customer_spend:amount_sum_7d': { value: expired ? null : expect.closeTo(c1.amount_sum_7d, 9), eventTimestamp: c1.eventTimestamp, status: expired ? 'expired' : 'present' } },
      },
      { entity: { customer_id: 'C999' }, features: { 'customer_spend:amount_sum_7d': { value: null, eventTimestamp: null, status: 'missing' } } },
    ]);

    const human = await mlp(['features', 'get', 'customer_spend_nottl', '--entity', 'customer_id=C001', '--feature', 'txn_count_30d'], env);
    expect(human.status).toBe(0);
    expect(human.stdout.split('\n').slice(0, 2)).toEqual([
      'CUSTOMER_ID  FEATURE        VALUE  EVENT TIME           STATUS',
      `C001         txn_count_30d  ${String(c1.txn_count_30d).padEnd(5)}  ${c1.eventTimestamp.slice(0, 10)} ${c1.eventTimestamp.slice(11, 19)}  present`,
    ]);
  });

  it('finds no skew between the online store and the offline table', async () => {
    const report = await mlpJson<SkewReport>(['features', 'check-skew', 'customer_spend'], env);
    expect(report).toMatchObject({ view: 'customer_spend', version: 1, materializationId: materialization.materializationId, sampled: 50, mismatches: [], missing: [], ok: true });
    expect((await mlpJson<SkewReport>(['features', 'check-skew', 'customer_spend', '--sample', '5'], env)).sampled).toBe(5);
  });

  it('builds a point-in-time training set from a local entities file and writes it as CSV', async () => {
    const labels = join(home, 'labels.csv');
    writeFileSync(labels, ['customer_id,label_ts,churned', 'C001,2024-04-01 00:00:00,0', 'C002,2024-03-15 12:00:00,1', 'C003,2024-02-01 00:00:00,0'].join('\n'));
    const output = join(home, 'training.csv');
    const out = await mlpJson<TrainingSetOutput>(
      ['features', 'training-set', '--entities', labels, '--timestamp', 'label_ts', '--features', 'customer_spend_nottl:amount_sum_30d,customer_spend:txn_count_7d', '--output', output],
      env,
    );
    expect(out).toMatchObject({
      rows: 3,
      columns: ['customer_id', 'label_ts', 'churned', 'customer_spend_nottl__amount_sum_30d', 'customer_spend__txn_count_7d'],
      entities: { dataset: 'labels-entities', version: 1, file: labels, ingestion: 'accepted' },
      output,
      format: 'csv',
    });
    expect(out.artifactKey).toBe(`sha256/${out.sha256}`);
    expect(out.inputs.map((i) => i.ref)).toEqual([
      'dataset:labels-entities@1',
      expect.stringMatching(/^featureview:customer_spend_nottl@1\/materialization:/),
      `featureview:customer_spend@1/materialization:${materialization.materializationId}`,
    ]);
    const [header, ...rows] = readFileSync(output, 'utf8').trim().split('\n');
    expect(header).toBe('customer_id,label_ts,churned,customer_spend_nottl__amount_sum_30d,customer_spend__txn_count_7d');
    const expected = [
      ['C001', '2024-04-01 00:00:00'],
      ['C002', '2024-03-15 12:00:00'],
      ['C003', '2024-02-01 00:00:00'],
    ].map(([c, ts]) => reference(c, Date.parse(`${ts.replace(' ', 'T')}Z`)));
    // C003's label is before any of the data: no feature row, empty fields.
    expect(expected[2]).toBeNull();
    expect(rows[2]).toBe('C003,2024-02-01 00:00:00,0,,');
    rows.slice(0, 2).forEach((row, i) => {
      const [, , , sum30, count7] = row.split(',');
      expect(Number(sum30)).toBeCloseTo(expected[i]!.amount_sum_30d, 6);
      expect(Number(count7)).toBe(expected[i]!.txn_count_7d);
    });
  });

  it('writes Parquet byte for byte as stored, reuses an ingested entities file, and prints rows and sha256', async () => {
    const labels = join(home, 'labels.csv');
    const output = join(home, 'training.parquet');
    const r = await mlp(['features', 'training-set', '--entities', labels, '--timestamp', 'label_ts', '--features', 'customer_spend', '--output', output], env);
    expect(r.status).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe(`entities: ${labels} is already version 1 of dataset 'labels-entities'`);
    expect(lines[1]).toMatch(/^training set [0-9a-f-]{36}: 3 rows, 14 columns \(customer_id, label_ts, churned, customer_spend__amount_mean_7d, /);
    const sha = /^ {2}sha256: {3}([0-9a-f]{64})$/.exec(lines[2])?.[1];
    expect(sha).toBe(createHash('sha256').update(readFileSync(output)).digest('hex'));
    expect(lines[lines.length - 1]).toBe(`wrote ${output}`);
  });

  it('downloads the training set over HTTP for a CLI on another machine (another MLP_HOME, only URLs), with a progress bar', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'mlp-cli-remote-'));
    try {
      const remote = remoteCliEnv(env, elsewhere);
      const output = join(elsewhere, 'remote.parquet');
      const r = await mlp(['features', 'training-set', '--entities', 'transactions:1', '--timestamp', 'ts', '--features', 'customer_spend:amount_log', '--output', output], {
        ...remote,
        MLP_PROGRESS: '1',
      });
      expect(r.status).toBe(0);
      const sha = /^ {2}sha256: {3}([0-9a-f]{64})$/m.exec(r.stdout)?.[1];
      const key = /^ {2}artifact: (sha256\/[0-9a-f]{64})$/m.exec(r.stdout)?.[1];
      expect(key).toBe(`sha256/${sha}`);
      // The bytes written are the artifact's bytes in the platform's store.
      const stored = readFileSync(join(home, 'artifacts', 'objects', ...key!.split('/')));
      const written = readFileSync(output);
      expect(written.length).toBe(stored.length);
      expect(written.equals(stored)).toBe(true);
      expect(createHash('sha256').update(written).digest('hex')).toBe(sha);
      expect(r.stdout.trim().split('\n').pop()).toBe(`wrote ${output}`);
      expect(r.stderr).toMatch(/downloading training set \[#{24}\] 100%/);

      // --json: the same download, one JSON document on stdout and no progress anywhere.
      const asJson = join(elsewhere, 'remote.csv');
      const j = await mlp(['features', 'training-set', '--entities', 'transactions:1', '--timestamp', 'ts', '--features', 'customer_spend:amount_log', '--output', asJson, '--json'], remote);
      expect(j.status).toBe(0);
      expect(j.stderr).toBe('');
      expect(JSON.parse(j.stdout)).toMatchObject({ rows: 2000, output: asJson, format: 'csv', entities: { dataset: 'transactions', version: 1, file: null, ingestion: null } });
      expect(readFileSync(asJson, 'utf8').trim().split('\n')).toHaveLength(2001);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});
