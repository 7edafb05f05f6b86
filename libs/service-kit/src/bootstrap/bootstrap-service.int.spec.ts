import { createServer, type Server } from 'node:net';
import { Body, Controller, Get, Inject, Module, Param, Post } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { z } from 'zod';
import {
  DomainError,
  InfrastructureError,
  NotFoundError,
  parseOrThrow,
  serviceNames,
  subjects,
  type RpcRequest,
} from '@mlp/contracts';
import { MLP_CLIENT, MessagingModule, MlpClient, currentContext, rpcPortVar, type RequestContext } from '@mlp/messaging';
import { freePort, startNatsServer, type NatsServerHandle } from '@mlp/testing';
import { loadConfig } from '../config/load-config';
import { baseConfigSchema, httpPortVar, type BaseConfig } from '../config/service-config';
import { transportReadiness } from '../health/readiness-check';
import { createLogger } from '../logging/logger';
import { bootstrapService, type RunningService } from './bootstrap-service';

const thingSchema = z.object({ name: z.string().min(1), size: z.number().int().positive() });

@Controller('things')
class ThingsController {
  @Get(':id')
  get(@Param('id') id: string) {
    if (id === 'missing') throw new NotFoundError(`thing ${id} not found`, { code: 'THING_NOT_FOUND' });
    return { id };
  }

  @Post()
  create(@Body() body: unknown) {
    return parseOrThrow(thingSchema, body, 'thing');
  }
}

@Controller()
class FailingController {
  @Get('boom')
  boom(): never {
    throw new Error('secret internals');
  }
}

/** HTTP routes that call the service's own RPC handlers through MlpClient. */
@Controller('relay')
class RelayController {
  constructor(@Inject(MLP_CLIENT) private readonly client: MlpClient) {}

  @Get('model/:name')
  model(@Param('name') name: string) {
    return this.client.send(subjects.qry.registry.getModel, { name });
  }

  @Get('context')
  context() {
    return this.client.send(subjects.qry.registry.listModels, {});
  }
}

@Controller()
class RegistryRpcController {
  @MessagePattern(subjects.qry.registry.getModel)
  getModel(@Payload() request: RpcRequest<{ name: string }>) {
    throw new NotFoundError(`model ${request.payload.name} not found`, { code: 'MODEL_NOT_FOUND' });
  }

  @MessagePattern(subjects.qry.registry.listModels)
  listModels(@Payload() request: RpcRequest) {
    return { meta: request.meta, context: currentContext() };
  }

  @MessagePattern(subjects.cmd.registry.createModel)
  createModel(): never {
    throw new Error('secret rpc internals');
  }
}

function appModule(config: BaseConfig) {
  @Module({
    imports: [MessagingModule.forService('registry', config)],
    controllers: [ThingsController, FailingController, RelayController, RegistryRpcController],
  })
  class RegistryTestModule {}
  return RegistryTestModule;
}

@Module({})
class EmptyModule {}

/** Config for tests: quiet, and every rpc port on a free port so nothing clashes. */
async function testConfig(env: Record<string, string> = {}): Promise<BaseConfig> {
  const ports: Record<string, string> = {};
  for (const s of serviceNames) ports[rpcPortVar(s)] = String(await freePort());
  return loadConfig(baseConfigSchema, { LOG_LEVEL: 'silent', ...ports, ...env });
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = (res: Response): Promise<any> => res.json();
const errorKeys = (body: object) => Object.keys(body).filter((k) => k !== 'details').sort();

describe('bootstrapService (registry over tcp)', () => {
  let config: BaseConfig;
  let running: RunningService;
  let client: MlpClient;
  let eventStoreUp = true;
  const logLines: string[] = [];

  beforeAll(async () => {
    config = await testConfig();
    running = await bootstrapService({
      service: 'registry',
      module: appModule(config),
      config,
      httpPort: 0,
      logger: createLogger({ service: 'registry', level: 'debug', destination: { write: (line: string) => void logLines.push(line) } }),
      readiness: (app) => [
        {
          name: 'event-store',
          check: async () => {
            if (!eventStoreUp) throw new Error('database is locked');
          },
        },
        transportReadiness(app.get(MlpClient), 'registry'),
      ],
    });
    client = new MlpClient(config);
  });

  afterAll(async () => {
    await client?.close();
    await running?.close();
  });

  const get = (path: string, init?: RequestInit) => fetch(`${running.url}${path}`, init);
  const postJson = (path: string, body: string) =>
    get(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

  describe('health', () => {
    it('is live', async () => {
      const res = await get('/health/live');
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'ok' });
    });

    it('is ready when every check passes, including the transport ping', async () => {
      const res = await get('/health/ready');
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({
        status: 'ok',
        details: { 'event-store': { status: 'up' }, transport: { status: 'up' } },
      });
    });

    it('answers 503 naming the failed check', async () => {
      eventStoreUp = false;
      try {
        const res = await get('/health/ready');
        expect(res.status).toBe(503);
        const body = await json(res);
        expect(body).toMatchObject({
          code: 'NOT_READY',
          name: 'InfrastructureError',
          message: 'not ready: event-store failed',
          details: { 'event-store': { status: 'down', message: 'database is locked' }, transport: { status: 'up' } },
        });
      } finally {
        eventStoreUp = true;
      }
    });
  });

  describe('metrics', () => {
    it('exposes default metrics and the request histogram by route pattern', async () => {
      expect((await get('/things/abc-123')).status).toBe(200);
      const res = await get('/metrics');
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
      const text = await res.text();
      expect(text).toContain('process_cpu_user_seconds_total');
      expect(text).toMatch(
        /http_request_duration_seconds_count\{[^}]*method="GET"[^}]*route="\/things\/:id"[^}]*status="200"[^}]*\} 1/,
      );
      expect(text).not.toContain('abc-123');
    });
  });

  describe('openapi', () => {
    it('serves the UI at /docs and the document at /docs-json', async () => {
      const ui = await get('/docs');
      expect(ui.status).toBe(200);
      expect(await ui.text()).toMatch(/swagger/i);
      const doc = await json(await get('/docs-json'));
      expect(doc.info.title).toBe('mlp registry');
      expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/things/{id}', '/health/ready', '/metrics']));
    });
  });

  describe('errors', () => {
    it('maps a ValidationError to 400 with field details', async () => {
      const res = await postJson('/things', JSON.stringify({ name: '', size: 'big' }));
      expect(res.status).toBe(400);
      const body = await json(res);
      expect(body).toMatchObject({ code: 'VALIDATION_FAILED', name: 'ValidationError' });
      expect(body.details.map((d: { path: string }) => d.path).sort()).toEqual(['name', 'size']);
    });

    it('maps a NotFoundError to 404', async () => {
      const res = await get('/things/missing');
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ code: 'THING_NOT_FOUND', name: 'NotFoundError', message: 'thing missing not found' });
    });

    it('hides an unexpected error behind a generic 500 and logs it server-side', async () => {
      const res = await get('/boom', { headers: { 'x-correlation-id': 'boom-1' } });
      expect(res.status).toBe(500);
      const text = await res.text();
      expect(JSON.parse(text)).toEqual({ code: 'INTERNAL', name: 'InternalError', message: 'internal error' });
      expect(text).not.toContain('secret');
      expect(text).not.toMatch(/\bat .*\.ts/);
      const logged = logLines.map((l) => JSON.parse(l)).find((l) => l.err?.message === 'secret internals');
      expect(logged).toMatchObject({ level: 'error', service: 'registry', correlationId: 'boom-1' });
      expect(logged.err.stack).toContain('secret internals');
    });

    it('answers a malformed JSON body with 400 in the standard shape', async () => {
      const res = await postJson('/things', '{"name": ');
      expect(res.status).toBe(400);
      const body = await json(res);
      expect(errorKeys(body)).toEqual(['code', 'message', 'name']);
      expect(body).toMatchObject({ code: 'BAD_REQUEST', name: 'ValidationError', details: [] });
    });

    it('answers a too large body with 413 in the standard shape', async () => {
      const res = await postJson('/things', JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024), size: 1 })); // over the default 1 MiB MLP_MAX_BODY_BYTES
      expect(res.status).toBe(413);
      const body = await json(res);
      expect(errorKeys(body)).toEqual(['code', 'message', 'name']);
      expect(body.code).toBe('PAYLOAD_TOO_LARGE');
    });

    it('answers an unknown route with 404 in the standard shape', async () => {
      const res = await get('/nope');
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ code: 'NOT_FOUND', name: 'NotFoundError' });
    });
  });

  describe('correlation', () => {
    it('echoes the incoming id, or makes one', async () => {
      const given = await get('/things/a', { headers: { 'x-correlation-id': 'req-7' } });
      expect(given.headers.get('x-correlation-id')).toBe('req-7');
      const made = await get('/things/a');
      expect(made.headers.get('x-correlation-id')).toMatch(/^[0-9a-f-]{36}$/);
    });

    it('carries the id from HTTP through MlpClient into the RPC handler context', async () => {
      const res = await get('/relay/context', { headers: { 'x-correlation-id': 'hop-1' } });
      expect(res.status).toBe(200);
      const { meta, context } = (await res.json()) as { meta: RpcRequest['meta']; context: RequestContext };
      expect(meta.correlationId).toBe('hop-1');
      expect(context).toMatchObject({ correlationId: 'hop-1', service: 'registry' });
    });
  });

  describe('rpc', () => {
    it('delivers a handler error to an MlpClient caller as the typed error', async () => {
      const error = await client.send(subjects.qry.registry.getModel, { name: 'credit' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NotFoundError);
      expect(error).toMatchObject({ code: 'MODEL_NOT_FOUND', message: 'model credit not found' });
    });

    it('turns the typed error back into its HTTP status when relayed', async () => {
      const res = await get('/relay/model/credit');
      expect(res.status).toBe(404);
      expect(await res.json()).toEqual({ code: 'MODEL_NOT_FOUND', name: 'NotFoundError', message: 'model credit not found' });
    });

    it('hides an unexpected handler error from the caller', async () => {
      const error = await client.send(subjects.cmd.registry.createModel, {}).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DomainError);
      expect(error).toMatchObject({ code: 'INTERNAL', message: 'internal error' });
      expect(JSON.stringify(error)).not.toContain('secret');
    });

    it('answers the built-in ping', async () => {
      expect(await client.send(subjects.qry.ping('registry'), {})).toEqual({ service: 'registry', status: 'ok' });
    });
  });
});

describe('bootstrapService over nats', () => {
  let nats: NatsServerHandle;
  let running: RunningService;
  let client: MlpClient;

  beforeAll(async () => {
    nats = await startNatsServer();
    const config = await testConfig({ MLP_TRANSPORT: 'nats', NATS_URL: nats.url });
    running = await bootstrapService({
      service: 'registry',
      module: appModule(config),
      config,
      httpPort: 0,
      readiness: (app) => [transportReadiness(app.get(MlpClient), 'registry')],
    });
    client = new MlpClient(config);
  });

  afterAll(async () => {
    await client?.close();
    await running?.close();
    await nats?.stop();
  });

  it('is ready and delivers typed errors over NATS', async () => {
    expect((await fetch(`${running.url}/health/ready`)).status).toBe(200);
    const error = await client.send(subjects.qry.registry.getModel, { name: 'm' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ code: 'MODEL_NOT_FOUND' });
  });
});

describe('several services in one process', () => {
  const running: RunningService[] = [];

  afterAll(async () => {
    await Promise.all(running.map((r) => r.close()));
  });

  it('boots all six, each with its own /metrics and health', async () => {
    const config = await testConfig();
    running.push(
      ...(await Promise.all(
        serviceNames.map((service) => bootstrapService({ service, module: EmptyModule, config, httpPort: 0 })),
      )),
    );
    for (const [i, service] of serviceNames.entries()) {
      const { url } = running[i];
      expect((await fetch(`${url}/health/live`)).status).toBe(200);
      await fetch(`${url}/things/x`); // a 404, still timed
      const metrics = await fetch(`${url}/metrics`);
      expect(metrics.status).toBe(200);
      const text = await metrics.text();
      expect(text).toContain(`process_cpu_user_seconds_total{service="${service}"}`);
      expect(text).toMatch(/http_request_duration_seconds_count\{[^}]*route="unmatched"[^}]*status="404"/);
    }
  });
});

describe('start-up failures', () => {
  let blocker: Server;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', resolve));
  });

  afterAll(async () => {
    await new Promise((resolve) => blocker.close(resolve));
  });

  it('names the variable when the HTTP port is taken', async () => {
    const config = await testConfig();
    const error = await bootstrapService({ service: 'training', module: EmptyModule, config, httpPort: port }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InfrastructureError);
    expect(error).toMatchObject({ code: 'PORT_IN_USE' });
    expect((error as Error).message).toContain(httpPortVar('training'));
  });

  it('names the variable when the RPC port is taken', async () => {
    const config = await testConfig({ [rpcPortVar('training')]: String(port) });
    const error = await bootstrapService({ service: 'training', module: EmptyModule, config, httpPort: 0 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InfrastructureError);
    expect(error).toMatchObject({ code: 'PORT_IN_USE' });
    expect((error as Error).message).toContain('MLP_TRAINING_RPC_PORT');
  });

  it('frees its ports after a failed start', async () => {
    const config = await testConfig();
    const rpc = config[rpcPortVar('monitoring')];
    await expect(
      bootstrapService({ service: 'monitoring', module: EmptyModule, config, httpPort: port }),
    ).rejects.toBeInstanceOf(InfrastructureError);
    const again = await bootstrapService({ service: 'monitoring', module: EmptyModule, config, httpPort: 0 });
    expect(again.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(config[rpcPortVar('monitoring')]).toBe(rpc);
    await again.close();
  });
});

