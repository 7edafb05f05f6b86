import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PushRowsResult } from '@mlp/contracts';
import { eventually, freePort, spawnTs, waitForHttp, type SpawnedProcess } from '@mlp/testing';

/** The ingestion service (with push registered) as a real process. */
const ENTRY = 'services/ingestion/src/main.ts';

interface VersionView {
  version: number;
  rows: number;
  accepted: number;
  quarantined: number;
  status: string;
  source: { kind: string; uri: string };
  quarantineArtifactKey: string | null;
}

const SCHEMA = `dataset: orders
primaryKey: [id]
columns:
  id: {type: int, required: true}
  amount: {type: float, min: 0, max: 1000}
  status: {type: category, values: [new, paid]}
`;

describe('HTTP push (ingestion service process)', () => {
  jest.setTimeout(120_000);
  let home: string;
  let env: NodeJS.ProcessEnv;
  let base: string;
  let service: SpawnedProcess | undefined;

  const start = async (extra: NodeJS.ProcessEnv = {}) => {
    service = spawnTs(ENTRY, [], { ...env, ...extra });
    await waitForHttp(`${base}/health/ready`, { process: service, timeoutMs: 60_000 });
  };
  const push = (dataset: string, body: string, headers: Record<string, string>) =>
    fetch(`${base}/datasets/${dataset}/rows`, { method: 'POST', headers, body });
  const json = { 'content-type': 'application/json', 'x-api-key': 'k1' };
  const ndjson = { 'content-type': 'application/x-ndjson', authorization: 'Bearer k1' };
  const versions = async (dataset: string): Promise<VersionView[]> => {
    const res = await fetch(`${base}/datasets/${dataset}`);
    return res.ok ? ((await res.json()) as { versions: VersionView[] }).versions : [];
  };
  const spoolFile = (dataset: string) => join(home, 'spool', 'push', dataset, 'current.ndjson');

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'mlp-push-'));
    const [http, rpc] = [await freePort(), await freePort()];
    base = `http://127.0.0.1:${http}`;
    env = {
      MLP_HOME: home,
      EVENTSTORE_URL: `sqlite://${join(home, 'events.db')}`,
      ARTIFACTS_URL: `file://${join(home, 'artifacts')}`,
      MLP_INGESTION_PORT: String(http),
      MLP_INGESTION_RPC_PORT: String(rpc),
      MLP_TRANSPORT: 'tcp',
      MLP_STREAM_INGEST: 'off',
      MLP_INGEST_API_KEYS: 'k1',
      MLP_PUSH_FLUSH_ROWS: '5',
      // Only the row count flushes here, so the counts below are deterministic.
      MLP_PUSH_FLUSH_MS: '600000',
      LOG_LEVEL: 'warn',
    };
    await start();
  });

  afterAll(async () => {
    await service?.kill('SIGKILL');
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('refuses a push without a key or with a wrong key (401) and spools nothing', async () => {
    const body = JSON.stringify({ rows: [{ id: 1 }] });
    for (const headers of <Record<string, string>[]>[{ 'content-type': 'application/json' }, { 'content-type': 'application/json', 'x-api-key': 'k2' }, { 'content-type': 'application/json', authorization: 'Bearer k11' }]) {
      const res = await push('orders', body, headers);
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ code: 'UNAUTHORIZED', name: 'UnauthorizedError' });
    }
    expect(existsSync(spoolFile('orders'))).toBe(false);
    expect(await versions('orders')).toEqual([]);
  });

  it('validates against the declared schema, spools, and flushes one version at the row threshold', async () => {
    const declared = await fetch(`${base}/datasets/orders/schema`, { method: 'PUT', headers: { 'content-type': 'text/yaml' }, body: SCHEMA });
    expect(declared.status).toBe(200);

    const first = await push(
      'orders',
      JSON.stringify({ rows: [{ id: 1, amount: 10, status: 'new' }, { id: 'two', amount: 20, status: 'new' }, { id: 3, amount: 5000, status: 'paid' }] }),
      json,
    );
    expect(first.status).toBe(202);
    const r1 = (await first.json()) as PushRowsResult;
    expect(r1).toMatchObject({ dataset: 'orders', accepted: 1, rejected: 2, buffered: 3, flushed: null });
    expect(r1.reasons).toEqual([
      { row: 2, reasons: [{ code: 'wrong_type', column: 'id', message: 'expected int, got two' }] },
      { row: 3, reasons: [expect.objectContaining({ code: 'out_of_range', column: 'amount' })] },
    ]);
    // Durable before the reply: accepted and rejected rows alike.
    expect(readFileSync(spoolFile('orders'), 'utf8').trim().split('\n')).toHaveLength(3);
    expect(await versions('orders')).toEqual([]);

    // NDJSON: a valid row and a line that is not JSON reach the threshold of 5.
    const second = await push('orders', '{"id": 4, "amount": 1.5, "status": "paid"}\n\n{broken json\n', ndjson);
    expect(second.status).toBe(200);
    const r2 = (await second.json()) as PushRowsResult;
    expect(r2).toMatchObject({ accepted: 1, rejected: 1, buffered: 0 });
    expect(r2.reasons).toEqual([{ row: 2, reasons: [{ code: 'malformed_row', column: null, message: 'not a JSON object' }] }]);
    expect(r2.flushed).toMatchObject({ dataset: 'orders', status: 'accepted', version: 1, rows: 5, accepted: 2, quarantined: 3 });

    const [v1] = await versions('orders');
    expect(v1).toMatchObject({ version: 1, rows: 5, accepted: 2, quarantined: 3, source: { kind: 'push', uri: 'http-push' } });
    expect(v1.quarantineArtifactKey).toBeTruthy();
    expect(existsSync(spoolFile('orders'))).toBe(false);

    // The quarantine explains every rejected row.
    const q = await fetch(`${base}/datasets/orders/versions/1/quarantine?format=ndjson`);
    expect(q.status).toBe(200);
    const quarantined = (await q.text()).trim().split('\n').map((l) => JSON.parse(l) as { reasons: { code: string }[] });
    expect(quarantined.map((r) => r.reasons.map((x) => x.code).join(',')).sort()).toEqual(['malformed_row', 'out_of_range', 'wrong_type']);
  });

  it('refuses a malformed request with 400 and spools nothing', async () => {
    for (const [body, headers] of [
      ['{"rows": []}', json],
      ['{"id": 1}', json],
      ['\n\n', ndjson],
      ['id,amount\n1,2', { 'content-type': 'text/csv', 'x-api-key': 'k1' }],
    ] as const) {
      const res = await push('orders', body, headers);
      expect(res.status).toBe(400);
    }
    expect((await push('bad name!', '[{"id":1}]', json)).status).toBe(400);
    expect(existsSync(spoolFile('orders'))).toBe(false);
  });

  it('loses nothing when killed: the spool is flushed on restart (a torn last line is dropped)', async () => {
    const res = await push('orders', JSON.stringify([{ id: 10, amount: 1, status: 'new' }, { id: 11, amount: -1, status: 'new' }]), json);
    expect(res.status).toBe(202);
    expect((await res.json()) as PushRowsResult).toMatchObject({ accepted: 1, rejected: 1, buffered: 2, flushed: null });

    await service!.kill('SIGKILL');
    expect(readFileSync(spoolFile('orders'), 'utf8').trim().split('\n')).toHaveLength(2);
    // A write cut short by the crash: never acknowledged to its client, so not a row.
    appendFileSync(spoolFile('orders'), '{"id": 12, "amo');
    expect(await versions('orders').catch(() => null)).toBeNull();

    await start({ MLP_PUSH_FLUSH_MS: '1000' });
    const v2 = await eventually(async () => (await versions('orders')).find((v) => v.version === 2), 30_000, 'version 2 from the spool');
    expect(v2).toMatchObject({ rows: 2, accepted: 1, quarantined: 1, source: { kind: 'push' } });
    await eventually(async () => !existsSync(join(home, 'spool', 'push', 'orders', 'current.ndjson')), 10_000, 'spool emptied');

    // The age flush (1 s here) turns a small push into a version without reaching the row count.
    const small = await push('orders', '{"id": 20, "amount": 2, "status": "paid"}\n', ndjson);
    expect((await small.json()) as PushRowsResult).toMatchObject({ accepted: 1, rejected: 0, buffered: 1, flushed: null });
    const v3 = await eventually(async () => (await versions('orders')).find((v) => v.version === 3), 30_000, 'version 3 by age');
    expect(v3).toMatchObject({ rows: 1, accepted: 1, quarantined: 0 });
    expect((await versions('orders')).map((v) => v.rows)).toEqual([5, 2, 1]);
  });
});
