import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { runWithContext } from '@mlp/messaging';

export const CORRELATION_HEADER = 'x-correlation-id';
/** Who is acting, until an auth guard sets it from credentials. */
export const ACTOR_HEADER = 'x-actor';
/** A client's id for a command: sent again, the command records nothing new (see CommandMetadata.commandId). */
export const IDEMPOTENCY_HEADER = 'idempotency-key';

/** Accepted incoming ids: short and log-safe; anything else is replaced. */
const acceptable = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Takes `x-correlation-id` from the request (or makes a uuid), echoes it in the
 * response and runs the rest of the request inside the request context, with
 * the `Idempotency-Key` (400 when malformed) as the command id.
 */
export function correlationMiddleware(service: string) {
  return (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void): void => {
    const header = req.headers[CORRELATION_HEADER];
    const incoming = Array.isArray(header) ? header[0] : header;
    const correlationId = incoming && acceptable.test(incoming) ? incoming : randomUUID();
    res.setHeader(CORRELATION_HEADER, correlationId);
    const actorHeader = req.headers[ACTOR_HEADER];
    const actorValue = Array.isArray(actorHeader) ? actorHeader[0] : actorHeader;
    const actor = actorValue && acceptable.test(actorValue) ? actorValue : undefined;
    const keyHeader = req.headers[IDEMPOTENCY_HEADER];
    const key = Array.isArray(keyHeader) ? keyHeader[0] : keyHeader;
    if (key !== undefined && !acceptable.test(key)) {
      res.writeHead(400, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify({ code: 'INVALID_IDEMPOTENCY_KEY', name: 'ValidationError', message: `the ${IDEMPOTENCY_HEADER} header must be 1-128 characters of [A-Za-z0-9._:-]`, details: [{ path: IDEMPOTENCY_HEADER, message: 'invalid' }] }));
      return;
    }
    runWithContext({ correlationId, service, actor, commandId: key }, () => next());
  };
}
