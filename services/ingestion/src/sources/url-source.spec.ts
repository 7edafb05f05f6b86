import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { ForbiddenError, InfrastructureError, ValidationError } from '@mlp/contracts';
import { HttpStatusError, UrlPolicy, type RetryInfo } from '@mlp/service-kit';
import { redactUrl, urlSource } from './url-source';

const CSV = 'id,name\n1,alice\n2,bob\n';
const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');
const policy = { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 };
/** Loopback only, as the embedded platform allows by default. */
const allow = UrlPolicy.parse('127.0.0.0/8,::1');

/** Loopback server; `hits` counts requests per path. */
function startServer(handler: (req: IncomingMessage, res: ServerResponse, hit: number) => void) {
  const hits = new Map<string, number>();
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const hit = (hits.get(path) ?? 0) + 1;
    hits.set(path, hit);
    handler(req, res, hit);
  });
  return { server, hits };
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return port;
}

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
  return { calls, onRetry: async (info: RetryInfo) => void calls.push(info) };
}

describe('urlSource', () => {
  const big = Buffer.alloc(3 * 1024 * 1024, 'x,y\n'); // 3 MiB, sent in 64 KiB chunks
  const { server, hits } = startServer((req, res, hit) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    switch (path) {
      case '/flaky.csv':
        if (hit <= 2) {
          res.writeHead(503, { 'content-type': 'text/plain' }).end('try later');
        } else {
          res.writeHead(200, { 'content-type': 'text/csv' }).end(CSV);
        }
        return;
      case '/missing.csv':
        res.writeHead(404).end('no such file');
        return;
      case '/secure/data.csv':
        if (req.headers.authorization === `Basic ${Buffer.from('alice:p@ss word').toString('base64')}`) res.writeHead(200).end(CSV);
        else res.writeHead(401).end();
        return;
      case '/export':
        res.writeHead(200, { 'content-type': 'text/tab-separated-values; charset=utf-8' }).end('a\tb\n1\t2\n');
        return;
      case '/download':
        res.writeHead(200, { 'content-type': 'application/octet-stream' }).end('{"a":1}\n{"a":2}\n');
        return;
      case '/big': {
        res.writeHead(200, { 'content-type': 'text/csv' }); // chunked: no content-length
        let offset = 0;
        const push = () => {
          while (offset < big.length) {
            const chunk = big.subarray(offset, offset + 65536);
            offset += chunk.length;
            if (!res.write(chunk)) return void res.once('drain', push);
          }
          res.end();
        };
        push();
        return;
      }
      case '/sized.csv':
        res.writeHead(200, { 'content-length': String(CSV.length) }).end(CSV);
        return;
      case '/hang':
        return; // never answers
      default:
        res.writeHead(500).end();
    }
  });
  let base: string;
  let workDir: string;

  beforeAll(async () => {
    base = `http://127.0.0.1:${await listen(server)}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  beforeEach(() => {
    workDir = mkdtempSync(join(tmpdir(), 'url-source-'));
  });
  afterEach(() => rmSync(workDir, { recursive: true, force: true }));

  it('retries 503 twice, then downloads the CSV on the third attempt', async () => {
    const r = retries();
    const source = await urlSource(`${base}/flaky.csv`, workDir, { policy: allow, retry: policy, onRetry: r.onRetry });
    expect(hits.get('/flaky.csv')).toBe(3);
    expect(r.calls.map((c) => c.attempt)).toEqual([1, 2]);
    expect(r.calls.every((c) => c.error instanceof HttpStatusError && c.error.status === 503)).toBe(true);
    expect(r.calls.every((c) => c.delayMs >= 0 && c.delayMs <= policy.maxDelayMs)).toBe(true);
    expect(source).toMatchObject({ format: 'csv', sha256: sha256(CSV), sizeBytes: CSV.length, description: `url ${base}/flaky.csv` });
    expect(readFileSync(source.path, 'utf8')).toBe(CSV);
    // Only the finished file is left: failed attempts cleaned up after themselves.
    expect(readdirSync(workDir)).toEqual([source.path.slice(workDir.length + 1)]);
  });

  it('fails at once on 404, without retrying or leaving a file', async () => {
    const r = retries();
    const err = await rejection(urlSource(`${base}/missing.csv`, workDir, { policy: allow, retry: policy, onRetry: r.onRetry }));
    expect(err).toBeInstanceOf(HttpStatusError);
    expect((err as HttpStatusError).status).toBe(404);
    expect(err.message).toBe(`HTTP 404 Not Found from url ${base}/missing.csv`);
    expect(hits.get('/missing.csv')).toBe(1);
    expect(r.calls).toHaveLength(0);
    expect(readdirSync(workDir)).toEqual([]);
  });

  it('retries a refused connection, then fails with an InfrastructureError', async () => {
    const r = retries();
    const port = await closedPort();
    const err = await rejection(urlSource(`http://127.0.0.1:${port}/data.csv`, workDir, { policy: allow, retry: policy, onRetry: r.onRetry }));
    expect(err).toBeInstanceOf(InfrastructureError);
    expect(err.message).toBe(`download of http://127.0.0.1:${port}/data.csv failed after 3 attempts: connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(r.calls.map((c) => c.attempt)).toEqual([1, 2]);
    expect(r.calls.every((c) => c.error.message.includes('ECONNREFUSED'))).toBe(true);
    expect(readdirSync(workDir)).toEqual([]);
  });

  it('keeps credentials and secret query parameters out of the description, and sends user:pass as Basic auth', async () => {
    const r = retries();
    const url = `http://alice:p%40ss%20word@${base.slice(7)}/secure/data.csv?token=T0K3N&page=2&X-Amz-Signature=S1G&api_key=K3Y&Password=PW#access_token=FR4G`;
    const source = await urlSource(url, workDir, { policy: allow, retry: policy, onRetry: r.onRetry });
    expect(source.description).toBe(`url ${base}/secure/data.csv?page=2`);
    for (const secret of ['alice', 'p%40ss', 'T0K3N', 'S1G', 'K3Y', 'PW', 'FR4G']) expect(source.description).not.toContain(secret);
    expect(source.sha256).toBe(sha256(CSV));
    expect(r.calls).toHaveLength(0);
  });

  it('names no secret in the error of a failed download', async () => {
    const err = await rejection(urlSource(`http://bob:hunter22@${base.slice(7)}/missing.csv?signature=S1G`, workDir, {
      policy: allow,
      retry: policy,
      onRetry: async () => undefined,
    }));
    expect(err.message).toBe(`HTTP 404 Not Found from url ${base}/missing.csv`);
  });

  it('takes the format from the content type when the path has no extension, else from the content', async () => {
    const opts = { policy: allow, retry: policy, onRetry: async () => undefined };
    expect((await urlSource(`${base}/export`, workDir, opts)).format).toBe('tsv');
    expect((await urlSource(`${base}/download`, workDir, opts)).format).toBe('ndjson');
    expect((await urlSource(`${base}/download`, workDir, { ...opts, format: 'json' })).format).toBe('json');
  });

  it('streams a large chunked body to disk with the right hash', async () => {
    const source = await urlSource(`${base}/big`, workDir, { policy: allow, retry: policy, onRetry: async () => undefined });
    expect(source).toMatchObject({ format: 'csv', sizeBytes: big.length, sha256: sha256(big) });
    expect(source.path.endsWith('.csv')).toBe(true);
  });

  it('refuses bodies over maxBytes, declared or streamed, without retrying', async () => {
    const r = retries();
    await expect(urlSource(`${base}/sized.csv`, workDir, { policy: allow, retry: policy, onRetry: r.onRetry, maxBytes: 10 })).rejects.toThrow(
      `url ${base}/sized.csv is larger than the limit of 10 bytes`,
    );
    await expect(urlSource(`${base}/big`, workDir, { policy: allow, retry: policy, onRetry: r.onRetry, maxBytes: 1_000_000 })).rejects.toThrow(ValidationError);
    expect(r.calls).toHaveLength(0);
    expect(readdirSync(workDir)).toEqual([]);
  });

  it('retries an attempt that gets no answer within timeoutMs', async () => {
    const r = retries();
    const err = await rejection(urlSource(`${base}/hang`, workDir, {
      policy: allow,
      retry: { attempts: 2, baseDelayMs: 1, maxDelayMs: 1 },
      onRetry: r.onRetry,
      timeoutMs: 100,
    }));
    expect(err).toBeInstanceOf(InfrastructureError);
    expect(err.message).toBe(`download of ${base}/hang failed after 2 attempts: no data from url ${base}/hang for 100 ms`);
    expect(hits.get('/hang')).toBe(2);
    expect(r.calls).toHaveLength(1);
  });

  it.each(['ftp://example.com/a.csv', 'file:///etc/passwd', 's3://bucket/key.csv'])('refuses %s with 403 SOURCE_NOT_ALLOWED', async (url) => {
    const err = await rejection(urlSource(url, workDir, { policy: UrlPolicy.parse('*'), retry: policy, onRetry: async () => undefined }));
    expect(err).toBeInstanceOf(ForbiddenError);
    expect(err).toMatchObject({ code: 'SOURCE_NOT_ALLOWED' });
  });

  it('does not echo an unparseable URL', async () => {
    await expect(urlSource('http://user:secret@[bad', workDir, { policy: allow, retry: policy, onRetry: async () => undefined })).rejects.toThrow(/^not a valid URL$/);
  });
});

describe('urlSource under an allow-list', () => {
  const opts = { retry: policy, onRetry: async () => undefined };
  let other: { server: Server; hits: Map<string, number> };
  let otherBase: string;
  const authorizations: (string | undefined)[] = [];
  let workDir: string;
  let hops = 0;
  const { server } = startServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    switch (url.pathname) {
      case '/data.csv':
        res.writeHead(200, { 'content-type': 'text/csv' }).end(CSV);
        return;
      case '/to-self':
        res.writeHead(302, { location: '/data.csv' }).end();
        return;
      case '/to-other':
        res.writeHead(307, { location: `${otherBase}/data.csv` }).end();
        return;
      case '/to-metadata':
        res.writeHead(301, { location: 'http://169.254.169.254/latest/meta-data/iam/security-credentials/' }).end();
        return;
      case '/to-file':
        res.writeHead(302, { location: 'file:///etc/passwd' }).end();
        return;
      case '/loop':
        hops++;
        res.writeHead(302, { location: `/loop?n=${hops}` }).end();
        return;
      case '/gzip':
        res.writeHead(200, { 'content-type': 'text/csv', 'content-encoding': 'gzip' }).end(gzipSync(CSV));
        return;
      default:
        res.writeHead(404).end();
    }
  });

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    // Another loopback address: a second "host" the allow-list can tell apart.
    other = startServer((req, res) => {
      authorizations.push(req.headers.authorization);
      res.writeHead(200, { 'content-type': 'text/csv' }).end(CSV);
    });
    await new Promise<void>((resolve) => other.server.listen(0, '127.0.0.2', resolve));
    otherBase = `http://127.0.0.2:${(other.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    for (const s of [server, other.server]) {
      s.closeAllConnections();
      await new Promise((resolve) => s.close(resolve));
    }
  });
  beforeEach(() => {
    workDir = mkdtempSync(join(tmpdir(), 'url-policy-'));
  });
  afterEach(() => rmSync(workDir, { recursive: true, force: true }));

  const base = () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  it('follows a redirect to an allowed place', async () => {
    const source = await urlSource(`${base()}/to-self`, workDir, { ...opts, policy: UrlPolicy.parse('127.0.0.1') });
    expect(source).toMatchObject({ sha256: sha256(CSV), format: 'csv' });
  });

  it('checks every redirect again: one to a host off the list is refused and never contacted', async () => {
    const before = other.hits.size;
    const err = await rejection(urlSource(`${base()}/to-other`, workDir, { ...opts, policy: UrlPolicy.parse('127.0.0.1') }));
    expect(err).toBeInstanceOf(ForbiddenError);
    expect(err).toMatchObject({ code: 'SOURCE_NOT_ALLOWED' });
    expect(err.message).toContain('127.0.0.2');
    expect(other.hits.size).toBe(before);
    expect(readdirSync(workDir)).toEqual([]);
  });

  it('refuses a redirect to the metadata address even when every public host is allowed, and one to file://', async () => {
    const all = UrlPolicy.parse('*,127.0.0.1');
    const metadata = await rejection(urlSource(`${base()}/to-metadata`, workDir, { ...opts, policy: all }));
    expect(metadata).toMatchObject({ name: 'ForbiddenError', code: 'SOURCE_NOT_ALLOWED' });
    expect(metadata.message).toMatch(/169\.254\.169\.254.*link-local/);
    const file = await rejection(urlSource(`${base()}/to-file`, workDir, { ...opts, policy: all }));
    expect(file).toMatchObject({ name: 'ForbiddenError', code: 'SOURCE_NOT_ALLOWED' });
  });

  it('stops after maxRedirects', async () => {
    hops = 0;
    const err = await rejection(urlSource(`${base()}/loop`, workDir, { ...opts, policy: UrlPolicy.parse('127.0.0.1'), maxRedirects: 3 }));
    expect(err).toMatchObject({ code: 'TOO_MANY_REDIRECTS' });
    expect(hops).toBe(4);
  });

  it('sends credentials to their own origin only, not after a redirect elsewhere', async () => {
    authorizations.length = 0;
    const url = `http://alice:pw@${base().slice(7)}/to-other`;
    await urlSource(url, workDir, { ...opts, policy: UrlPolicy.parse('127.0.0.1,127.0.0.2') });
    expect(authorizations).toEqual([undefined]);
  });

  it('connects to the address the policy checked, not to a second DNS answer', async () => {
    const port = (server.address() as AddressInfo).port;
    // A name the system cannot resolve: the download works only through the pinned, checked address.
    const lookups: string[] = [];
    const pinned = UrlPolicy.parse('data.invalid', 'test', async (host) => {
      lookups.push(host);
      return [{ address: '127.0.0.1', family: 4 }];
    });
    const source = await urlSource(`http://data.invalid:${port}/data.csv`, workDir, { ...opts, policy: pinned });
    expect(source.sha256).toBe(sha256(CSV));
    expect(lookups).toEqual(['data.invalid']);
    // The same name answering with the metadata address under `*` is refused before any connection.
    const rebinding = UrlPolicy.parse('*', 'test', async () => [{ address: '169.254.169.254', family: 4 }]);
    await expect(urlSource(`http://data.invalid:${port}/data.csv`, workDir, { ...opts, policy: rebinding })).rejects.toMatchObject({ code: 'SOURCE_NOT_ALLOWED' });
  });

  it('undoes a gzip content-encoding', async () => {
    const source = await urlSource(`${base()}/gzip`, workDir, { ...opts, policy: UrlPolicy.parse('127.0.0.1') });
    expect(source).toMatchObject({ sha256: sha256(CSV), sizeBytes: CSV.length });
  });
});

describe('redactUrl', () => {
  it('drops user info, secret-looking parameters and the fragment, keeping the rest', () => {
    expect(redactUrl('https://u:p@host.example/a/b.csv?sig=1&sv=2020&se=2030&X-Goog-Credential=c&id=7#frag')).toBe(
      'https://host.example/a/b.csv?sv=2020&se=2030&id=7',
    );
    expect(redactUrl('https://host.example/data.csv')).toBe('https://host.example/data.csv');
    expect(redactUrl('https://ghp_token@host.example/x?access_token=a&client_secret=b&auth=c')).toBe('https://host.example/x');
  });
});
