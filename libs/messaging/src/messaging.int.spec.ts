import { Catch, Controller, Module, type INestApplicationContext, type INestMicroservice, type RpcExceptionFilter } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { throwError, type Observable } from 'rxjs';
import {
  DomainError,
  InfrastructureError,
  NotFoundError,
  ValidationError,
  subjects,
  type ErrorPayload,
  type RpcRequest,
} from '@mlp/contracts';
import { freePort, startNatsServer, type NatsServerHandle } from '@mlp/testing';
import type { MessagingConfig } from './messaging-config';
import { MessagingModule } from './messaging.module';
import { MLP_CLIENT, MlpClient } from './mlp-client';
import { runWithContext } from './request-context';
import { rpcErrorCodes } from './rpc-errors';
import { transportOptions } from './transport-options';

/** Stand-in for service-kit's filter: DomainErrors cross the wire as their payload. */
@Catch(DomainError)
class DomainErrorRpcFilter implements RpcExceptionFilter<DomainError> {
  catch(error: DomainError): Observable<ErrorPayload> {
    return throwError(() => error.toPayload());
  }
}

const tagged: RpcRequest[] = [];

@Controller()
class RegistryTestController {
  @MessagePattern(subjects.qry.ping('registry'))
  ping(@Payload() request: RpcRequest<{ echo: string }>) {
    return { service: 'registry', echo: request.payload.echo, meta: request.meta };
  }

  @MessagePattern(subjects.qry.registry.getModel)
  async getModel(@Payload() request: RpcRequest<{ name: string }>) {
    throw new NotFoundError(`model ${request.payload.name} not found`, { code: 'MODEL_NOT_FOUND' });
  }

  @MessagePattern(subjects.cmd.registry.createModel)
  createModel() {
    throw new ValidationError('invalid model', [{ path: 'name', message: 'required' }]);
  }

  @MessagePattern(subjects.qry.registry.listModels)
  async slow() {
    await new Promise((r) => setTimeout(r, 1_000).unref());
    return [];
  }

  @EventPattern(subjects.cmd.registry.tagModel)
  tag(@Payload() request: RpcRequest) {
    tagged.push(request);
  }
}

@Module({ controllers: [RegistryTestController] })
class RegistryTestModule {}

async function until(predicate: () => boolean, ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.each(['tcp', 'nats'] as const)('MlpClient over %s', (transport) => {
  let nats: NatsServerHandle | undefined;
  let config: MessagingConfig;
  let server: INestMicroservice;
  let context: INestApplicationContext;
  let client: MlpClient;

  beforeAll(async () => {
    if (transport === 'nats') {
      nats = await startNatsServer();
      config = { MLP_TRANSPORT: 'nats', NATS_URL: nats.url };
    } else {
      // training gets a port nobody listens on: "a service nobody serves".
      config = { MLP_TRANSPORT: 'tcp', MLP_REGISTRY_RPC_PORT: await freePort(), MLP_TRAINING_RPC_PORT: await freePort() };
    }
    server = await NestFactory.createMicroservice(RegistryTestModule, {
      ...transportOptions('registry', config),
      logger: false,
    });
    server.useGlobalFilters(new DomainErrorRpcFilter());
    await server.listen();
    context = await NestFactory.createApplicationContext(MessagingModule.forService('ingestion', config), {
      logger: false,
    });
    client = context.get(MLP_CLIENT);
  });

  afterAll(async () => {
    await context?.close();
    await server?.close();
    await nats?.stop();
  });

  it('provides one client under the token and the class', () => {
    expect(client).toBeInstanceOf(MlpClient);
    expect(context.get(MlpClient)).toBe(client);
  });

  it('round-trips a query', async () => {
    const reply = await client.send<{ service: string; echo: string }>(subjects.qry.ping('registry'), { echo: 'hi' });
    expect(reply).toMatchObject({ service: 'registry', echo: 'hi' });
  });

  it('propagates the active correlation id into the handler meta', async () => {
    const reply = await runWithContext({ correlationId: 'corr-42', actor: 'alice' }, () =>
      client.send<{ meta: RpcRequest['meta'] }>(subjects.qry.ping('registry'), { echo: 'x' }),
    );
    expect(reply.meta).toEqual({ correlationId: 'corr-42', actor: 'alice', causationId: null });
  });

  it('lets explicit meta win and makes a correlation id when none is active', async () => {
    const explicit = await client.send<{ meta: RpcRequest['meta'] }>(subjects.qry.ping('registry'), { echo: 'x' }, {
      correlationId: 'given',
      causationId: 'cmd-1',
    });
    expect(explicit.meta).toEqual({ correlationId: 'given', actor: 'anonymous', causationId: 'cmd-1' });
    const fresh = await client.send<{ meta: RpcRequest['meta'] }>(subjects.qry.ping('registry'), { echo: 'x' });
    expect(fresh.meta.correlationId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('rebuilds a NotFoundError thrown by the handler', async () => {
    const error = await client.send(subjects.qry.registry.getModel, { name: 'credit' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error).toMatchObject({ code: 'MODEL_NOT_FOUND', message: 'model credit not found' });
  });

  it('rebuilds a ValidationError with its field details', async () => {
    const error = await client.send(subjects.cmd.registry.createModel, {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ path: 'name', message: 'required' }] });
  });

  it('fails fast with an InfrastructureError when nobody serves the target', async () => {
    const error = await client.send(subjects.qry.ping('training'), {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InfrastructureError);
    // Not the 10 s timeout: the transport itself reports the missing responder.
    expect((error as InfrastructureError).code).toBe(
      transport === 'nats' ? rpcErrorCodes.noResponders : rpcErrorCodes.unavailable,
    );
    expect((error as InfrastructureError).cause).toBeDefined();
  });

  it('times out with an InfrastructureError', async () => {
    const error = await client.send(subjects.qry.registry.listModels, {}, undefined, { timeoutMs: 100 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InfrastructureError);
    expect(error).toMatchObject({ code: rpcErrorCodes.timeout });
  });

  it('emits an event wrapped with meta', async () => {
    tagged.length = 0;
    await runWithContext({ correlationId: 'evt-1' }, () => client.emit(subjects.cmd.registry.tagModel, { tag: 'x' }));
    await until(() => tagged.length > 0);
    expect(tagged[0]).toEqual({ meta: { correlationId: 'evt-1', actor: 'anonymous', causationId: null }, payload: { tag: 'x' } });
  });
});

describe('MessagingModule', () => {
  it('closes its client when the app closes', async () => {
    const context = await NestFactory.createApplicationContext(
      MessagingModule.forService('ingestion', { MLP_REGISTRY_RPC_PORT: await freePort() }),
      { logger: false },
    );
    const client = context.get(MlpClient);
    await context.close();
    const error = await client.send(subjects.qry.ping('registry'), {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InfrastructureError);
    expect((error as InfrastructureError).message).toMatch(/closed/);
  });

  it('refuses a subject it cannot route over TCP', async () => {
    const client = new MlpClient({});
    const error = await client.send(subjects.tel.predictions('m'), {}).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: rpcErrorCodes.unroutable });
    await client.close();
  });
});
