import { ValidationError } from '@mlp/contracts';
import { entityKey } from './entity-key';

describe('entityKey', () => {
  it('joins the percent-encoded values of the join keys in declared order', () => {
    expect(entityKey(['customer_id'], { customer_id: 'c-1' })).toBe('c-1');
    expect(entityKey(['a', 'b'], { b: 'y', a: 'x', ignored: 'z' })).toBe('x|y');
    expect(entityKey(['b', 'a'], { b: 'y', a: 'x' })).toBe('y|x');
  });

  it('escapes the separator, the escape character and everything outside plain ASCII', () => {
    expect(entityKey(['k'], { k: 'a|b' })).toBe('a%7Cb');
    expect(entityKey(['k'], { k: '100%' })).toBe('100%25');
    expect(entityKey(['k'], { k: 'a b/c=d.e' })).toBe('a%20b%2Fc%3Dd.e');
    expect(entityKey(['k'], { k: 'é😀' })).toBe('%C3%A9%F0%9F%98%80');
    expect(entityKey(['k'], { k: '' })).toBe('');
    expect(entityKey(['a', 'b'], { a: '', b: '' })).toBe('|');
  });

  it('never maps two different value tuples to one key', () => {
    const tuples: Record<string, unknown>[] = [
      { a: 'a|b' }, { a: 'a', b: 'b' }, { a: 'a%7Cb' }, { a: '', b: 'a|b' }, { a: 'a|b', b: '' }, { a: '|', b: '' }, { a: '', b: '|' }, { a: '', b: '' },
    ];
    const keys = tuples.map((t) => entityKey(Object.keys(t), t));
    expect(new Set(keys).size).toBe(tuples.length);
  });

  it('identifies a value by its text: 42 and "42" are one entity; floats, booleans, bigints and dates have one form', () => {
    expect(entityKey(['id'], { id: 42 })).toBe('42');
    expect(entityKey(['id'], { id: '42' })).toBe('42');
    expect(entityKey(['id'], { id: 0.1 })).toBe('0.1');
    expect(entityKey(['id'], { id: -0 })).toBe('0');
    expect(entityKey(['id'], { id: 1e21 })).toBe('1e%2B21');
    expect(entityKey(['id'], { id: true })).toBe('true');
    expect(entityKey(['id'], { id: 12345678901234567890n })).toBe('12345678901234567890');
    expect(entityKey(['d'], { d: new Date('2024-01-01T00:00:00Z') })).toBe('2024-01-01T00%3A00%3A00.000Z');
  });

  it('rejects missing, null, non-finite and structured values, bad join key lists and lone surrogates', () => {
    const bad: [string[], Record<string, unknown>][] = [
      [['a'], {}],
      [['a'], { a: null }],
      [['a'], { a: undefined }],
      [['a'], { a: NaN }],
      [['a'], { a: Infinity }],
      [['a'], { a: { x: 1 } }],
      [['a'], { a: [1] }],
      [['a'], { a: new Date('nope') }],
      [['a'], { a: '\uD800' }],
      [[], { a: 1 }],
      [['a', 'a'], { a: 1 }],
      [[''], { '': 1 }],
      [['toString'], {}],
    ];
    for (const [keys, values] of bad) expect(() => entityKey(keys, values)).toThrow(ValidationError);
  });
});
