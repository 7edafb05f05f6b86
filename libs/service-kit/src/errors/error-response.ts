import { HttpException, HttpStatus } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import {
  ConcurrencyError,
  DomainError,
  ForbiddenError,
  IllegalStateError,
  InfrastructureError,
  NotFoundError,
  PayloadTooLargeError,
  UnauthorizedError,
  ValidationError,
  errorFromPayload,
  isErrorPayload,
  type ErrorPayload,
} from '@mlp/contracts';

export interface ErrorResponse {
  status: number;
  body: ErrorPayload;
  /** An unexpected failure: the body is generic and the error must be logged. */
  internal: boolean;
}

export const INTERNAL_ERROR_BODY: ErrorPayload = Object.freeze({
  code: 'INTERNAL',
  name: 'InternalError',
  message: 'internal error',
});

const internal = (): ErrorResponse => ({ status: 500, body: { ...INTERNAL_ERROR_BODY }, internal: true });

/** HTTP status of each DomainError class. */
export function statusOf(error: DomainError): number {
  if (error instanceof ValidationError) return 400;
  if (error instanceof UnauthorizedError) return 401;
  if (error instanceof ForbiddenError) return 403;
  if (error instanceof NotFoundError) return 404;
  if (error instanceof IllegalStateError) return 409;
  if (error instanceof ConcurrencyError) return 412;
  if (error instanceof PayloadTooLargeError) return 413;
  if (error instanceof InfrastructureError) return 503;
  // A plain DomainError is a rejected request; INTERNAL is a remote's internal error rebuilt by MlpClient.
  return error.code === INTERNAL_ERROR_BODY.code ? 500 : 400;
}

/** The DomainError name a status corresponds to, so callers can rebuild a typed error. */
const nameByStatus: Record<number, string> = {
  400: ValidationError.name,
  401: UnauthorizedError.name,
  403: ForbiddenError.name,
  404: NotFoundError.name,
  409: IllegalStateError.name,
  412: ConcurrencyError.name,
  413: PayloadTooLargeError.name,
  503: InfrastructureError.name,
};

function statusCode(status: number): string {
  return (HttpStatus as unknown as Record<number, string | undefined>)[status] ?? `HTTP_${status}`;
}

function fromStatus(status: number, message: string, details?: unknown): ErrorResponse {
  if (status >= 500 && status !== 503) return internal();
  const body: ErrorPayload = { code: statusCode(status), name: nameByStatus[status] ?? 'HttpError', message };
  if (details !== undefined) body.details = details;
  else if (status === 400) body.details = [];
  return { status, body, internal: false };
}

function fromDomainError(error: DomainError): ErrorResponse {
  const status = statusOf(error);
  if (status === 500) return internal();
  return { status, body: error.toPayload(), internal: false };
}

function fromHttpException(error: HttpException): ErrorResponse {
  const response = error.getResponse();
  const raw = typeof response === 'object' && response !== null ? (response as { message?: unknown }).message : response;
  if (Array.isArray(raw)) {
    // e.g. ValidationPipe: a list of messages
    const details = raw.map((m) => ({ path: '', message: String(m) }));
    return fromStatus(error.getStatus(), 'invalid request', details);
  }
  return fromStatus(error.getStatus(), typeof raw === 'string' ? raw : error.message);
}

/** body-parser / http-errors style error meant for the client (413 too large, 415, ...). */
function isExposedClientError(error: unknown): error is Error & { status: number } {
  const e = error as { status?: unknown; expose?: unknown } | null;
  return (
    typeof e === 'object' && e !== null && e.expose === true && typeof e.status === 'number' && e.status >= 400 && e.status < 500
  );
}

/**
 * Maps anything thrown to a status and the standard body `{code, name, message, details}`.
 * DomainErrors by class, Nest HttpExceptions and body-parser errors by status,
 * everything else to a generic 500: never a stack or an internal message.
 */
export function toErrorResponse(error: unknown): ErrorResponse {
  if (error instanceof DomainError) return fromDomainError(error);
  if (error instanceof HttpException) return fromHttpException(error);
  if (error instanceof RpcException) {
    const inner = error.getError();
    if (isErrorPayload(inner)) return fromDomainError(errorFromPayload(inner));
    if (typeof inner === 'string') return fromDomainError(new DomainError(inner, { code: 'RPC_ERROR' }));
    return internal();
  }
  if (isExposedClientError(error)) {
    const limit = (error as { type?: unknown; limit?: unknown }).type === 'entity.too.large' ? (error as { limit?: unknown }).limit : undefined;
    if (typeof limit === 'number') {
      return fromDomainError(
        new PayloadTooLargeError(`request body larger than ${limit} bytes (MLP_MAX_BODY_BYTES)`, { details: { limit } }),
      );
    }
    return fromStatus(error.status, error.message);
  }
  return internal();
}
