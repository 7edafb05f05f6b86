import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Body, Controller, Get, Module, Param, Post } from '@nestjs/common';
import { FsArtifactStore } from '@mlp/artifacts';
import { serviceNames, type ApiKeyView, type CreatedApiKey, type ServiceName } from '@mlp/contracts';
import { SqliteEventStore } from '@mlp/eventstore';
import { rpcPortVar } from '@mlp/messaging';
import { eventually, freePort } from '@mlp/testing';
import { loadConfig } from '../config/load-config';
import { baseConfigSchema, type BaseConfig } from '../config/service-config';
import { createLogger } from '../logging/logger';
import { startService, type StartedService } from '../platform/start-service';
import { hashToken } from './api-key-token';
import { RequireScopes } from './require-scopes.decorator';

@Controller('things')
class ThingsController {
  @Get(':id')
  get(@Param('id') id: string) {
    return { id };
  }

  @Post()
  create(@Body() body: unknown) {
    return { created: body };
  }

  /** A query sent as POST: marked read. */
  @Post('search')
  @RequireScopes('read')
  search() {
    return { found: [] };
  }
}

@Module({ controllers: [ThingsController] })
class ThingsModule {}

const ADMIN = 'admin-key-for-tests-0123456789abcdef';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

interface Platform {
  dir: string;
  store: SqliteEventStore;
  services: Partial<Record<ServiceName, StartedService>>;
  logs: string[];
  close(): Promise<void>;
}

/** Services of this process sharing one SQLite event store, each logging (at trace) into `logs`. */
async function startPlatform(names: ServiceName[], env: Record<string, string>): Promise<Platform> {
  const dir = mkdtempSync(join(tmpdir(), 'mlp-auth-'));
  const ports: Record<string, string> = {};
  for (const s of serviceNames) ports[rpcPortVar(s)] = String(await freePort());
  const config: BaseConfig = loadConfig(baseConfigSchema, { MLP_HOME: dir, LOG_LEVEL: 'trace', ...ports, ...env });
  const store = new SqliteEventStore(join(dir, 'events.db'), { pollIntervalMs: 20 });
  const artifacts = new FsArtifactStore({ root: join(dir, 'artifacts') });
  const logs: string[] = [];
  const services: Platform['services'] = {};
  for (const service of names) {
    services[service] = await startService(
      { service, module: ThingsModule },
      { runtime: { eventStore: store, artifacts, config }, httpPort: 0, logger: createLogger({ service, level: 'trace', destination: { write: (l: string) => void logs.push(l) } }) },
    );
  }
  return {
    dir,
    store,
    services,
    logs,
    async close() {
      for (const s of Object.values(services)) await s?.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

const errorKeys = (body: object) => Object.keys(body).filter((k) => k !== 'details').sort();

describe('API keys with auth on (two services, one event store)', () => {
  let platform: Platform;
  let a: StartedService;
  let b: StartedService;
  const tokens: string[] = [];

  beforeAll(async () => {
    platform = await startPlatform(['registry', 'monitoring'], { MLP_AUTH: 'on', MLP_ADMIN_KEY: ADMIN });
    a = platform.services.registry!;
    b = platform.services.monitoring!;
  });

  afterAll(() => platform?.close());

  const call = (service: StartedService, method: string, path: string, key?: string, body?: unknown, bearer = false) =>
    fetch(`${service.url}${path}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(key === undefined ? {} : bearer ? { authorization: `Bearer ${key}` } : { 'x-api-key': key }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  const createKey = async (service: StartedService, name: string, scopes: string[], key = ADMIN): Promise<CreatedApiKey> => {
    const res = await call(service, 'POST', '/auth/keys', key, { name, scopes });
    expect(res.status).toBe(201);
    const created = (await res.json()) as CreatedApiKey;
    tokens.push(created.token);
    return created;
  };

  it('is on, and says so', () => {
    expect(a.auth).toBe(true);
    expect(b.auth).toBe(true);
  });

  it('keeps /health, /metrics and /docs open', async () => {
    for (const service of [a, b]) {
      for (const path of ['/health/live', '/health/ready', '/metrics', '/docs', '/docs-json']) {
        expect([path, (await fetch(`${service.url}${path}`)).status]).toEqual([path, 200]);
      }
    }
    const doc = (await (await fetch(`${a.url}/docs-json`)).json()) as Json;
    expect(doc.components.securitySchemes['api-key']).toEqual({ type: 'apiKey', in: 'header', name: 'x-api-key' });
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/auth/keys', '/auth/keys/{id}']));
  });

  it('answers 401 in the standard shape without a key, on reads and writes', async () => {
    for (const [method, path, body] of [['GET', '/things/1', undefined], ['POST', '/things', { x: 1 }], ['GET', '/auth/keys', undefined]] as const) {
      const res = await call(a, method, path, undefined, body);
      expect(res.status).toBe(401);
      const json = (await res.json()) as Json;
      expect(errorKeys(json)).toEqual(['code', 'message', 'name']);
      expect(json).toMatchObject({ code: 'UNAUTHORIZED', name: 'UnauthorizedError' });
      expect(json.message).toContain('x-api-key');
    }
  });

  it('answers 401 for a wrong, malformed or unknown key, in either header', async () => {
    for (const [key, bearer] of [
      ['wrong', false],
      ['wrong', true],
      [`${ADMIN}x`, false],
      [`mlp_0123456789ab_${'A'.repeat(43)}`, false], // well-formed, no such key
    ] as const) {
      const res = await call(b, 'GET', '/things/1', key, undefined, bearer);
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ code: 'UNAUTHORIZED', message: 'invalid API key: unknown or revoked' });
    }
  });

  it('lets the MLP_ADMIN_KEY do anything, as x-api-key or Bearer', async () => {
    expect((await call(a, 'GET', '/things/1', ADMIN)).status).toBe(200);
    expect((await call(a, 'POST', '/things', ADMIN, { x: 1 }, true)).status).toBe(201);
    expect((await call(a, 'GET', '/auth/keys', ADMIN, undefined, true)).status).toBe(200);
  });

  it('creates a key on one service that works on the other at once; scopes decide 403', async () => {
    const reader = await createKey(a, 'reader', ['read']);
    expect(reader).toMatchObject({ name: 'reader', scopes: ['read'], status: 'active', source: 'store', prefix: `mlp_${reader.id}`, createdBy: 'apikey:env-admin' });
    expect(reader.token.startsWith(`${reader.prefix}_`)).toBe(true);

    // Service b has never seen this key: it reads the key's stream on the miss.
    expect((await call(b, 'GET', '/things/7', reader.token)).status).toBe(200);
    expect((await call(b, 'POST', '/things/search', reader.token)).status).toBe(201);
    const forbidden = await call(b, 'POST', '/things', reader.token, { x: 1 });
    expect(forbidden.status).toBe(403);
    const body = (await forbidden.json()) as Json;
    expect(errorKeys(body)).toEqual(['code', 'message', 'name']);
    expect(body).toMatchObject({ code: 'FORBIDDEN', name: 'ForbiddenError', details: { required: ['write'], scopes: ['read'] } });
    expect((await call(b, 'GET', '/auth/keys', reader.token)).status).toBe(403);
    expect((await call(b, 'POST', '/auth/keys', reader.token, { name: 'escalate', scopes: ['admin'] })).status).toBe(403);

    const writer = await createKey(b, 'writer', ['write']);
    expect((await call(a, 'POST', '/things', writer.token, { x: 1 })).status).toBe(201);
    expect((await call(a, 'GET', '/things/1', writer.token)).status).toBe(200); // write implies read
    expect((await call(a, 'DELETE', `/auth/keys/${reader.id}`, writer.token)).status).toBe(403);

    // A key with admin may manage keys, and is recorded as the actor.
    const admin2 = await createKey(a, 'second-admin', ['admin']);
    const made = await createKey(b, 'made-by-admin2', ['read'], admin2.token);
    expect(made.createdBy).toBe(`apikey:${admin2.id}`);
  });

  it('lists keys without any secret', async () => {
    const res = await call(b, 'GET', '/auth/keys', ADMIN);
    const { keys } = (await res.json()) as { keys: ApiKeyView[] };
    expect(keys.map((k) => k.name)).toEqual(expect.arrayContaining(['admin', 'reader', 'writer', 'second-admin']));
    expect(keys.find((k) => k.source === 'env')).toMatchObject({ id: 'env-admin', scopes: ['admin'], prefix: '' });
    const text = JSON.stringify(keys);
    for (const token of tokens) expect(text).not.toContain(token);
    for (const token of tokens) expect(text).not.toContain(hashToken(token));
    expect(text).not.toMatch(/"(token|hash)"/);
  });

  it('revokes a key everywhere', async () => {
    const doomed = await createKey(a, 'doomed', ['write']);
    expect((await call(b, 'GET', '/things/1', doomed.token)).status).toBe(200);
    const revoked = await call(b, 'DELETE', `/auth/keys/${doomed.id}`, ADMIN);
    expect(revoked.status).toBe(200);
    expect(await revoked.json()).toMatchObject({ id: doomed.id, status: 'revoked', revokedBy: 'apikey:env-admin' });
    expect((await call(b, 'GET', '/things/1', doomed.token)).status).toBe(401);
    // The other service learns it from the event store's subscription.
    await eventually(async () => (await call(a, 'GET', '/things/1', doomed.token)).status === 401, 5000, 'revocation on the other service');
    expect((await call(a, 'DELETE', `/auth/keys/${doomed.id}`, ADMIN)).status).toBe(200); // again: no-op
    expect((await call(a, 'DELETE', '/auth/keys/0123456789ab', ADMIN)).status).toBe(404);
    expect((await call(a, 'DELETE', '/auth/keys/env-admin', ADMIN)).status).toBe(409);
    expect((await call(a, 'DELETE', '/auth/keys/not-an-id', ADMIN)).status).toBe(400);
  });

  it('stores and logs only hashes: no raw token in any event or log line', async () => {
    const events = await platform.store.readAll({ maxCount: 10_000 });
    const created = events.filter((e) => e.type === 'ApiKeyCreated');
    expect(created.length).toBe(tokens.length);
    expect(created.every((e) => e.stream.startsWith('apikey-'))).toBe(true);
    const eventText = JSON.stringify(events);
    const logText = platform.logs.join('\n');
    expect(platform.logs.length).toBeGreaterThan(0);
    for (const token of [...tokens, ADMIN]) {
      expect(eventText).not.toContain(token);
      expect(logText).not.toContain(token);
    }
    for (const token of tokens) expect(eventText).toContain(hashToken(token));
    expect(created[0]).toMatchObject({ actor: 'apikey:env-admin', data: { createdBy: 'apikey:env-admin' } });
  });
});

describe('embedded defaults: loopback, auth off', () => {
  let platform: Platform;
  afterAll(() => platform?.close());

  it('binds to 127.0.0.1, needs no key, and lets the first key be created (bootstrap)', async () => {
    platform = await startPlatform(['registry'], {});
    const service = platform.services.registry!;
    expect((service.app.getHttpServer().address() as AddressInfo).address).toBe('127.0.0.1');
    expect(service.auth).toBe(false);
    expect((await fetch(`${service.url}/things/1`)).status).toBe(200);
    const res = await fetch(`${service.url}/auth/keys`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'first', scopes: ['admin'] }) });
    expect(res.status).toBe(201);
    const created = (await res.json()) as CreatedApiKey;
    expect(created.createdBy).toBe('anonymous');
    // A key still identifies its caller with auth off.
    const again = await fetch(`${service.url}/auth/keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': created.token },
      body: JSON.stringify({ name: 'second', scopes: ['read', 'read'] }),
    });
    expect(await again.json()).toMatchObject({ scopes: ['read'], createdBy: `apikey:${created.id}` });
  });
});

describe('MLP_BIND_HOST beyond loopback', () => {
  let platform: Platform;
  afterAll(() => platform?.close());

  it('listens on the given host and turns auth on by itself', async () => {
    platform = await startPlatform(['registry'], { MLP_BIND_HOST: '0.0.0.0' });
    const service = platform.services.registry!;
    expect((service.app.getHttpServer().address() as AddressInfo).address).toBe('0.0.0.0');
    expect(service.auth).toBe(true);
    expect((await fetch(`${service.url}/health/ready`)).status).toBe(200);
    expect((await fetch(`${service.url}/things/1`)).status).toBe(401);
  });
});
