import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What every log line and outgoing command of one request shares. Set by the
 * HTTP middleware / RPC interceptor (service-kit), read by MlpClient and the logger.
 */
export interface RequestContext {
  readonly correlationId: string;
  readonly actor?: string;
  readonly causationId?: string | null;
  /** The service handling the request (several share one process in embedded mode). */
  readonly service?: string;
  /** The request's `Idempotency-Key`: commands handled inside it record their events once. */
  readonly commandId?: string;
}

const storage = new AsyncLocalStorage<RequestContext>();

/** Runs `fn` (and everything it starts asynchronously) inside `context`. */
export function runWithContext<T>(context: RequestContext, fn: () => T): T {
  return storage.run(context, fn);
}

/** The context of the request being handled, or undefined outside of one. */
export function currentContext(): RequestContext | undefined {
  return storage.getStore();
}
