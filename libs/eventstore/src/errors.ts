import { ConcurrencyError } from '@mlp/contracts';
import type { ExpectedRevision } from './event-store';

/** The one error every adapter raises when an expected revision does not hold. */
export class ExpectedVersionConflictError extends ConcurrencyError {
  constructor(
    readonly stream: string,
    readonly expected: ExpectedRevision,
    readonly actual: number | 'no_stream',
    reason?: string,
  ) {
    super(reason ?? `stream ${stream}: expected revision ${String(expected)}, actual ${String(actual)}`, {
      code: 'WRONG_EXPECTED_REVISION',
      details: { stream, expected, actual },
    });
  }
}

export function isExpectedVersionConflict(err: unknown): err is ExpectedVersionConflictError {
  return err instanceof ExpectedVersionConflictError;
}
