import { randomUUID } from 'node:crypto';
import type { CallHandler, ExecutionContext, NestInterceptor } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { rpcMetaSchema } from '@mlp/contracts';
import { runWithContext, type RequestContext } from '@mlp/messaging';

/** The request context of an incoming `RpcRequest` (a fresh correlation id when it has no valid meta). */
export function rpcRequestContext(data: unknown, service: string): RequestContext {
  const meta = rpcMetaSchema.safeParse((data as { meta?: unknown } | null)?.meta);
  return meta.success ? { ...meta.data, service } : { correlationId: randomUUID(), service };
}

/** Runs every RPC handler inside the context carried by `RpcRequest.meta`. */
export class RpcContextInterceptor implements NestInterceptor {
  constructor(private readonly service: string) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'rpc') return next.handle();
    const requestContext = rpcRequestContext(context.switchToRpc().getData(), this.service);
    // Nest binds the handler's async context when handle() is called, so call it inside.
    return runWithContext(requestContext, () => next.handle());
  }
}
