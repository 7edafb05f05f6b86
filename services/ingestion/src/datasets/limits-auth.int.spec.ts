import { request, type IncomingHttpHeaders } from 'node:http';
import type { CreatedApiKey } from '@mlp/contracts';
import { startInProcessServices, type InProcessServices } from '@mlp/service-kit/testing';
import { ingestionService } from '../index';

const ADMIN = 'ingestion-admin-key-0123456789abcdef';
const PUSH_KEY = 'producer-key-from-env-42';
const UPLOAD_LIMIT = 64 * 1024;

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/** Streams `total` bytes of CSV rows (content-length or chunked) and takes the answer even if it comes early. */
function stream(url: string, method: string, total: number, headers: Record<string, string>, chunked = false): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const all = { 'content-type': 'text/csv', ...headers, ...(chunked ? {} : { 'content-length': String(total) }) };
    const req = request(url, { method, headers: all }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (!['EPIPE', 'ECONNRESET', 'ERR_STREAM_DESTROYED'].includes(err.code ?? '')) reject(err);
    });
    const header = Buffer.from('id,value\n');
    const row = Buffer.from('1,2\n'.repeat(4096));
    let sent = 0;
    const pump = () => {
      while (sent < total && !req.destroyed) {
        const chunk = sent === 0 ? header : row.subarray(0, Math.min(row.length, total - sent));
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (!req.destroyed) req.end();
    };
    pump();
  });
}

describe('ingestion over HTTP with auth on: upload, push and body limits', () => {
  jest.setTimeout(60_000);
  let platform: InProcessServices;
  let base: string;

  beforeAll(async () => {
    platform = await startInProcessServices([ingestionService], {
      prefix: 'ingest-limits',
      env: { MLP_AUTH: 'on', MLP_ADMIN_KEY: ADMIN, MLP_MAX_BODY_BYTES: '2048' },
      processEnv: () => ({
        MLP_INGEST_MAX_UPLOAD_BYTES: String(UPLOAD_LIMIT),
        MLP_PUSH_MAX_BYTES: '4096',
        MLP_INGEST_API_KEYS: PUSH_KEY,
        MLP_STREAM_INGEST: 'off',
      }),
    });
    base = platform.services[0].url;
  });

  afterAll(() => platform?.close());

  const admin = { 'x-api-key': ADMIN };
  const expect413 = (answer: Answer, setting: string) => {
    expect(answer.status).toBe(413);
    expect(answer.body).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', name: 'PayloadTooLargeError' });
    expect(answer.body.message).toContain(setting);
  };

  it('refuses an upload without a key before reading it (401)', async () => {
    const answer = await stream(`${base}/datasets/up/upload?format=csv`, 'PUT', 10 * 1024 * 1024, {});
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('answers 413 over MLP_INGEST_MAX_UPLOAD_BYTES, declared or chunked, writes no version and keeps serving', async () => {
    expect413(await stream(`${base}/datasets/up/upload?format=csv`, 'PUT', 20 * 1024 * 1024, admin), 'MLP_INGEST_MAX_UPLOAD_BYTES');
    expect413(await stream(`${base}/datasets/up/upload?format=csv`, 'PUT', 20 * 1024 * 1024, admin, true), 'MLP_INGEST_MAX_UPLOAD_BYTES');
    expect413(await stream(`${base}/datasets/up/infer-schema?format=csv`, 'POST', 20 * 1024 * 1024, admin, true), 'MLP_INGEST_MAX_UPLOAD_BYTES');
    const events = await platform.store.readAll({ maxCount: 10_000 });
    expect(events.filter((e) => e.type === 'DatasetVersionIngested')).toEqual([]);
    const small = await stream(`${base}/datasets/up/upload?format=csv`, 'PUT', 1000, admin);
    expect(small.status).toBe(201); // a new version
    expect(small.body).toMatchObject({ status: 'accepted', version: 1 });
  });

  it('answers 413 to a JSON body over MLP_MAX_BODY_BYTES', async () => {
    const res = await fetch(`${base}/datasets/big/ingestions`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({ source: { kind: 'url', url: `https://example.com/${'x'.repeat(4000)}` } }),
    });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', message: 'request body larger than 2048 bytes (MLP_MAX_BODY_BYTES)' });
  });

  it('takes push keys from MLP_INGEST_API_KEYS (push scope only) and stored keys with push or write', async () => {
    const rows = (key: Record<string, string>, body = '{"id":1}\n{"id":2}\n') =>
      fetch(`${base}/datasets/pushed/rows`, { method: 'POST', headers: { 'content-type': 'application/x-ndjson', ...key }, body });
    expect((await rows({ 'x-api-key': PUSH_KEY })).status).toBe(202);
    // The env push key pushes, nothing else.
    expect((await fetch(`${base}/datasets`, { headers: { 'x-api-key': PUSH_KEY } })).status).toBe(403);
    const create = async (scopes: string[]) =>
      (await (await fetch(`${base}/auth/keys`, { method: 'POST', headers: { ...admin, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'k', scopes }) })).json()) as CreatedApiKey;
    const reader = await create(['read']);
    const producer = await create(['push']);
    const writer = await create(['write']);
    expect((await rows({ 'x-api-key': reader.token })).status).toBe(403);
    expect((await rows({ authorization: `Bearer ${producer.token}` })).status).toBe(202);
    expect((await rows({ 'x-api-key': writer.token })).status).toBe(202);
    expect((await rows({})).status).toBe(401);
    // Over MLP_PUSH_MAX_BYTES: 413, not a 400 or a reset.
    const big = await stream(`${base}/datasets/pushed/rows`, 'POST', 100_000, { 'x-api-key': PUSH_KEY, 'content-type': 'application/x-ndjson' }, true);
    expect413(big, 'MLP_PUSH_MAX_BYTES');
  });
});
