import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import * as grpc from '@grpc/grpc-js';
import {
  DomainError,
  ForbiddenError,
  grantsScope,
  InfrastructureError,
  NotFoundError,
  UnauthorizedError,
  ValidationError,
  type ApiKeyScope,
} from '@mlp/contracts';
import { ApiKeyRing, authEnabled, presentedKey, SERVICE_CONFIG, type BaseConfig, type Principal } from '@mlp/service-kit';
import { modelRefOf, versionOf } from '../http/request-meta';
import { rateLimitTracker } from '../http/rate-limit.guard';
import { V2_PLATFORM } from '../http/v2.controller';
import { inputMetadata, outputMetadata, outputTensors } from '../inference/v2-codec';
import { RateLimitedError, ServingError } from '../inference/serving-errors';
import { ModelNotReadyError } from '../models/model-manager';
import { ServingRuntime } from '../serving-runtime';
import { decodeInputs, encodeOutput } from './tensor-contents';
import { loadV2Service, type ModelInferRequest, type ModelInferResponse } from './v2-proto';

const SERVER = { name: 'mlp-serving', version: '1', extensions: [] as string[] };

/** gRPC status of an error: the same classes as the REST statuses. */
export function grpcStatusOf(err: unknown): grpc.status {
  if (err instanceof ServingError) return grpc.status[err.grpcCode];
  if (err instanceof ValidationError) return grpc.status.INVALID_ARGUMENT;
  if (err instanceof NotFoundError) return grpc.status.NOT_FOUND;
  if (err instanceof UnauthorizedError) return grpc.status.UNAUTHENTICATED;
  if (err instanceof ForbiddenError) return grpc.status.PERMISSION_DENIED;
  if (err instanceof InfrastructureError) return grpc.status.UNAVAILABLE;
  if (err instanceof DomainError) return grpc.status.INVALID_ARGUMENT;
  return grpc.status.INTERNAL;
}

/** The error as a gRPC status: the message names every bad field; trailers carry `mlp-code` and, when retrying helps, `retry-after`. */
function toServiceError(err: unknown): Partial<grpc.StatusObject> {
  const code = grpcStatusOf(err);
  const metadata = new grpc.Metadata();
  if (code === grpc.status.INTERNAL) return { code, details: 'internal error', metadata };
  const e = err as DomainError;
  metadata.set('mlp-code', e.code);
  let details = e.message;
  if (e instanceof ValidationError && e.details.length > 1) details = `${e.message.split(':')[0]}: ${e.details.map((d) => `${d.path}: ${d.message}`).join('; ')}`;
  if (e instanceof ServingError && e.retryAfterSeconds !== undefined) metadata.set('retry-after', String(e.retryAfterSeconds));
  return { code, details, metadata };
}

/**
 * `inference.GRPCInferenceService` on @grpc/grpc-js, loaded from
 * grpc_predict_v2.proto by @grpc/proto-loader. Same lifecycle, validation,
 * batching and telemetry as REST; API keys in the `x-api-key` or
 * `authorization: Bearer` metadata (UNAUTHENTICATED / PERMISSION_DENIED),
 * the same per-key token bucket (RESOURCE_EXHAUSTED), load shedding as
 * UNAVAILABLE. Listens on MLP_SERVING_GRPC_PORT (default 7115; -1: off).
 */
@Injectable()
export class GrpcInferenceServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private server?: grpc.Server;
  private boundPort?: number;
  private readonly auth: boolean;

  constructor(
    private readonly runtime: ServingRuntime,
    private readonly keys: ApiKeyRing,
    @Inject(SERVICE_CONFIG) private readonly base: BaseConfig,
  ) {
    this.auth = authEnabled(base);
  }

  /** The port gRPC listens on, once started. */
  get port(): number | undefined {
    return this.boundPort;
  }

  async onApplicationBootstrap(): Promise<void> {
    const port = this.runtime.config.grpcPort;
    if (port === null) return;
    // Channelz (per-call bookkeeping for a debug service this server does not expose) costs every call: off.
    const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 * 1024 * 1024, 'grpc.enable_channelz': 0 });
    server.addService(loadV2Service().service, this.handlers());
    const host = this.base.MLP_BIND_HOST ?? '127.0.0.1';
    const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
    try {
      this.boundPort = await new Promise<number>((resolve, reject) =>
        server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(new InfrastructureError(`serving gRPC cannot listen on ${address} (MLP_SERVING_GRPC_PORT): ${err.message}`, { code: 'PORT_IN_USE', cause: err })) : resolve(bound))),
      );
    } catch (err) {
      server.forceShutdown();
      // The derived default (HTTP port + 10) may be taken by something else: REST still serves; a chosen port must work.
      if (this.runtime.config.grpcPortExplicit) throw err;
      this.runtime.logger.warn({ err, address }, 'serving gRPC is off: its default port is in use (set MLP_SERVING_GRPC_PORT)');
      return;
    }
    this.server = server;
    this.runtime.logger.info({ grpc: `${host}:${this.boundPort}` }, 'serving gRPC ready');
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, 2000);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private handlers(): grpc.UntypedServiceImplementation {
    const models = this.runtime.models;
    return {
      ServerLive: this.unary(null, async () => ({ live: true })),
      ServerReady: this.unary(null, async () => ({ ready: models.isReady() })),
      ModelReady: this.unary(['predict', 'read'], async (req: { name: string; version: string }) => {
        try {
          const { served } = models.resolve(modelRefOf(req.name), versionOf(req.version || undefined));
          return { ready: !served.retiring };
        } catch (err) {
          // Not served here, or served but not answering yet (starting, loading, load failed): not ready.
          if (err instanceof NotFoundError || err instanceof ModelNotReadyError) return { ready: false };
          throw err;
        }
      }),
      ServerMetadata: this.unary(['predict', 'read'], async () => SERVER),
      ModelMetadata: this.unary(['predict', 'read'], async (req: { name: string; version: string }) => {
        const { served } = models.resolve(modelRefOf(req.name), versionOf(req.version || undefined));
        const loaded = served.loaded;
        return { name: req.name, versions: [String(loaded.version)], platform: V2_PLATFORM, inputs: inputMetadata(loaded.inputSchema), outputs: outputMetadata(loaded) };
      }),
      ModelInfer: this.unary(['predict'], async (req: ModelInferRequest, principal, call) => {
        if (this.runtime.config.rateLimit) {
          const { perSecond, burst } = this.runtime.config.rateLimit;
          const peer = call.getPeer();
          const taken = this.runtime.limiter.take(rateLimitTracker(principal?.keyId, peer), (1000 * burst) / perSecond, burst);
          if (taken.isBlocked) {
            this.runtime.metrics.rateLimited.inc({ protocol: 'grpc' });
            throw new RateLimitedError('rate limit exceeded for this API key (MLP_SERVING_RATE_LIMIT)', taken.timeToBlockExpire);
          }
        }
        const deadline = call.getDeadline();
        const left = deadline instanceof Date ? deadline.getTime() - Date.now() : Number.isFinite(deadline) ? Number(deadline) - Date.now() : undefined;
        const result = await this.runtime.inference.predictTensors(modelRefOf(req.model_name), versionOf(req.model_version || undefined), decodeInputs(req), {
          protocol: 'grpc',
          ...(req.id ? { requestId: req.id } : {}),
          keyId: principal?.keyId,
          headers: call.metadata.getMap(),
          ...(left !== undefined && left > 0 ? { timeoutMs: left } : {}),
        });
        const outputs = outputTensors(result.loaded, result.outputs, result.n, req.outputs.map((o) => o.name));
        const response: ModelInferResponse = { model_name: req.model_name, model_version: String(result.loaded.version), id: result.requestId, outputs: outputs.map(encodeOutput) };
        return response;
      }),
    };
  }

  /** A unary handler with authentication/authorization and error mapping. `scopes` null: open. */
  private unary<Req, Res>(scopes: readonly ApiKeyScope[] | null, handle: (req: Req, principal: Principal | undefined, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      this.authorize(call.metadata, scopes)
        .then((principal) => handle(call.request, principal, call))
        .then(
          (res) => callback(null, res),
          (err: unknown) => {
            if (grpcStatusOf(err) === grpc.status.INTERNAL) this.runtime.logger.error({ err }, 'gRPC call failed');
            callback(toServiceError(err) as grpc.ServiceError);
          },
        );
    };
  }

  private async authorize(metadata: grpc.Metadata, scopes: readonly ApiKeyScope[] | null): Promise<Principal | undefined> {
    if (scopes === null) return undefined;
    const headers: Record<string, string | undefined> = {};
    const key = metadata.get('x-api-key')[0];
    const bearer = metadata.get('authorization')[0];
    if (key !== undefined) headers['x-api-key'] = String(key);
    if (bearer !== undefined) headers.authorization = String(bearer);
    const token = presentedKey(headers);
    if (!this.auth) return token ? this.keys.authenticate(token).catch(() => undefined) : undefined;
    if (!token) throw new UnauthorizedError('missing API key: send it in the x-api-key metadata or "authorization: Bearer <key>"');
    let principal: Principal | undefined;
    try {
      principal = await this.keys.authenticate(token);
    } catch (cause) {
      throw new InfrastructureError('cannot check the API key now: the key store is unavailable', { code: 'AUTH_UNAVAILABLE', cause });
    }
    if (!principal) throw new UnauthorizedError('invalid API key: unknown or revoked');
    if (!grantsScope(principal.scopes, scopes)) {
      throw new ForbiddenError(`this needs an API key with the ${scopes.join(' or ')} scope (or admin); key ${principal.keyId} has ${principal.scopes.join(', ')}`, { code: 'FORBIDDEN' });
    }
    return principal;
  }
}
