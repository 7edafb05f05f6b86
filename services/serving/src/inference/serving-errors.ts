import { DomainError } from '@mlp/contracts';

/** Errors of the data plane that carry an HTTP status of their own and, when retrying helps, a Retry-After. */
export abstract class ServingError extends DomainError {
  abstract readonly status: number;
  /** gRPC status name (UNAVAILABLE, RESOURCE_EXHAUSTED, DEADLINE_EXCEEDED). */
  abstract readonly grpcCode: 'UNAVAILABLE' | 'RESOURCE_EXHAUSTED' | 'DEADLINE_EXCEEDED';
  readonly retryAfterSeconds?: number;
}

/** The version's queue is full: 503 + Retry-After (gRPC UNAVAILABLE). */
export class OverloadedError extends ServingError {
  readonly status = 503;
  readonly grpcCode = 'UNAVAILABLE' as const;
  constructor(
    message: string,
    override readonly retryAfterSeconds = 1,
  ) {
    super(message, { code: 'OVERLOADED', details: { retryAfterSeconds } });
  }
}

/** The key's token bucket is empty: 429 + Retry-After (gRPC RESOURCE_EXHAUSTED). */
export class RateLimitedError extends ServingError {
  readonly status = 429;
  readonly grpcCode = 'RESOURCE_EXHAUSTED' as const;
  constructor(
    message: string,
    override readonly retryAfterSeconds: number,
  ) {
    super(message, { code: 'RATE_LIMITED', details: { retryAfterSeconds } });
  }
}

/** The request's own deadline passed before its batch ran: 504 (gRPC DEADLINE_EXCEEDED). */
export class DeadlineExceededError extends ServingError {
  readonly status = 504;
  readonly grpcCode = 'DEADLINE_EXCEEDED' as const;
  constructor(message: string) {
    super(message, { code: 'DEADLINE_EXCEEDED' });
  }
}
