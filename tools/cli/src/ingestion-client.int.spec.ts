import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotFoundError, ValidationError, type IngestionOutcome } from '@mlp/contracts';
import { CliError } from './api';
import { ingest, platformIsLocal, readableInPlace, waitForJob } from './ingestion-client';
import { StatusLine } from './progress';

/** The client against a stand-in ingestion service on a free port: what goes over the wire, in what order. */
describe('ingestion client (against a stand-in service)', () => {
  let server: Server;
  let env: NodeJS.ProcessEnv;
  let dir: string;
  const seen: { method: string; url: string; headers: IncomingMessage['headers']; bytes: number; text: string }[] = [];
  let route: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

  const reply = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const outcome = (over: Partial<IngestionOutcome> = {}): IngestionOutcome => ({
    jobId: 'job-1',
    dataset: 'p',
    status: 'accepted',
    version: 1,
    duplicateOf: null,
    rows: 2,
    accepted: 2,
    quarantined: 0,
    artifact: 'sha256/a',
    sha256: 'a',
    quarantineArtifact: null,
    reportArtifact: 'sha256/r',
    reasons: {},
    failedChecks: [],
    schemaChanges: 0,
    ...over,
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlp-cli-client-'));
    server = createServer((req, res) => {
      if (req.url?.startsWith('/datasets/early/')) {
        // Answers before reading the body, like a 400 on the path.
        reply(res, 400, { code: 'VALIDATION_FAILED', name: 'ValidationError', message: 'invalid path: name', details: [{ path: 'name', message: 'use letters' }] });
        req.resume();
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, bytes: body.length, text: body.length < 10_000 ? body.toString('utf8') : '' });
        route(req, res, body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    env = { MLP_INGESTION_URL: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(() => {
    seen.length = 0;
  });

  it('declares the schema as YAML, streams the file with its length and options, then polls the job', async () => {
    const file = join(dir, 'big.csv');
    writeFileSync(file, Buffer.alloc(3_000_000, 'a'));
    const schema = join(dir, 'p.schema.yaml');
    writeFileSync(schema, 'dataset: p\ncolumns:\n  a: {type: string}\n');
    let polls = 0;
    route = (req, res) => {
      if (req.method === 'PUT' && req.url === '/datasets/p/schema') return reply(res, 200, { name: 'p' });
      if (req.method === 'PUT' && req.url?.startsWith('/datasets/p/upload?')) return reply(res, 202, { jobId: 'job-1', status: 'running' });
      if (req.method === 'GET' && req.url === '/ingestions/job-1') {
        polls++;
        if (polls === 1) return reply(res, 404, { code: 'JOB_NOT_FOUND', name: 'NotFoundError', message: "ingestion job 'job-1' does not exist" });
        if (polls === 2) return reply(res, 200, outcome({ status: 'running' }));
        return reply(res, 200, outcome());
      }
      reply(res, 404, { code: 'NOT_FOUND', name: 'NotFoundError', message: `no route ${req.method} ${req.url}` });
    };
    const writes: string[] = [];
    let tick = 0;
    const status = new StatusLine({ isTTY: true, write: (t: string) => writes.push(t) }, () => (tick += 200));

    const result = await ingest({ dataset: 'p', source: file, schemaFile: schema, csv: { nullValues: ['NA'], header: true } }, { status, now: () => 0 }, env);

    expect(result).toEqual(outcome());
    expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual([
      'PUT /datasets/p/schema',
      'PUT /datasets/p/upload?filename=big.csv&wait=false&header=true&null=NA',
      'GET /ingestions/job-1',
      'GET /ingestions/job-1',
      'GET /ingestions/job-1',
    ]);
    expect(seen[0].headers['content-type']).toBe('text/yaml');
    expect(seen[0].text).toBe('dataset: p\ncolumns:\n  a: {type: string}\n');
    expect(seen[1].bytes).toBe(3_000_000);
    expect(seen[1].headers['content-length']).toBe('3000000');
    expect(seen[1].headers['transfer-encoding']).toBeUndefined();
    // The bar ended at 100% on its own line; the validating line was cleared.
    expect(writes).toContain('\ruploading [########################] 100%  3.0 MB / 3.0 MB\x1b[K\n');
    expect(writes.filter((w) => w.startsWith('\ruploading')).length).toBeGreaterThan(1);
    expect(writes).toContain('\rvalidating… 0.0s\x1b[K');
    expect(writes[writes.length - 1]).toBe('\r\x1b[K');
  });

  it('shows no bar for small files and hands a URL to the service', async () => {
    const small = join(dir, 'small.csv');
    writeFileSync(small, 'a\n1\n');
    route = (req, res) => {
      if (req.method === 'PUT') return reply(res, 202, { jobId: 'job-2', status: 'running' });
      if (req.method === 'POST') return reply(res, 202, { jobId: 'job-3', status: 'running' });
      return reply(res, 200, outcome({ jobId: req.url!.split('/').pop() }));
    };
    const writes: string[] = [];
    const status = new StatusLine({ isTTY: true, write: (t: string) => writes.push(t) });
    await ingest({ dataset: 'p', source: small, format: 'csv' }, { status }, env);
    expect(writes.some((w) => w.includes('uploading'))).toBe(false);
    expect(seen[0].url).toBe('/datasets/p/upload?format=csv&filename=small.csv&wait=false');
    expect(seen[0].text).toBe('a\n1\n');

    seen.length = 0;
    const fromUrl = await ingest({ dataset: 'p', source: 'https://data.example/p.csv', csv: { delimiter: ';' } }, { status: null }, env);
    expect(fromUrl.jobId).toBe('job-3');
    expect(seen[0].method).toBe('POST');
    expect(seen[0].url).toBe('/datasets/p/ingestions');
    expect(JSON.parse(seen[0].text)).toEqual({ source: { kind: 'url', url: 'https://data.example/p.csv' }, csv: { delimiter: ';' }, wait: false });
  });

  it('asks a local platform to read a file under its roots in place, and uploads it when the service refuses the path', async () => {
    const file = join(dir, 'inbox.csv');
    writeFileSync(file, 'a\n1\n');
    const local = { ...env, MLP_INGEST_ROOTS: dir };
    let refuse = true;
    route = (req, res) => {
      if (req.method === 'POST' && refuse) {
        return reply(res, 403, { code: 'SOURCE_NOT_ALLOWED', name: 'ForbiddenError', message: 'outside the roots' });
      }
      if (req.method === 'POST') return reply(res, 202, { jobId: 'job-4', status: 'running' });
      if (req.method === 'PUT') return reply(res, 202, { jobId: 'job-5', status: 'running' });
      return reply(res, 200, outcome({ jobId: req.url!.split('/').pop() }));
    };
    expect((await ingest({ dataset: 'p', source: file, format: 'csv' }, { status: null }, local)).jobId).toBe('job-5');
    expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual([
      'POST /datasets/p/ingestions',
      'PUT /datasets/p/upload?format=csv&filename=inbox.csv&wait=false',
      'GET /ingestions/job-5',
    ]);
    expect(JSON.parse(seen[0].text)).toEqual({ source: { kind: 'file', path: file }, format: 'csv', wait: false });
    expect(seen[1].text).toBe('a\n1\n');

    seen.length = 0;
    refuse = false;
    expect((await ingest({ dataset: 'p', source: file }, { status: null }, local)).jobId).toBe('job-4');
    expect(seen.map((r) => `${r.method} ${r.url}`)).toEqual(['POST /datasets/p/ingestions', 'GET /ingestions/job-4']);

    // A file outside the roots, or a platform elsewhere, is uploaded without asking.
    expect(await readableInPlace(file, env)).toBeUndefined();
    expect(await readableInPlace(file, local)).toBe(file);
    expect(await readableInPlace(file, { ...local, MLP_INGESTION_URL: 'http://ingestion.internal:7101' })).toBeUndefined();
    expect(platformIsLocal({ MLP_INGESTION_URL: 'http://[::1]:7101' })).toBe(true);
    expect(platformIsLocal({ MLP_INGESTION_URL: 'https://10.0.0.5:7101' })).toBe(false);
  });

  it("gives the service's answer when it refuses before taking the body", async () => {
    const file = join(dir, 'early.csv');
    writeFileSync(file, Buffer.alloc(2_000_000, 'b'));
    const attempt = ingest({ dataset: 'early', source: file }, { status: null }, env);
    await expect(attempt).rejects.toBeInstanceOf(ValidationError);
    await expect(ingest({ dataset: 'early', source: file }, { status: null }, env)).rejects.toThrow('invalid path: name');
  });

  it('checks the local file and schema before sending anything', async () => {
    route = (_req, res) => reply(res, 500, {});
    await expect(ingest({ dataset: 'p', source: join(dir, 'absent.csv') }, { status: null }, env)).rejects.toThrow(`no such file: ${join(dir, 'absent.csv')}`);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'dataset: p\ncolumns:\n  a: {type: nope}\n');
    writeFileSync(join(dir, 'ok.csv'), 'a\n');
    await expect(ingest({ dataset: 'p', source: join(dir, 'ok.csv'), schemaFile: bad }, { status: null }, env)).rejects.toThrow(
      `invalid dataset schema in ${bad}:\n  ${bad}:3:13 columns.a.type: expected one of int, float, bool, string, category, date, datetime, received "nope"`,
    );
    expect(seen).toEqual([]);
  });

  it('says how to start the platform when nothing answers', async () => {
    const file = join(dir, 'x.csv');
    writeFileSync(file, 'a\n');
    const dead = { MLP_INGESTION_URL: 'http://127.0.0.1:1' };
    const attempt = ingest({ dataset: 'p', source: file }, { status: null }, dead);
    await expect(attempt).rejects.toBeInstanceOf(CliError);
    await expect(ingest({ dataset: 'p', source: file }, { status: null }, dead)).rejects.toThrow('nothing answers at http://127.0.0.1:1 (ingestion). Start the platform with `npm start`');
  });

  it('gives up on a job that never appears', async () => {
    route = (_req, res) => reply(res, 404, { code: 'JOB_NOT_FOUND', name: 'NotFoundError', message: "ingestion job 'ghost' does not exist" });
    let t = 0;
    await expect(waitForJob('ghost', { status: null, now: () => (t += 4000) }, env)).rejects.toBeInstanceOf(NotFoundError);
  });
});
