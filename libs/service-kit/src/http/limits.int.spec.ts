import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { request, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Body, Controller, Module, Param, Post, Put, Req } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { serviceNames } from '@mlp/contracts';
import { rpcPortVar } from '@mlp/messaging';
import { freePort } from '@mlp/testing';
import { bootstrapService, type RunningService } from '../bootstrap/bootstrap-service';
import { loadConfig } from '../config/load-config';
import { baseConfigSchema } from '../config/service-config';
import { readText, saveBody } from './request-body';

const UPLOAD_LIMIT = 64 * 1024;
const uploads = mkdtempSync(join(tmpdir(), 'mlp-limits-'));

@Controller()
class LimitsController {
  @Post('json')
  json(@Body() body: unknown) {
    return { keys: Object.keys(body as object).length };
  }

  @Put('text')
  async text(@Req() req: IncomingMessage) {
    return { length: (await readText(req)).length };
  }

  @Put('upload/:name')
  async upload(@Param('name') name: string, @Req() req: IncomingMessage) {
    return { bytes: await saveBody(req, join(uploads, name), UPLOAD_LIMIT, 'TEST_UPLOAD_BYTES') };
  }
}

@Module({ controllers: [LimitsController] })
class LimitsModule {}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
}

/**
 * Sends `total` bytes in 16 KiB chunks, with content-length or chunked, and
 * resolves with the answer even when the server answers (and closes) before
 * the body is sent: what a client streaming a large file sees.
 */
function send(url: string, method: string, total: number, options: { chunked?: boolean; contentType?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const closedEarly = (err: unknown) => ['EPIPE', 'ECONNRESET', 'ERR_STREAM_DESTROYED'].includes((err as NodeJS.ErrnoException).code ?? '');
    const headers: Record<string, string> = { 'content-type': options.contentType ?? 'application/octet-stream' };
    if (!options.chunked) headers['content-length'] = String(total);
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text ? JSON.parse(text) : undefined });
      });
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      // The server closed the connection after answering: the answer arrives through the callback.
      if (!closedEarly(err)) reject(err);
    });
    const chunk = Buffer.alloc(16 * 1024, 'a');
    let sent = 0;
    const pump = () => {
      try {
        while (sent < total) {
          const n = Math.min(chunk.length, total - sent);
          sent += n;
          // The server may answer and close mid-body; its answer still arrives through the callback.
          if (req.destroyed || req.socket?.destroyed) return;
          if (!req.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
            req.once('drain', pump);
            return;
          }
        }
        req.end();
      } catch (err) {
        if (!closedEarly(err)) reject(err);
      }
    };
    pump();
  });
}

describe('body limits (MLP_MAX_BODY_BYTES = 4096, upload limit 64 KiB)', () => {
  let running: RunningService;
  const url = (path: string) => `${running.url}${path}`;

  beforeAll(async () => {
    const ports: Record<string, string> = {};
    for (const s of serviceNames) ports[rpcPortVar(s)] = String(await freePort());
    const config = loadConfig(baseConfigSchema, { LOG_LEVEL: 'silent', MLP_MAX_BODY_BYTES: '4096', ...ports });
    running = await bootstrapService({ service: 'registry', module: LimitsModule, config, httpPort: 0 });
  });

  afterAll(async () => {
    await running?.close();
    rmSync(uploads, { recursive: true, force: true });
  });

  const expect413 = (answer: Answer, setting: string) => {
    expect(answer.status).toBe(413);
    expect(Object.keys(answer.body).filter((k) => k !== 'details').sort()).toEqual(['code', 'message', 'name']);
    expect(answer.body).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', name: 'PayloadTooLargeError' });
    expect(answer.body.message).toContain(setting);
  };

  it('accepts JSON under the limit and answers 413 over it', async () => {
    const small = await fetch(url('/json'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ a: 'x'.repeat(3000) }) });
    expect(small.status).toBe(201);
    const big = await fetch(url('/json'), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ a: 'x'.repeat(5000) }) });
    expect413({ status: big.status, headers: {}, body: await big.json() }, 'MLP_MAX_BODY_BYTES');
  });

  it('answers 413 to a chunked JSON body over the limit', async () => {
    expect413(await send(url('/json'), 'POST', 200_000, { chunked: true, contentType: 'application/json' }), 'MLP_MAX_BODY_BYTES');
  });

  it('limits text bodies (YAML specs) the same way, declared or chunked', async () => {
    expect((await fetch(url('/text'), { method: 'PUT', headers: { 'content-type': 'text/yaml' }, body: 'a: 1\n'.repeat(500) })).status).toBe(200);
    expect413(await send(url('/text'), 'PUT', 5000, { contentType: 'text/yaml' }), 'MLP_MAX_BODY_BYTES');
    expect413(await send(url('/text'), 'PUT', 1024 * 1024, { chunked: true, contentType: 'text/yaml' }), 'MLP_MAX_BODY_BYTES');
  });

  it('streams uploads to disk up to their own limit, then 413 and closes: never a crash or an unbounded buffer', async () => {
    const ok = await send(url('/upload/ok'), 'PUT', UPLOAD_LIMIT);
    expect(ok).toMatchObject({ status: 200, body: { bytes: UPLOAD_LIMIT } });
    // Over it, declared: refused before a byte is read.
    const declared = await send(url('/upload/declared'), 'PUT', 50 * 1024 * 1024);
    expect413(declared, 'TEST_UPLOAD_BYTES');
    expect(declared.headers.connection).toBe('close');
    // Over it, chunked: refused as soon as the count passes the limit; no more than the limit was written.
    const chunked = await send(url('/upload/chunked'), 'PUT', 50 * 1024 * 1024, { chunked: true });
    expect413(chunked, 'TEST_UPLOAD_BYTES');
    for (const file of readdirSync(uploads)) expect(statSync(join(uploads, file)).size).toBeLessThanOrEqual(UPLOAD_LIMIT);
    // Still serving.
    expect((await fetch(url('/health/live'))).status).toBe(200);
    expect((await send(url('/upload/after'), 'PUT', 1000)).status).toBe(200);
  });
});
