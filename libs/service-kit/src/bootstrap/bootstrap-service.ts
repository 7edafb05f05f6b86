import type { AddressInfo } from 'node:net';
import type { DynamicModule, INestApplication, Type } from '@nestjs/common';
import { NestFactory, Reflector } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { InfrastructureError, type ServiceName } from '@mlp/contracts';
import type { EventStore } from '@mlp/eventstore';
import { rpcPort, rpcPortVar, transportOptions } from '@mlp/messaging';
import { ApiKeyRing } from '../auth/api-key-ring';
import { ApiKeysService } from '../auth/api-keys.service';
import { authEnabled, isLoopbackHost } from '../auth/auth-mode';
import { AuthGuard } from '../auth/auth.guard';
import { authMiddleware } from '../auth/auth.middleware';
import { DEFAULT_MAX_BODY_BYTES, httpPortVar, type BaseConfig } from '../config/service-config';
import { bodyLimitMiddleware } from '../http/request-body';
import { correlationMiddleware } from '../correlation/correlation.middleware';
import { RpcContextInterceptor } from '../correlation/rpc-context.interceptor';
import { MlpExceptionFilter } from '../errors/mlp-exception.filter';
import { ReadinessChecks, type ReadinessCheck } from '../health/readiness-check';
import { createLogger, type Logger } from '../logging/logger';
import { PinoNestLogger } from '../logging/pino-nest-logger';
import { HttpMetrics } from '../metrics/http-metrics';
import { setupOpenApi } from '../openapi/openapi';
import { ServiceKitModule } from './service-kit.module';

export interface BootstrapOptions {
  service: ServiceName;
  /** The service's root module (controllers with routes and @MessagePattern handlers). */
  module: Type<unknown> | DynamicModule;
  config: BaseConfig;
  /** Checks behind /health/ready; a function gets the created app, e.g. to `app.get()` a client. */
  readiness?: readonly ReadinessCheck[] | ((app: INestApplication) => readonly ReadinessCheck[]);
  /** Overrides MLP_<ENVKEY>_PORT; 0 picks a free port. */
  httpPort?: number;
  /** Overrides MLP_BIND_HOST (default 127.0.0.1). */
  host?: string;
  /** Defaults to a pino logger at LOG_LEVEL on stdout. */
  logger?: Logger;
  /** Where API keys live (as events); without one only MLP_ADMIN_KEY and other env keys exist. */
  eventStore?: EventStore;
}

export interface RunningService {
  app: INestApplication;
  /** Base URL of the HTTP server, e.g. http://127.0.0.1:7104 */
  url: string;
  logger: Logger;
  /** Whether requests need an API key (MLP_AUTH, transport, bind host). */
  auth: boolean;
  /** The keys this service accepts. */
  keys: ApiKeyRing;
  /** Stops the transport and the HTTP server; safe to call twice. */
  close(): Promise<void>;
}

/**
 * Creates and starts one service: a Nest (express) app with the error filter,
 * correlation ids, pino logging, /health, /metrics and /docs, plus the RPC
 * transport from `transportOptions` (hybrid app sharing filter and interceptors).
 */
export async function bootstrapService(options: BootstrapOptions): Promise<RunningService> {
  const { service, config } = options;
  const host = options.host ?? config.MLP_BIND_HOST ?? '127.0.0.1';
  const logger = options.logger ?? createLogger({ service, level: config.LOG_LEVEL });
  const metrics = new HttpMetrics(service);
  const readiness = new ReadinessChecks();
  const auth = authEnabled(config);
  const keys = new ApiKeyRing(options.eventStore, logger);
  if (config.MLP_ADMIN_KEY) keys.addEnvKeys('admin', [config.MLP_ADMIN_KEY], ['admin']);
  const keyManagement = options.eventStore ? new ApiKeysService(options.eventStore, keys) : undefined;
  const maxBodyBytes = config.MLP_MAX_BODY_BYTES ?? DEFAULT_MAX_BODY_BYTES;

  const app = await NestFactory.create<NestExpressApplication>(
    ServiceKitModule.forRoot({ service, module: options.module, logger, metrics, readiness, keys, keyManagement }),
    // Only JSON bodies are parsed; every other body (uploads, YAML, NDJSON) reaches its handler as a stream.
    { logger: new PinoNestLogger(logger), abortOnError: false, forceCloseConnections: true, bodyParser: false },
  );
  let started = false;
  try {
    // Before the body parser and routes, so every request is timed, correlated and authenticated.
    app.use(correlationMiddleware(service), metrics.middleware(), bodyLimitMiddleware(maxBodyBytes), authMiddleware(keys));
    app.useBodyParser('json', { limit: maxBodyBytes });
    // Globals first: the microservice takes its handlers' filters/interceptors when connected.
    app.useGlobalFilters(new MlpExceptionFilter(logger, app.getHttpAdapter(), service));
    app.useGlobalInterceptors(new RpcContextInterceptor(service));
    app.useGlobalGuards(new AuthGuard(app.get(Reflector), auth));
    setupOpenApi(app, service);
    app.connectMicroservice(transportOptions(service, config), { inheritAppConfig: true });
    const checks = typeof options.readiness === 'function' ? options.readiness(app) : (options.readiness ?? []);
    readiness.set(checks);

    await app.init();
    await keys.start();
    await app.startAllMicroservices().catch((err: unknown) => {
      throw startError(err, `${service} RPC transport`, rpcPortVar(service), rpcPort(service, config));
    });
    const port = options.httpPort ?? config[httpPortVar(service)];
    await app.listen(port, host).catch((err: unknown) => {
      throw startError(err, `${service} HTTP server`, httpPortVar(service), port);
    });
    started = true;
  } finally {
    if (!started) {
      await keys.stop();
      await app.close().catch(() => undefined);
    }
  }

  const { port } = app.getHttpServer().address() as AddressInfo;
  const url = `http://${urlHost(host)}:${port}`;
  logger.info({ url, host, transport: config.MLP_TRANSPORT, auth: auth ? 'on' : 'off' }, `${service} ready`);
  if (auth && !keys.hasAdmin()) {
    logger.warn('auth is on and no admin key exists: set MLP_ADMIN_KEY to create keys (`mlp keys create`)');
  }
  if (!auth && !isLoopbackHost(host)) logger.warn({ host }, 'auth is off (MLP_AUTH=off) while listening beyond loopback');
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await keys.stop();
      await app.close();
    })());
  return { app, url, logger, auth, keys, close };
}

/** Host part of a URL for a local client: a wildcard address is reached on loopback; IPv6 goes in brackets. */
function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

function startError(err: unknown, what: string, envVar: string, port: number): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'EADDRINUSE') {
    return new InfrastructureError(`${what} cannot listen: port ${port} is already in use (set ${envVar})`, {
      code: 'PORT_IN_USE',
      cause: err,
    });
  }
  return new InfrastructureError(`${what} failed to start: ${(err as Error)?.message ?? String(err)}`, {
    code: 'START_FAILED',
    cause: err,
  });
}
