/**
 * Domain error hierarchy shared by every service. One filter (service-kit)
 * maps these to HTTP statuses and RPC payloads `{code, name, message, details}`.
 */
export interface FieldIssue {
  /** Dotted path of the offending field (`columns.amount.min`), or '' for the whole input. */
  path: string;
  message: string;
}

export interface ErrorPayload {
  code: string;
  name: string;
  message: string;
  details?: unknown;
}

export class DomainError extends Error {
  readonly code: string;
  readonly details?: unknown;

  constructor(message: string, options: { code?: string; details?: unknown; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code ?? 'DOMAIN_ERROR';
    this.details = options.details;
  }

  toPayload(): ErrorPayload {
    const payload: ErrorPayload = { code: this.code, name: this.name, message: this.message };
    if (this.details !== undefined) payload.details = this.details;
    return payload;
  }
}

/** 400: bad input, with field-level details. */
export class ValidationError extends DomainError {
  declare readonly details: FieldIssue[];
  constructor(message: string, issues: FieldIssue[] = [], options: { code?: string; cause?: unknown } = {}) {
    super(message, { code: options.code ?? 'VALIDATION_FAILED', details: issues, cause: options.cause });
  }
}

/** 404 */
export class NotFoundError extends DomainError {
  constructor(message: string, options: { code?: string; details?: unknown } = {}) {
    super(message, { code: options.code ?? 'NOT_FOUND', details: options.details });
  }
}

/** 409: the command is not allowed in the aggregate's current state. */
export class IllegalStateError extends DomainError {
  constructor(message: string, options: { code?: string; details?: unknown } = {}) {
    super(message, { code: options.code ?? 'ILLEGAL_STATE', details: options.details });
  }
}

/** 412: optimistic concurrency failed (someone else wrote first). */
export class ConcurrencyError extends DomainError {
  constructor(message: string, options: { code?: string; details?: unknown; cause?: unknown } = {}) {
    super(message, { code: options.code ?? 'CONCURRENCY_CONFLICT', ...options });
  }
}

/** 401/403 */
export class UnauthorizedError extends DomainError {
  constructor(message = 'missing or invalid credentials') {
    super(message, { code: 'UNAUTHORIZED' });
  }
}

/** 403: the caller is known but may not do this (wrong scope, a source outside the allowed roots or hosts). */
export class ForbiddenError extends DomainError {
  constructor(message: string, options: { code?: string; details?: unknown } = {}) {
    super(message, { code: options.code ?? 'FORBIDDEN', details: options.details });
  }
}

/** 413: a request body over a configured limit (`MLP_MAX_BODY_BYTES`, an upload limit). */
export class PayloadTooLargeError extends DomainError {
  constructor(message: string, options: { code?: string; details?: unknown } = {}) {
    super(message, { code: options.code ?? 'PAYLOAD_TOO_LARGE', details: options.details });
  }
}

/** 503: a backing system (event store, broker, object store) failed; wraps its cause. */
export class InfrastructureError extends DomainError {
  constructor(message: string, options: { code?: string; details?: unknown; cause?: unknown } = {}) {
    super(message, { code: options.code ?? 'INFRASTRUCTURE_ERROR', ...options });
  }
}

const byName: Record<string, new (message: string) => DomainError> = {
  DomainError,
  ValidationError,
  NotFoundError,
  IllegalStateError,
  ConcurrencyError,
  UnauthorizedError,
  ForbiddenError,
  PayloadTooLargeError,
  InfrastructureError,
};

/** Rebuilds a DomainError from a payload that crossed the wire (RPC reply, HTTP body). */
export function errorFromPayload(payload: ErrorPayload): DomainError {
  const Ctor = byName[payload.name] ?? DomainError;
  const err =
    Ctor === ValidationError
      ? new ValidationError(payload.message, (payload.details as FieldIssue[]) ?? [], { code: payload.code })
      : new Ctor(payload.message);
  Object.assign(err, { code: payload.code, details: payload.details });
  return err;
}

export function isErrorPayload(value: unknown): value is ErrorPayload {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as ErrorPayload).code === 'string' &&
    typeof (value as ErrorPayload).name === 'string' &&
    typeof (value as ErrorPayload).message === 'string'
  );
}
