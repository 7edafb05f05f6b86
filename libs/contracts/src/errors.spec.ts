import { ConcurrencyError, errorFromPayload, isErrorPayload, NotFoundError, ValidationError } from './errors';

describe('domain errors', () => {
  it('round-trip through their wire payload with class, code and details', () => {
    const original = new ValidationError('bad input', [{ path: 'name', message: 'required' }]);
    const payload = original.toPayload();
    expect(payload).toEqual({ code: 'VALIDATION_FAILED', name: 'ValidationError', message: 'bad input', details: [{ path: 'name', message: 'required' }] });
    expect(isErrorPayload(payload)).toBe(true);
    const back = errorFromPayload(payload);
    expect(back).toBeInstanceOf(ValidationError);
    expect(back.details).toEqual(payload.details);
    expect(errorFromPayload(new NotFoundError('nope').toPayload())).toBeInstanceOf(NotFoundError);
    const conflict = errorFromPayload(new ConcurrencyError('late', { code: 'WRONG_EXPECTED_REVISION' }).toPayload());
    expect(conflict).toBeInstanceOf(ConcurrencyError);
    expect(conflict.code).toBe('WRONG_EXPECTED_REVISION');
  });

  it('does not take arbitrary objects for payloads', () => {
    expect(isErrorPayload({ message: 'x' })).toBe(false);
    expect(isErrorPayload(null)).toBe(false);
  });
});
