import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { DuckDBInstance } from '@duckdb/node-api';
import { Client } from 'pg';
import { FsArtifactStore } from '@mlp/artifacts';
import { envKey, serviceNames, streams, subjects, type IngestionOutcome } from '@mlp/contracts';
import { handleCommand, SqliteEventStore } from '@mlp/eventstore';
import { MlpClient } from '@mlp/messaging';
import { baseConfigSchema, commandMetadata, createLogger, loadConfig, startService, type StartedService } from '@mlp/service-kit';
import { freePort } from '@mlp/testing';
import { ingestionService } from '../index';
import { ingestionJobDecider } from '../jobs/ingestion-job';

// The real PostgreSQL of the test machine (127.0.0.1:5432, trust auth, database `test`): the password is
// ignored by the server and is there to prove it never shows in events, logs or answers.
const PASSWORD = 'Tr0ub4dor-int-s3cret';
const CONNECTION_STRING = `postgres://postgres:${PASSWORD}@127.0.0.1:5432/test`;
const WORKER = 'sources-int-worker';

/**
 * The source policy of a running ingestion service, over HTTP and the
 * transport: file roots, the URL allow-list and named PostgreSQL connections.
 * A refused source is a 403 SOURCE_NOT_ALLOWED and writes no event.
 */
describe('ingestion sources: roots, allow-lists and named connections (HTTP and transport)', () => {
  jest.setTimeout(90_000);
  let dir: string;
  let inbox: string;
  let outside: string;
  let service: StartedService;
  let store: SqliteEventStore;
  let client: MlpClient;
  let logs = '';
  const answers: string[] = [];
  const table = `mlp_sources_int_${process.pid}_${Date.now()}`;
  const savedEnv: Record<string, string | undefined> = {};
  const resumedJob = 'resume-outside-roots';

  const processEnv = {
    MLP_WORKER_ID: WORKER,
    MLP_INGEST_RETRY_BASE_MS: '1',
    MLP_INGEST_RETRY_MAX_MS: '5',
    MLP_PG_CONNECTIONS: [
      'warehouse=postgres://postgres@127.0.0.1:5432/test',
      'viaref=postgres://postgres:${MLP_SOURCES_INT_PG_PASS}@127.0.0.1:5432/test',
      'missingdb=postgres://postgres@127.0.0.1:5432/mlp_no_such_db',
    ].join(','),
    MLP_PG_WAREHOUSE_PASSWORD: PASSWORD,
    MLP_PG_MISSINGDB_PASSWORD: PASSWORD,
    MLP_SOURCES_INT_PG_PASS: PASSWORD,
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlp-sources-'));
    inbox = join(dir, 'inbox'); // the default root: <MLP_HOME>/inbox
    outside = join(dir, 'outside');
    mkdirSync(inbox);
    mkdirSync(outside);
    writeFileSync(join(inbox, 'ok.csv'), 'id,v\n1,a\n2,b\n');
    writeFileSync(join(outside, 'secret.csv'), 'user,password\nroot,hunter2\n');
    symlinkSync(join(outside, 'secret.csv'), join(inbox, 'link.csv'));
    for (const [k, v] of Object.entries(processEnv)) {
      savedEnv[k] = process.env[k];
      process.env[k] = v;
    }
    const env: NodeJS.ProcessEnv = { MLP_HOME: dir, LOG_LEVEL: 'silent' };
    for (const s of serviceNames) {
      env[`MLP_${envKey(s)}_PORT`] = String(await freePort());
      env[`MLP_${envKey(s)}_RPC_PORT`] = String(await freePort());
    }
    const config = loadConfig(baseConfigSchema, env);
    store = new SqliteEventStore(join(dir, 'events.db'), { pollIntervalMs: 20 });
    // A job this worker started before a "crash", on a file outside the roots: resuming it must check again.
    await handleCommand(store, streams.ingestion(resumedJob), ingestionJobDecider, {
      type: 'StartIngestion',
      started: {
        jobId: resumedJob,
        dataset: 'resumed',
        source: { kind: 'file', uri: join(outside, 'secret.csv'), spec: { kind: 'file', path: join(outside, 'secret.csv') } },
        format: null,
        options: { csv: null },
        worker: WORKER,
      },
    }, commandMetadata());
    const artifacts = new FsArtifactStore({ root: join(dir, 'artifacts') });
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        logs += chunk.toString('utf8');
        done();
      },
    });
    const logger = createLogger({ service: 'ingestion', level: 'debug', destination: sink });
    service = await startService(ingestionService, { runtime: { eventStore: store, artifacts, config }, env, logger });
    client = new MlpClient(config);
  });

  afterAll(async () => {
    await client?.close();
    await service?.close();
    await store?.close();
    for (const [k, v] of Object.entries(savedEnv)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  /** POST an ingestion; every answer is kept for the credentials check. */
  const ingest = async (dataset: string, source: unknown, wait = true) => {
    const res = await fetch(`${service.url}/datasets/${dataset}/ingestions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ source, wait }),
    });
    const text = await res.text();
    answers.push(text);
    return { status: res.status, body: JSON.parse(text) as IngestionOutcome & { code?: string; name?: string; message?: string; details?: { path: string; message: string }[] } };
  };
  const eventCount = async () => (await store.readAll()).length;

  describe('file sources', () => {
    it('checks a resumed job again: one recorded on a file outside the roots fails, unread', async () => {
      const events = await new Promise<{ type: string; data: Record<string, unknown> }[]>((resolve, reject) => {
        const deadline = Date.now() + 20_000;
        const poll = async () => {
          const stream = await store.readStream(streams.ingestion(resumedJob));
          if (stream.length > 1) return resolve(stream as never);
          if (Date.now() > deadline) return reject(new Error('the interrupted job was not handled'));
          setTimeout(() => void poll(), 50);
        };
        void poll();
      });
      expect(events.map((e) => e.type)).toEqual(['IngestionStarted', 'IngestionFailed']);
      expect(events[1].data).toMatchObject({ code: 'SOURCE_NOT_ALLOWED' });
      expect(await store.streamExists(streams.dataset('resumed'))).toBe(false);
    });

    it.each([
      ['/etc/passwd', () => '/etc/passwd'],
      ['.. out of the inbox', () => join(inbox, '..', 'outside', 'secret.csv')],
      ['a relative .. path', () => '../outside/secret.csv'],
      ['a symlink in the inbox to a file outside', () => join(inbox, 'link.csv')],
    ])('refuses %s with 403 SOURCE_NOT_ALLOWED and writes no event', async (_what, path) => {
      const before = await eventCount();
      const { status, body } = await ingest('leak', { kind: 'file', path: path() });
      expect(status).toBe(403);
      expect(body).toMatchObject({ code: 'SOURCE_NOT_ALLOWED', name: 'ForbiddenError' });
      expect(body.message).toContain('MLP_INGEST_ROOTS');
      expect(await eventCount()).toBe(before);
      expect(await store.streamExists(streams.dataset('leak'))).toBe(false);
    });

    it('reads a file in the inbox, by absolute or inbox-relative path', async () => {
      const { status, body } = await ingest('inbox', { kind: 'file', path: 'ok.csv' });
      expect(status).toBe(201);
      expect(body).toMatchObject({ status: 'accepted', rows: 2 });
      const again = await ingest('inbox', { kind: 'file', path: join(inbox, 'ok.csv') });
      expect(again.body).toMatchObject({ status: 'duplicate', duplicateOf: 1 });
      // Typed formats too: the engine reads the checked descriptor (/proc/self/fd/N), whatever its name.
      const duck = await (await DuckDBInstance.create(':memory:')).connect();
      await duck.run(`COPY (SELECT i AS id, i * 0.5 AS x FROM range(5) t(i)) TO '${join(inbox, 'five.parquet')}' (FORMAT PARQUET)`);
      writeFileSync(join(inbox, 'rows.json'), JSON.stringify([{ id: 1 }, { id: 2 }]));
      expect((await ingest('inbox-parquet', { kind: 'file', path: 'five.parquet' })).body).toMatchObject({ status: 'accepted', rows: 5 });
      expect((await ingest('inbox-json', { kind: 'file', path: 'rows.json' })).body).toMatchObject({ status: 'accepted', rows: 2 });
    });

    it('refuses the same over the transport, without an event', async () => {
      const before = await eventCount();
      const err = await client
        .send(subjects.cmd.ingestion.startIngestion, { dataset: 'leak', source: { kind: 'file', path: '/etc/passwd' }, wait: true })
        .then(() => undefined, (e: unknown) => e);
      expect(err).toMatchObject({ name: 'ForbiddenError', code: 'SOURCE_NOT_ALLOWED' });
      expect(await eventCount()).toBe(before);
    });
  });

  describe('URL sources (embedded: loopback allowed by default)', () => {
    let server: Server;
    let base: string;
    beforeAll(async () => {
      server = createServer((req, res) => {
        if (req.url === '/data.csv') return void res.writeHead(200, { 'content-type': 'text/csv' }).end('id,v\n1,x\n2,y\n3,z\n');
        if (req.url === '/to-metadata') return void res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
        if (req.url === '/hop') return void res.writeHead(307, { location: '/to-metadata' }).end();
        // Redirects GET only: HEAD cannot see where it leads.
        if (req.url === '/get-to-metadata') {
          if (req.method === 'HEAD') return void res.writeHead(200, { 'content-type': 'text/csv' }).end();
          return void res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
        }
        res.writeHead(404).end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    it('downloads from a loopback server', async () => {
      const { status, body } = await ingest('web', { kind: 'url', url: `${base}/data.csv` });
      expect(status).toBe(201);
      expect(body).toMatchObject({ status: 'accepted', rows: 3 });
    });

    it.each([
      ['the metadata address', 'http://169.254.169.254/latest/meta-data/iam/security-credentials/'],
      ['a private address', 'http://10.0.0.1/data.csv'],
      ['another private address', 'http://192.168.1.10:8080/data.csv'],
      ['a unique local IPv6 address', 'http://[fd00::1]/data.csv'],
      ['a public address (not on the default list)', 'https://93.184.216.34/data.csv'],
      ['ftp://', 'ftp://127.0.0.1/data.csv'],
      ['file://', 'file:///etc/passwd'],
    ])('refuses %s with 403 SOURCE_NOT_ALLOWED and writes no event', async (_what, url) => {
      const before = await eventCount();
      const { status, body } = await ingest('web-refused', { kind: 'url', url });
      expect({ status, code: body.code }).toEqual({ status: 403, code: 'SOURCE_NOT_ALLOWED' });
      expect(await eventCount()).toBe(before);
    });

    it.each(['/to-metadata', '/hop'])('follows redirects before the job starts: %s leads to the metadata address, 403 SOURCE_NOT_ALLOWED and no event', async (path) => {
      const before = await eventCount();
      const { status, body } = await ingest('web-redirect', { kind: 'url', url: `${base}${path}` });
      expect({ status, code: body.code }).toEqual({ status: 403, code: 'SOURCE_NOT_ALLOWED' });
      expect(body.message).toContain('169.254.169.254');
      expect(await eventCount()).toBe(before);
      expect(await store.streamExists(streams.dataset('web-redirect'))).toBe(false);
    });

    it('checks every redirect of the download again: one HEAD did not show fails the job as SOURCE_NOT_ALLOWED, with no version', async () => {
      const { status, body } = await ingest('web-redirect', { kind: 'url', url: `${base}/get-to-metadata` });
      expect(status).toBe(422);
      expect(body.status).toBe('failed');
      expect(body.error).toContain('169.254.169.254');
      const job = await store.readStream(streams.ingestion(body.jobId));
      expect(job.map((e) => e.type)).toEqual(['IngestionStarted', 'IngestionFailed']);
      expect(job[1].data).toMatchObject({ code: 'SOURCE_NOT_ALLOWED' });
      expect(await store.streamExists(streams.dataset('web-redirect'))).toBe(false);
    });
  });

  describe('PostgreSQL sources', () => {
    let pg: Client;
    beforeAll(async () => {
      pg = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' });
      await pg.connect();
      await pg.query(`CREATE TABLE ${table} (id int, amount float8)`);
      await pg.query(`INSERT INTO ${table} VALUES (1, 10.5), (2, 20), (3, 30)`);
    });
    afterAll(async () => {
      await pg?.query(`DROP TABLE IF EXISTS ${table}`);
      await pg?.end();
    });

    it('reads through a named connection whose password comes from the environment', async () => {
      const a = await ingest('pg-named', { kind: 'postgres', connection: 'warehouse', query: `SELECT id, amount FROM ${table}` });
      expect(a).toMatchObject({ status: 201, body: { status: 'accepted', rows: 3 } });
      const b = await ingest('pg-ref', { kind: 'postgres', connection: 'viaref', query: `SELECT id FROM ${table} WHERE id > 1` });
      expect(b).toMatchObject({ status: 201, body: { status: 'accepted', rows: 2 } });
      const started = (await store.readStream(streams.ingestion(a.body.jobId)))[0].data as { source: { uri: string; spec: unknown } };
      expect(started.source).toEqual({
        kind: 'postgres',
        uri: `postgres (connection warehouse): SELECT id, amount FROM ${table}`,
        spec: { kind: 'postgres', connection: 'warehouse', query: `SELECT id, amount FROM ${table}` },
      });
    });

    it('fails a wrong database and a wrong table as jobs, naming the problem', async () => {
      const db = await ingest('pg-bad-db', { kind: 'postgres', connection: 'missingdb', query: 'SELECT 1 AS x' });
      expect(db.status).toBe(422);
      expect(db.body.error).toContain('database "mlp_no_such_db" does not exist');
      const tbl = await ingest('pg-bad-table', { kind: 'postgres', connection: 'warehouse', query: 'SELECT * FROM mlp_no_such_table' });
      expect(tbl.status).toBe(422);
      expect(tbl.body.error).toContain('relation "mlp_no_such_table" does not exist');
    });

    it('refuses a connection string or an unknown name in a request with a 400 on source.connection, and no event', async () => {
      const before = await eventCount();
      for (const connection of [CONNECTION_STRING, { env: 'MLP_PG_WAREHOUSE_PASSWORD' }, 'host=127.0.0.1 password=x']) {
        const { status, body } = await ingest('pg-raw', { kind: 'postgres', connection, query: 'SELECT 1' });
        expect(status).toBe(400);
        expect(body.details?.map((d) => d.path)).toContain('source.connection');
      }
      const unknown = await ingest('pg-raw', { kind: 'postgres', connection: 'nope', query: 'SELECT 1' });
      expect(unknown).toMatchObject({ status: 400, body: { code: 'UNKNOWN_CONNECTION', details: [{ path: 'source.connection', message: 'one of warehouse, viaref, missingdb' }] } });
      expect(await eventCount()).toBe(before);
    });

    it('leaves no password and no connection string in the events, the logs or the answers', async () => {
      const events = JSON.stringify(await store.readAll());
      const raw = ['events.db', 'events.db-wal'].filter((f) => existsSync(join(dir, f))).map((f) => readFileSync(join(dir, f)).toString('latin1'));
      // The failures above were logged (the capture works), with their reasons.
      expect(logs).toContain('mlp_no_such_db');
      expect(logs).toContain('mlp_no_such_table');
      expect(answers.length).toBeGreaterThan(5);
      const haystacks = { events, eventStoreFile: raw.join('\n'), logs, answers: answers.join('\n') };
      for (const [where, text] of Object.entries(haystacks)) {
        for (const secret of [PASSWORD, encodeURIComponent(PASSWORD), CONNECTION_STRING, 'postgres://postgres:']) {
          expect({ where, leaked: text.includes(secret) ? secret : null }).toEqual({ where, leaked: null });
        }
      }
    });
  });
});
