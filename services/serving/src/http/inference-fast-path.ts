import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Inject, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ForbiddenError, grantsScope, InfrastructureError, PayloadTooLargeError, UnauthorizedError, ValidationError } from '@mlp/contracts';
import { ApiKeyRing, authEnabled, DEFAULT_MAX_BODY_BYTES, HttpMetrics, KEY_HINT, presentedKey, SERVICE_CONFIG, type BaseConfig, type Principal } from '@mlp/service-kit';
import type { Awaitable } from '../inference/inference.service';
import { RateLimitedError } from '../inference/serving-errors';
import { HistogramSeries } from '../metrics/fast-series';
import { ServingRuntime } from '../serving-runtime';
import { v1Predict, v2Infer, type CallMeta } from './inference-handlers';
import { rateLimitTracker } from './rate-limit.guard';
import { renderError } from './serving-exception.filter';

const V1 = /^\/v1\/models\/([^/?]+)(?:\?.*)?$/;
const V2 = /^\/v2\/models\/([^/?]+)(?:\/versions\/([^/?]+))?\/infer(?:\?.*)?$/;

/** Idle time a client is told it may keep an inference connection (the Keep-Alive header), in seconds. */
const ADVERTISED_KEEP_ALIVE_S = 5;
/** Idle time after which serving closes a connection. */
const SERVER_KEEP_ALIVE_MS = 65_000;

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/** A V2 infer (`model`: `{m}`, `version`: `{v}`) or V1 predict (`model`: `{m}:predict`) call, and its route label. */
interface InferenceCall {
  v2: boolean;
  model: string;
  version?: string;
  route: string;
}

function parseCall(url: string): InferenceCall | null {
  const v2 = V2.exec(url);
  if (v2) {
    const version = v2[2] === undefined ? undefined : decodeURIComponent(v2[2]);
    return { v2: true, model: decodeURIComponent(v2[1]), version, route: version === undefined ? '/v2/models/:m/infer' : '/v2/models/:m/versions/:v/infer' };
  }
  const v1 = V1.exec(url);
  if (!v1 || !v1[1].endsWith(':predict')) return null;
  return { v2: false, model: decodeURIComponent(v1[1]), route: '/v1/models/:target' };
}

/**
 * The data plane's hot path. `POST /v1/models/{m}:predict` and `POST
 * /v2/models/{m}[/versions/{v}]/infer` are answered by a plain node:http
 * listener placed ahead of Express and Nest: the same API-key check (predict
 * scope; 401/403), the same token bucket per key (429 + Retry-After), the
 * same body limit (413), the same handlers and error shape as the
 * controllers, without the framework's per-request middleware, guards,
 * interceptors and routing (which cost more than the model's predict here:
 * see `npm run bench -- serving`). Every other request goes to Express.
 * MLP_SERVING_FAST_PATH=off leaves the two routes to the Nest controllers.
 */
@Injectable()
export class InferenceFastPath implements OnApplicationBootstrap {
  private readonly auth: boolean;
  private readonly maxBodyBytes: number;
  private readonly durations = new Map<string, HistogramSeries>();
  private readonly calls = new Map<string, InferenceCall | null>();

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly runtime: ServingRuntime,
    private readonly keys: ApiKeyRing,
    private readonly httpMetrics: HttpMetrics,
    @Inject(SERVICE_CONFIG) base: BaseConfig,
  ) {
    this.auth = authEnabled(base);
    this.maxBodyBytes = base.MLP_MAX_BODY_BYTES ?? DEFAULT_MAX_BODY_BYTES;
  }

  onApplicationBootstrap(): void {
    if (!this.runtime.config.fastPath) return;
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (!server) return;
    const downstream = server.listeners('request') as Listener[];
    server.removeAllListeners('request');
    // Clients reuse an idle connection for the advertised time less a margin (undici: 1 s). Closing it at that
    // same time (Node's default) lets a busy event loop close a connection a request was just sent on
    // (ECONNRESET under overload): idle connections are closed well after the time advertised.
    server.keepAliveTimeout = SERVER_KEEP_ALIVE_MS;
    server.headersTimeout = SERVER_KEEP_ALIVE_MS + 1000;
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (req.method !== 'POST' || !this.handle(req, res)) for (const l of downstream) l.call(server, req, res);
    });
  }

  /** True when the request is an inference call (answered here). */
  private handle(req: IncomingMessage, res: ServerResponse): boolean {
    const call = this.callOf(req.url ?? '');
    if (!call) return false;
    const route = call.route;
    const started = performance.now();
    const header = req.headers['x-request-id'];
    const fail = (err: unknown) => {
      const { status, body, retryAfter } = renderError(err);
      if (status >= 500 && status !== 503 && status !== 504) this.runtime.logger.error({ err, target: `POST ${route}` }, 'unexpected error');
      if (retryAfter !== undefined) res.setHeader('retry-after', String(retryAfter));
      // Answered before the body was read (401, 413): close rather than drain the rest.
      if (!req.complete) res.setHeader('connection', 'close');
      this.reply(res, status, JSON.stringify({ ...body, error: body.message }), route, started);
    };
    const answer = (result: unknown) => {
      let payload: string;
      try {
        payload = JSON.stringify(result);
      } catch (err) {
        fail(err);
        return;
      }
      this.reply(res, 200, payload, route, started);
    };
    // Callbacks rather than a promise chain: without a key to check, an unbatched request makes no promise.
    const go = (principal: Principal | undefined) => {
      try {
        this.limit(principal, req);
      } catch (err) {
        fail(err);
        return;
      }
      readJson(req, this.maxBodyBytes, (err, body) => {
        if (err) return fail(err);
        let result: Awaitable<unknown>;
        try {
          const meta: CallMeta = { requestIdHeader: typeof header === 'string' ? header : undefined, keyId: principal?.keyId, headers: req.headers };
          result = call.v2 ? v2Infer(this.runtime, call.model, call.version, body, meta) : v1Predict(this.runtime, call.model, body, meta);
        } catch (e) {
          return fail(e);
        }
        if (result instanceof Promise) result.then(answer, fail);
        else answer(result);
      });
    };
    if (!this.auth && !presentedKey(req.headers)) go(undefined);
    else this.authorize(req).then(go, fail);
    return true;
  }

  /** The inference call a URL names (null: none), parsed once per distinct URL. */
  private callOf(url: string): InferenceCall | null {
    let call = this.calls.get(url);
    if (call === undefined) {
      call = parseCall(url);
      if (this.calls.size >= 1000) this.calls.clear();
      this.calls.set(url, call);
    }
    return call;
  }

  private reply(res: ServerResponse, status: number, payload: string, route: string, started: number): void {
    const headers: Record<string, string | number> = { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(payload) };
    if (res.shouldKeepAlive && !res.hasHeader('connection')) {
      headers.connection = 'keep-alive';
      headers['keep-alive'] = `timeout=${ADVERTISED_KEEP_ALIVE_S}`;
    }
    res.writeHead(status, headers);
    res.end(payload);
    this.duration(route, status).observe((performance.now() - started) / 1000);
  }

  /** The duration metric's series of a route and status. */
  private duration(route: string, status: number): HistogramSeries {
    const key = status === 200 ? route : `${status} ${route}`;
    let series = this.durations.get(key);
    if (!series) this.durations.set(key, (series = new HistogramSeries(this.httpMetrics.httpRequestDuration, { method: 'POST', route, status: String(status) })));
    return series;
  }

  /** The key's principal, as the auth middleware and guard decide it (scope `predict`). */
  private async authorize(req: IncomingMessage): Promise<Principal | undefined> {
    const token = presentedKey(req.headers);
    if (!token) {
      if (this.auth) throw new UnauthorizedError(`missing API key: ${KEY_HINT}`);
      return undefined;
    }
    let principal: Principal | undefined;
    try {
      principal = await this.keys.authenticate(token);
    } catch (cause) {
      if (!this.auth) return undefined;
      throw new InfrastructureError('cannot check the API key now: the key store is unavailable', { code: 'AUTH_UNAVAILABLE', cause });
    }
    if (!this.auth) return principal;
    if (!principal) throw new UnauthorizedError('invalid API key: unknown or revoked');
    if (!grantsScope(principal.scopes, ['predict'])) {
      throw new ForbiddenError(`this needs an API key with the predict scope (or admin); key ${principal.keyId} has ${principal.scopes.join(', ')}`, {
        code: 'FORBIDDEN',
        details: { required: ['predict'], scopes: principal.scopes },
      });
    }
    return principal;
  }

  private limit(principal: Principal | undefined, req: IncomingMessage): void {
    const rate = this.runtime.config.rateLimit;
    if (!rate) return;
    const taken = this.runtime.limiter.take(rateLimitTracker(principal?.keyId, req.socket.remoteAddress), (1000 * rate.burst) / rate.perSecond, rate.burst);
    if (taken.isBlocked) {
      this.runtime.metrics.rateLimited.inc({ protocol: req.url?.startsWith('/v2') ? 'rest-v2' : 'rest-v1' });
      throw new RateLimitedError('rate limit exceeded for this API key (MLP_SERVING_RATE_LIMIT); retry after the Retry-After delay', taken.timeToBlockExpire);
    }
  }
}

/** The JSON body, at most `maxBytes` (413 past it, at once when content-length says so), to `done`. */
function readJson(req: IncomingMessage, maxBytes: number, done: (err: unknown, body?: unknown) => void): void {
  const tooLarge = () => new PayloadTooLargeError(`request body larger than ${maxBytes} bytes (MLP_MAX_BODY_BYTES)`, { details: { limit: maxBytes, setting: 'MLP_MAX_BODY_BYTES' } });
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return done(tooLarge());
  let first: Buffer | undefined;
  let chunks: Buffer[] | undefined;
  let size = 0;
  let failed = false;
  req.on('data', (c: Buffer) => {
    if (failed) return;
    size += c.length;
    if (size > maxBytes) {
      failed = true;
      done(tooLarge());
      return;
    }
    if (first === undefined) first = c;
    else (chunks ??= [first]).push(c);
  });
  req.on('error', (err) => {
    if (failed) return;
    failed = true;
    done(new ValidationError(`the request body could not be read: ${err.message}`, [{ path: '', message: 'unreadable body' }]));
  });
  req.on('end', () => {
    if (failed) return;
    const text = chunks ? Buffer.concat(chunks).toString('utf8') : first ? first.toString('utf8') : '';
    let body: unknown;
    try {
      body = text.length === 0 ? undefined : JSON.parse(text);
    } catch (err) {
      done(new ValidationError(`the request body is not JSON: ${(err as Error).message}`, [{ path: '', message: 'invalid JSON' }], { code: 'INVALID_JSON' }));
      return;
    }
    done(undefined, body);
  });
}
