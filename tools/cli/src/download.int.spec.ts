import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotFoundError } from '@mlp/contracts';
import { repoRoot } from '@mlp/testing';
import { CliError } from './api';
import { mlp, remoteCliEnv, startCliPlatform, type CliPlatform } from './cli-platform.fixture';
import { download } from './download';
import { StatusLine } from './progress';

const sha = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

/** `download()` against a real HTTP server that answers each path in its own (sometimes wrong) way. */
describe('download: streamed, checked, never a partial file', () => {
  let server: Server;
  let url: string;
  let dir: string;
  const seen: IncomingHttpHeaders[] = [];
  const body = Buffer.from('x'.repeat(300_000));
  const routes: Record<string, (res: ServerResponse) => void> = {
    '/ok': (res) => {
      res.writeHead(200, { 'content-length': String(body.length), 'x-content-sha256': sha(body) });
      res.end(body);
    },
    '/wrong-hash': (res) => {
      res.writeHead(200, { 'content-length': String(body.length), 'x-content-sha256': 'f'.repeat(64) });
      res.end(body);
    },
    '/short': (res) => {
      res.writeHead(200, { 'content-length': String(body.length) });
      res.write(body.subarray(0, 1000), () => res.destroy());
    },
    '/missing': (res) => {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 'TRAINING_SET_NOT_FOUND', name: 'NotFoundError', message: 'training set x does not exist', details: [] }));
    },
    '/chunked': (res) => {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.end('{"a":1}\n{"a":2}\n');
    },
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mlp-cli-download-'));
    server = createServer((req, res) => {
      seen.push(req.headers);
      (routes[req.url ?? ''] ?? routes['/missing'])(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  const env = () => ({ MLP_FEATURE_STORE_URL: url, MLP_API_KEY: 'mlp_test_key' });

  it('writes the bytes, checks them against x-content-sha256, sends the API key and draws a bar on a terminal', async () => {
    const out = join(dir, 'ok.bin');
    const lines: string[] = [];
    const status = new StatusLine({ isTTY: true, write: (t: string) => lines.push(t) }, () => 0);
    const d = await download('feature-store', '/ok', out, { env: env(), status, label: 'downloading test', now: () => 0 });
    expect(d).toEqual({ output: out, bytes: body.length, sha256: sha(body) });
    expect(readFileSync(out).equals(body)).toBe(true);
    expect(seen[seen.length - 1]['x-api-key']).toBe('mlp_test_key');
    expect(lines[0]).toMatch(/^\rdownloading test \[/);
    expect(lines[lines.length - 1]).toBe(`\rdownloading test [${'#'.repeat(24)}] 100%  300.0 kB / 300.0 kB\x1b[K\n`);
  });

  it('refuses bytes whose sha256 is not the expected one, and leaves no file', async () => {
    const out = join(dir, 'wrong.bin');
    await expect(download('feature-store', '/wrong-hash', out, { env: env() })).rejects.toThrow(/hashes to [0-9a-f]{64}, not f{64}/);
    await expect(download('feature-store', '/ok', out, { env: env(), sha256: 'e'.repeat(64) })).rejects.toBeInstanceOf(CliError);
    expect(existsSync(out)).toBe(false);
  });

  it('says a download broke off, and writes nothing, when the body is shorter than its content-length', async () => {
    const out = join(dir, 'short.bin');
    await expect(download('feature-store', '/short', out, { env: env() })).rejects.toThrow(/broke off after \d+ bytes of 300000|gave \d+ bytes, not the 300000 announced/);
    expect(existsSync(out)).toBe(false);
    expect(readFileSync(join(dir, 'ok.bin')).length).toBe(body.length);
  });

  it('turns an error reply into the typed domain error', async () => {
    const err = await download('feature-store', '/missing', join(dir, 'missing.bin'), { env: env() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as NotFoundError).code).toBe('TRAINING_SET_NOT_FOUND');
  });

  it('streams a body of unknown length (no content-length): bytes and rate, no bar', async () => {
    const lines: string[] = [];
    const status = new StatusLine({ isTTY: true, write: (t: string) => lines.push(t) }, () => 0);
    const d = await download('feature-store', '/chunked', join(dir, 'q.ndjson'), { env: env(), status, now: () => 0 });
    expect(d.bytes).toBe(16);
    expect(lines[lines.length - 1]).toBe('\rdownloading 16 B\x1b[K\n');
  });
});

/** `mlp datasets … --artifact` from a CLI that shares nothing with the platform but its URLs. */
describe('mlp datasets --artifact (remote CLI, embedded platform)', () => {
  jest.setTimeout(180_000);
  let cli: CliPlatform;
  let remote: NodeJS.ProcessEnv;
  let elsewhere: string;

  beforeAll(async () => {
    cli = await startCliPlatform('download');
    const ingested = await mlp(
      ['ingest', join(repoRoot, 'examples/data/penguins.csv'), '--dataset', 'penguins', '--schema', join(repoRoot, 'examples/data/penguins.schema.yaml'), '--null', 'NA', '--json'],
      cli.env,
    );
    expect(ingested.status).toBe(0);
    elsewhere = mkdtempSync(join(tmpdir(), 'mlp-cli-remote-'));
    remote = remoteCliEnv(cli.env, elsewhere);
  });

  afterAll(async () => {
    rmSync(elsewhere, { recursive: true, force: true });
    await cli?.close();
  });

  /** The bytes the platform stored under `key`. */
  const stored = (key: string) => readFileSync(join(cli.home, 'artifacts', 'objects', ...key.split('/')));

  async function versionKeys(): Promise<{ artifactKey: string; reportArtifactKey: string; quarantineArtifactKey: string | null }> {
    const url = `${remote.MLP_INGESTION_URL}/datasets/penguins/versions/1`;
    return (await fetch(url)).json() as Promise<{ artifactKey: string; reportArtifactKey: string; quarantineArtifactKey: string | null }>;
  }

  it.each([
    ['report', 'report.json', 'reportArtifactKey'],
    ['quarantine', 'quarantine.parquet', 'quarantineArtifactKey'],
    ['data', 'penguins.parquet', 'artifactKey'],
  ] as const)('downloads the %s byte for byte as stored, with its sha256', async (artifact, file, field) => {
    const key = (await versionKeys())[field];
    expect(key).toMatch(/^sha256\/[0-9a-f]{64}$/);
    const output = join(elsewhere, file);
    const r = await mlp(['datasets', 'penguins', '--version', '1', '--artifact', artifact, '--output', output, '--json'], remote);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    const written = readFileSync(output);
    expect(written.equals(stored(key!))).toBe(true);
    expect(JSON.parse(r.stdout)).toEqual({ dataset: 'penguins', version: 1, artifact, output, bytes: written.length, sha256: sha(written) });
    expect(`sha256/${sha(written)}`).toBe(key);
  });

  it('converts the quarantine to NDJSON on the service for a .ndjson output, and prints what it wrote', async () => {
    const output = join(elsewhere, 'quarantine.ndjson');
    const r = await mlp(['datasets', 'penguins', '--version', '1', '--artifact', 'quarantine', '--output', output], remote);
    expect(r.status).toBe(0);
    const rows = readFileSync(output, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { row: number });
    expect(rows).toHaveLength(2);
    expect(r.stdout.trim()).toMatch(new RegExp(`^wrote ${output}: quarantined rows of penguins v1, [0-9.]+ k?B, sha256 [0-9a-f]{64}$`));
  });

  it('reads only artifacts the store holds: a bad id is 400, an unknown one 404, and nothing is written', async () => {
    const base = remote.MLP_FEATURE_STORE_URL;
    expect((await fetch(`${base}/training-sets/..%2F..%2Fetc%2Fpasswd/artifact`)).status).toBe(400);
    const unknown = await fetch(`${base}/training-sets/00000000-0000-4000-8000-000000000000/artifact`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { code: string }).code).toBe('TRAINING_SET_NOT_FOUND');
    const output = join(elsewhere, 'nope.json');
    const r = await mlp(['datasets', 'penguins', '--version', '9', '--artifact', 'report', '--output', output], remote);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("error: dataset 'penguins' has no version 9\n");
    expect(existsSync(output)).toBe(false);
  });
});
