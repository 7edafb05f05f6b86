import type { AddressInfo } from 'node:net';
import type { DynamicModule, INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { InfrastructureError, type ServiceName } from '@mlp/contracts';
import { rpcPort, rpcPortVar, transportOptions } from '@mlp/messaging';
import { httpPortVar, type BaseConfig } from '../config/service-config';
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
  /** Defaults to a pino logger at LOG_LEVEL on stdout. */
  logger?: Logger;
}

export interface RunningService {
  app: INestApplication;
  /** Base URL of the HTTP server, e.g. http://127.0.0.1:7104 */
  url: string;
  logger: Logger;
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
  const logger = options.logger ?? createLogger({ service, level: config.LOG_LEVEL });
  const metrics = new HttpMetrics(service);
  const readiness = new ReadinessChecks();

  const app = await NestFactory.create<NestExpressApplication>(
    ServiceKitModule.forRoot({ service, module: options.module, logger, metrics, readiness }),
    // Only JSON bodies are parsed; every other body (uploads, YAML, NDJSON) reaches its handler as a stream.
    { logger: new PinoNestLogger(logger), abortOnError: false, forceCloseConnections: true, bodyParser: false },
  );
  app.useBodyParser('json', { limit: '10mb' });
  let started = false;
  try {
    // Before Nest's body parser and routes, so every request is timed and correlated.
    app.use(correlationMiddleware(service), metrics.middleware());
    // Globals first: the microservice takes its handlers' filters/interceptors when connected.
    app.useGlobalFilters(new MlpExceptionFilter(logger, app.getHttpAdapter(), service));
    app.useGlobalInterceptors(new RpcContextInterceptor(service));
    setupOpenApi(app, service);
    app.connectMicroservice(transportOptions(service, config), { inheritAppConfig: true });
    const checks = typeof options.readiness === 'function' ? options.readiness(app) : (options.readiness ?? []);
    readiness.set(checks);

    await app.init();
    await app.startAllMicroservices().catch((err: unknown) => {
      throw startError(err, `${service} RPC transport`, rpcPortVar(service), rpcPort(service, config));
    });
    const port = options.httpPort ?? config[httpPortVar(service)];
    await app.listen(port).catch((err: unknown) => {
      throw startError(err, `${service} HTTP server`, httpPortVar(service), port);
    });
    started = true;
  } finally {
    if (!started) await app.close().catch(() => undefined);
  }

  const { port } = app.getHttpServer().address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  logger.info({ url, transport: config.MLP_TRANSPORT }, `${service} ready`);
  let closing: Promise<void> | undefined;
  return { app, url, logger, close: () => (closing ??= app.close()) };
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
