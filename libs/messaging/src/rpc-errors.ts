import { types } from 'node:util';
import { TimeoutError } from 'rxjs';
import { DomainError, InfrastructureError, errorFromPayload, isErrorPayload } from '@mlp/contracts';

/** Codes of the InfrastructureErrors MlpClient raises for transport failures. */
export const rpcErrorCodes = {
  timeout: 'RPC_TIMEOUT',
  noResponders: 'RPC_NO_RESPONDERS',
  noHandler: 'RPC_NO_HANDLER',
  unavailable: 'RPC_UNAVAILABLE',
  unroutable: 'RPC_UNROUTABLE',
  failed: 'RPC_FAILED',
} as const;

const NO_HANDLER_REPLY = 'There is no matching message handler defined in the remote service.';
const unreachableCodes = new Set([
  // node sockets (TCP transport)
  'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT',
  // nats.js
  'CONNECTION_REFUSED', 'CONNECTION_CLOSED', 'CONNECTION_DRAINING', 'DISCONNECT',
]);

/**
 * What a failed `send` rejects with: the remote DomainError rebuilt from its
 * payload, or an InfrastructureError (with the transport error as cause).
 */
export function toCallerError(err: unknown, subject: string, timeoutMs: number): DomainError {
  if (err instanceof DomainError) return err;
  // A reply payload is a plain object; socket errors and NatsError also carry
  // code/name/message, so exclude real errors (isNativeError also sees other realms').
  if (!isError(err) && isErrorPayload(err)) return errorFromPayload(err);
  if (err instanceof TimeoutError) {
    return new InfrastructureError(`no reply to ${subject} within ${timeoutMs} ms`, {
      code: rpcErrorCodes.timeout,
      cause: err,
    });
  }
  if (err === NO_HANDLER_REPLY) {
    return new InfrastructureError(`no handler for ${subject} in the remote service`, { code: rpcErrorCodes.noHandler });
  }
  if (isError(err)) {
    const code = (err as { code?: unknown }).code;
    // NATS answers 503 when nobody subscribes; Nest surfaces it as an EmptyResponseException.
    if (err.constructor.name === 'EmptyResponseException' || code === '503') {
      return new InfrastructureError(`no responders for ${subject}`, { code: rpcErrorCodes.noResponders, cause: err });
    }
    if ((typeof code === 'string' && unreachableCodes.has(code)) || err.message === 'Connection closed') {
      return new InfrastructureError(`cannot reach the service for ${subject}: ${err.message}`, {
        code: rpcErrorCodes.unavailable,
        cause: err,
      });
    }
    return new InfrastructureError(`rpc ${subject} failed: ${err.message}`, { code: rpcErrorCodes.failed, cause: err });
  }
  if (typeof err === 'string' && /connection lost/i.test(err)) {
    return new InfrastructureError(`cannot reach the broker for ${subject}: ${err}`, { code: rpcErrorCodes.unavailable });
  }
  const text = typeof err === 'string' ? err : safeJson(err);
  return new InfrastructureError(`rpc ${subject} failed: ${text}`, { code: rpcErrorCodes.failed, cause: err });
}

function isError(value: unknown): value is Error {
  return value instanceof Error || types.isNativeError(value);
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
