import { describe, expect, it } from '@jest/globals';
import { ValidationError } from '@mlp/contracts';
import { contentKey, MAX_KEY_LENGTH, MAX_SEGMENT_LENGTH, validateKey, validatePrefix } from './keys';

function problem(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw err;
  }
  throw new Error('expected a ValidationError');
}

describe('validateKey', () => {
  it.each(['a', 'sha256/0123abcd', 'a/b/c', 'dataset=credit/v=3/part-0.parquet', 'A_Z.0-9=x', '.hidden', 'a/..b/c..'])(
    'accepts %j',
    (key) => {
      expect(validateKey(key)).toBe(key);
    },
  );

  it.each([
    ['', 'is empty'],
    ['../x', 'has a ".." segment'],
    ['a/../../b', 'has a ".." segment'],
    ['a/./b', 'has a "." segment'],
    ['.', 'has a "." segment'],
    ['/etc/passwd', 'is absolute'],
    ['a\\b', 'contains a backslash'],
    ['a\u0000b', 'contains a NUL byte'],
    ['a//b', 'has an empty segment'],
    ['a/', 'has an empty segment'],
    ['a b', 'characters outside [A-Za-z0-9._=-]'],
    ['caf\u00e9', 'characters outside [A-Za-z0-9._=-]'],
    ['a:b', 'characters outside [A-Za-z0-9._=-]'],
    ['x'.repeat(MAX_KEY_LENGTH + 1), `longer than ${MAX_KEY_LENGTH} characters`],
    [`a/${'x'.repeat(MAX_SEGMENT_LENGTH + 1)}`, `segment longer than ${MAX_SEGMENT_LENGTH}`],
  ])('rejects %j because it %s', (key, reason) => {
    const error = problem(() => validateKey(key));
    expect(error.message).toContain(reason);
    expect(error.message).toContain(JSON.stringify(key.slice(0, 80)).slice(0, -1)); // long keys are cut short
    expect(error.details).toEqual([{ path: 'key', message: expect.stringContaining(reason) }]);
  });

  it('rejects non-strings', () => {
    expect(problem(() => validateKey(42)).message).toContain('must be a string');
    expect(problem(() => validateKey(undefined)).message).toContain('must be a string');
  });

  it('accepts a key of exactly the maximum length', () => {
    const key = Array.from({ length: MAX_KEY_LENGTH / 128 }, () => 'k'.repeat(127)).join('/').padEnd(MAX_KEY_LENGTH, 'k');
    expect(key).toHaveLength(MAX_KEY_LENGTH);
    expect(validateKey(key)).toBe(key);
  });

  it('names the field it checked', () => {
    expect(problem(() => validateKey('../x', 'prefix')).details).toEqual([expect.objectContaining({ path: 'prefix' })]);
  });
});

describe('validatePrefix', () => {
  it.each(['', 'sha256/', 'sha256/ab', 'sha', 'a/b/'])('accepts %j', (prefix) => {
    expect(validatePrefix(prefix)).toBe(prefix);
  });

  it.each(['/', '../', '/abs', 'a//', 'a/../b', './', 'a\\', 'a\u0000'])('rejects %j', (prefix) => {
    expect(problem(() => validatePrefix(prefix)).details).toEqual([expect.objectContaining({ path: 'prefix' })]);
  });
});

describe('contentKey', () => {
  it('prefixes a sha256 hex digest', () => {
    const hex = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
    expect(contentKey(hex)).toBe(`sha256/${hex}`);
  });

  it('refuses anything but a lowercase 64-digit hex digest', () => {
    expect(() => contentKey('../etc')).toThrow();
    expect(() => contentKey('E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855')).toThrow();
  });
});
