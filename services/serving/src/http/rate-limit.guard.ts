import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Injectable, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { InjectThrottlerOptions, InjectThrottlerStorage, ThrottlerGuard, type ThrottlerLimitDetail, type ThrottlerModuleOptions, type ThrottlerStorage } from '@nestjs/throttler';
import { requestAuth } from '@mlp/service-kit';
import { ServingRuntime } from '../serving-runtime';

/** The bucket a request draws from: its API key (by a hash of the id), else its client address. */
export function rateLimitTracker(keyId: string | undefined, address: string | undefined): string {
  if (keyId) return `key:${createHash('sha256').update(keyId).digest('hex').slice(0, 16)}`;
  return `ip:${address ?? 'unknown'}`;
}

/**
 * @nestjs/throttler's guard, one bucket per API key across every inference
 * route (not per route), on the token-bucket storage. Over the limit: 429
 * with Retry-After (set by the guard), counted in serving_rate_limited_total.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    reflector: Reflector,
    private readonly runtime: ServingRuntime,
  ) {
    super(options, storage, reflector);
  }

  protected override async shouldSkip(): Promise<boolean> {
    return this.runtime.config.rateLimit === null;
  }

  protected override async getTracker(req: Record<string, unknown>): Promise<string> {
    const r = req as unknown as IncomingMessage;
    return rateLimitTracker(requestAuth(r).principal?.keyId, r.socket.remoteAddress);
  }

  protected override generateKey(_context: ExecutionContext, tracker: string): string {
    return tracker;
  }

  protected override async throwThrottlingException(context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const req = context.switchToHttp().getRequest<IncomingMessage>();
    this.runtime.metrics.rateLimited.inc({ protocol: req.url?.startsWith('/v2') ? 'rest-v2' : 'rest-v1' });
    return super.throwThrottlingException(context, detail);
  }
}
