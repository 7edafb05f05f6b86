import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { Client } from 'pg';
import { InfrastructureError, ValidationError } from '@mlp/contracts';
import { ident } from '@mlp/data';
import { isoTimestamptz, postgresSource, wrapForWatermark, type PostgresSourceOptions } from './postgres-source';
import type { RetryInfo } from '@mlp/service-kit';

// The real server of the test machine: 127.0.0.1:5432, database `test`, trust auth.
// The password is ignored by trust auth; it is there to prove it never leaks.
const PASSWORD = 'hunter2-s3cret';
const PG_URL = `postgres://postgres:${PASSWORD}@127.0.0.1:5432/test`;
const CONNECTION = { name: 'warehouse', connectionString: PG_URL };
const policy = { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 };

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const lines = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** The error a promise rejects with; fails the test if it resolves. */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: Error) => ({ error }),
  );
  if ('value' in outcome) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.value)}`);
  return outcome.error;
}

function retries() {
  const calls: RetryInfo[] = [];
  return { calls, run: { retry: policy, onRetry: async (info: RetryInfo) => void calls.push(info) } };
}

/** Nothing about the connection string may show, including in causes and properties. */
function expectNoSecret(value: unknown) {
  const text = typeof value === 'string' ? value : inspect(value, { depth: 10, showHidden: true });
  expect(text).not.toContain(PASSWORD);
  expect(text).not.toMatch(/postgres(ql)?:\/\/\S*@/); // a connection URL with user info
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('postgresSource (real PostgreSQL)', () => {
  const table = `mlp_src_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const T = ident(table);
  const MARK = 'Updated "At"'; // a column name that needs quoting
  // `"2024"` sorts first in a JS object: the file must keep the result's order.
  const query = `SELECT id, name, amount, ${ident(MARK)}, day, payload, flag, score, "2024" FROM ${T}`;
  let admin: Client;
  let workDir: string;

  beforeAll(async () => {
    admin = new Client(PG_URL);
    await admin.connect();
    await admin.query(`CREATE TABLE ${T} (
      id bigint PRIMARY KEY, name text, amount numeric(12,2), ${ident(MARK)} timestamptz,
      day date, payload bytea, flag boolean, score double precision, "2024" integer)`);
    await admin.query(`INSERT INTO ${T} VALUES
      (3, 'carol', 0.10, '2024-01-03 00:00:00.999999+00', '2024-01-03', NULL, false, NULL, 9),
      (1, 'alice', 10.50, '2024-01-01 10:00:00.000001+00', '2024-01-01', '\\x0102ff', true, 1.5, 7),
      (2, 'bob', NULL, '2024-01-02 12:30:00.123456+02', '1999-12-31', '', NULL, 'NaN', NULL),
      (99, 'no time', 1, NULL, NULL, NULL, NULL, NULL, NULL)`);
  });

  afterAll(async () => {
    await admin.query(`DROP TABLE IF EXISTS ${T}`);
    await admin.end();
  });

  beforeEach(() => {
    workDir = mkdtempSync(join(tmpdir(), 'pg-source-'));
  });
  afterEach(() => rmSync(workDir, { recursive: true, force: true }));

  const source = (extra: Partial<PostgresSourceOptions> = {}): PostgresSourceOptions => ({
    connection: CONNECTION,
    query,
    watermark: { column: MARK },
    batchSize: 2,
    ...extra,
  });

  it('reads every row in watermark order to NDJSON and returns the largest watermark, then only newer rows', async () => {
    const r = retries();
    const first = await postgresSource(source(), workDir, r.run);
    expect(first.rows).toBe(4);
    expect(first.format).toBe('ndjson');
    expect(first.watermark).toBe('2024-01-03T00:00:00.999999Z');
    const text = readFileSync(first.path, 'utf8');
    expect(first.sha256).toBe(sha256(text));
    expect(first.sizeBytes).toBe(Buffer.byteLength(text));
    // Exact text: key order of the result, int8/numeric as strings, exact UTC timestamps, dates as text, bytea base64.
    expect(text.split('\n')).toEqual([
      `{"id":"1","name":"alice","amount":"10.50","Updated \\"At\\"":"2024-01-01T10:00:00.000001Z","day":"2024-01-01","payload":"AQL/","flag":true,"score":1.5,"2024":7}`,
      `{"id":"2","name":"bob","amount":null,"Updated \\"At\\"":"2024-01-02T10:30:00.123456Z","day":"1999-12-31","payload":"","flag":null,"score":"NaN","2024":null}`,
      `{"id":"3","name":"carol","amount":"0.10","Updated \\"At\\"":"2024-01-03T00:00:00.999999Z","day":"2024-01-03","payload":null,"flag":false,"score":null,"2024":9}`,
      `{"id":"99","name":"no time","amount":"1.00","Updated \\"At\\"":null,"day":null,"payload":null,"flag":null,"score":null,"2024":null}`,
      '',
    ]);
    expect(first.description.startsWith('postgres query (connection warehouse): SELECT id, name, amount, ')).toBe(true);
    expect(first.description.endsWith(' [watermark "Updated ""At"""]')).toBe(true);
    expectNoSecret(first.description);
    expect(r.calls).toHaveLength(0);

    // Newer rows, and a late one older than the watermark: only the newer ones come.
    await admin.query(`INSERT INTO ${T} (id, name, ${ident(MARK)}) VALUES
      (4, 'dave', '2024-01-04 08:00:00+00'), (5, 'erin', '2024-01-05 09:15:30.5+01'), (6, 'late', '2023-12-31 00:00:00+00')`);
    const second = await postgresSource(source({ watermark: { column: MARK, after: first.watermark } }), workDir, r.run);
    expect(lines(second.path).map((row) => [row.id, row[MARK]])).toEqual([
      ['4', '2024-01-04T08:00:00Z'],
      ['5', '2024-01-05T08:15:30.5Z'],
    ]);
    expect(second).toMatchObject({ rows: 2, watermark: '2024-01-05T08:15:30.5Z' });
    expect(second.description).toContain(`> ${first.watermark}`);

    // Nothing newer: an empty file and the watermark unchanged.
    const third = await postgresSource(source({ watermark: { column: MARK, after: second.watermark } }), workDir, r.run);
    expect(third).toMatchObject({ rows: 0, sizeBytes: 0, sha256: sha256(''), watermark: second.watermark });
    expect(readdirSync(workDir).sort()).toEqual([first.path, second.path, third.path].map((p) => p.slice(workDir.length + 1)).sort());
    expect(r.calls).toHaveLength(0);
  });

  it('without a watermark, runs the query as given and returns a null watermark', async () => {
    const r = retries();
    const result = await postgresSource(
      { connection: CONNECTION, query: `SELECT 'x' AS b, 1 AS "2", id FROM ${T} WHERE id IN (1, 2) ORDER BY id DESC;` },
      workDir,
      r.run,
    );
    expect(result).toMatchObject({ rows: 2, watermark: null });
    expect(readFileSync(result.path, 'utf8')).toBe('{"b":"x","2":1,"id":"2"}\n{"b":"x","2":1,"id":"1"}\n');
  });

  it('shows the query on one line, truncated, in the description', async () => {
    const long = `SELECT id,\n       name\n  FROM ${T}\n WHERE id = 1 ${'AND true '.repeat(30)}`;
    const result = await postgresSource({ connection: CONNECTION, query: long }, workDir, retries().run);
    expect(result.rows).toBe(1);
    const prefix = 'postgres query (connection warehouse): ';
    const shown = `SELECT id, name FROM ${T} WHERE id = 1 ${'AND true '.repeat(30)}`.slice(0, 119);
    expect(result.description).toBe(`${prefix}${shown}…`);
  });

  it('fails a SQL syntax error at once, with the server message and no connection string', async () => {
    const r = retries();
    const err = await rejection(postgresSource(source({ query: `SELECT id,, name FROM ${T}` }), workDir, r.run));
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.message).toBe('postgres query failed: syntax error at or near ","');
    expect(r.calls).toHaveLength(0);
    expectNoSecret(err);
    expect(readdirSync(workDir)).toEqual([]);
  });

  it('reports an unknown watermark column and a bad watermark value as query errors', async () => {
    const r = retries();
    const noColumn = await rejection(postgresSource(source({ watermark: { column: 'nope' } }), workDir, r.run));
    expect(noColumn).toBeInstanceOf(ValidationError);
    expect(noColumn.message).toContain('column q.nope does not exist');
    // The value is a bind parameter: SQL in it is just a bad timestamp.
    const injected = await rejection(postgresSource(source({ watermark: { column: MARK, after: "x' OR '1'='1" } }), workDir, r.run));
    expect(injected).toBeInstanceOf(ValidationError);
    expect(injected.message).toContain('invalid input syntax for type timestamp with time zone');
    expect(r.calls).toHaveLength(0);
  });

  it('runs the query read-only', async () => {
    const err = await rejection(postgresSource(source({ query: `DELETE FROM ${T} WHERE id = 1 RETURNING *`, watermark: undefined }), workDir, retries().run));
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.message).toContain('read-only transaction');
    expect((await admin.query(`SELECT count(*)::int AS n FROM ${T} WHERE id = 1`)).rows[0].n).toBe(1);
  });

  it('refuses a result with two columns of the same name', async () => {
    const err = await rejection(postgresSource(source({ query: `SELECT 1 AS a, 2 AS a`, watermark: undefined }), workDir, retries().run));
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.message).toContain('returns the column "a" twice');
  });

  it('takes the session settings of the connection URL; timestamps still come out in UTC', async () => {
    // A session time zone of +05:45.
    const tz = { name: 'tz', connectionString: `${PG_URL}?options=-c%20TimeZone%3DAsia/Kathmandu` };
    const result = await postgresSource({ connection: tz, query: `SELECT id, ${ident(MARK)} FROM ${T} WHERE id = 2` }, workDir, retries().run);
    expect(readFileSync(result.path, 'utf8')).toBe('{"id":"2","Updated \\"At\\"":"2024-01-02T10:30:00.123456Z"}\n');
    expect(result.description).toBe(`postgres query (connection tz): SELECT id, "Updated ""At""" FROM ${T} WHERE id = 2`);
    expectNoSecret(result.description);
  });

  it('retries a refused connection, then fails with an InfrastructureError that hides the connection string', async () => {
    const port = await closedPort();
    const closed = { name: 'closed', connectionString: `postgres://postgres:${PASSWORD}@127.0.0.1:${port}/test` };
    {
      const r = retries();
      const err = await rejection(postgresSource(source({ connection: closed }), workDir, r.run));
      expect(err).toBeInstanceOf(InfrastructureError);
      expect(err.message).toBe(`postgres query (connection closed) failed after 3 attempts: connect ECONNREFUSED 127.0.0.1:${port}`);
      expect(r.calls.map((c) => c.attempt)).toEqual([1, 2]);
      expect(r.calls.every((c) => c.error.message === `connect ECONNREFUSED 127.0.0.1:${port}`)).toBe(true);
      expectNoSecret(err);
      r.calls.forEach((c) => expectNoSecret(c.error));
      expect(readdirSync(workDir)).toEqual([]);
    }
  });

  it('never shows a malformed connection string', async () => {
    const invalid = await rejection(postgresSource(source({ connection: { name: 'bad', connectionString: `postgres://postgres:${PASSWORD}@[::1/test` } }), workDir, retries().run));
    expect(invalid).toBeInstanceOf(ValidationError);
    expect(invalid.message).toBe('the URL of connection bad is not valid');
    expectNoSecret(invalid);

    const keyValue = await rejection(postgresSource(source({ connection: { name: 'bad', connectionString: `host=127.0.0.1 user=postgres password=${PASSWORD}` } }), workDir, retries().run));
    expect(keyValue.message).toBe('connection bad is not a postgres:// or postgresql:// URL');
    expectNoSecret(keyValue);
  });
});

describe('postgres text helpers', () => {
  it('converts timestamptz text to exact UTC ISO', () => {
    expect(isoTimestamptz('2024-01-02 05:04:05.123456+02')).toBe('2024-01-02T03:04:05.123456Z');
    expect(isoTimestamptz('2024-01-01 00:10:00-05:45')).toBe('2024-01-01T05:55:00Z');
    expect(isoTimestamptz('2024-03-01 00:00:00+00:00:30')).toBe('2024-02-29T23:59:30Z');
    expect(isoTimestamptz('infinity')).toBe('infinity');
    expect(isoTimestamptz('0044-03-15 12:00:00+00 BC')).toBe('0044-03-15 12:00:00+00 BC');
  });

  it('wraps a query for a watermark with the column quoted and the value bound', () => {
    expect(wrapForWatermark('SELECT * FROM t -- recent', 'a"b', true)).toBe(
      'SELECT * FROM (\nSELECT * FROM t -- recent\n) AS q WHERE q."a""b" > $1 ORDER BY q."a""b" ASC NULLS LAST',
    );
    expect(wrapForWatermark('SELECT 1 AS x', 'x', false)).toBe('SELECT * FROM (\nSELECT 1 AS x\n) AS q ORDER BY q."x" ASC NULLS LAST');
  });
});
