import type { IncomingMessage, ServerResponse } from 'node:http';
import { Catch, Inject, Injectable, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { ThrottlerException } from '@nestjs/throttler';
import { SERVICE_LOGGER, toErrorResponse, type Logger } from '@mlp/service-kit';
import { RateLimitedError, ServingError } from '../inference/serving-errors';

/**
 * Errors of the inference routes, in the platform's shape `{code, name,
 * message, details}` plus `error` (the message: what Open Inference Protocol
 * clients read). 429/503 carry Retry-After; 504 a request past its deadline.
 */
@Catch()
@Injectable()
export class ServingExceptionFilter implements ExceptionFilter {
  constructor(@Inject(SERVICE_LOGGER) private readonly logger: Logger) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<ServerResponse>();
    const req = host.switchToHttp().getRequest<IncomingMessage>();
    const { status, body, retryAfter } = renderError(exception);
    if (status >= 500 && status !== 503 && status !== 504) this.logger.error({ err: exception, target: `${req.method} ${req.url}` }, 'unexpected error');
    if (res.headersSent) {
      res.end();
      return;
    }
    if (retryAfter !== undefined) res.setHeader('retry-after', String(retryAfter));
    const payload = JSON.stringify({ ...body, error: body.message });
    res.statusCode = status;
    res.setHeader('content-type', 'application/json; charset=utf-8');
    res.setHeader('content-length', Buffer.byteLength(payload));
    res.end(payload);
  }
}

export function renderError(exception: unknown): { status: number; body: { code: string; name: string; message: string; details?: unknown }; retryAfter?: number } {
  if (exception instanceof ThrottlerException) {
    const e = new RateLimitedError('rate limit exceeded for this API key (MLP_SERVING_RATE_LIMIT); retry after the Retry-After delay', 1);
    return { status: 429, body: e.toPayload() };
  }
  if (exception instanceof ServingError) return { status: exception.status, body: exception.toPayload(), retryAfter: exception.retryAfterSeconds };
  const r = toErrorResponse(exception);
  return { status: r.status, body: r.body };
}
