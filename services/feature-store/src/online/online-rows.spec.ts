import { ValidationError } from '@mlp/contracts';
import { canonicalJson, prepareRows, selectFeatures, supersedes, timestampKey } from './online-rows';

describe('timestampKey', () => {
  it('normalises instants to sortable UTC text with nanosecond digits', () => {
    expect(timestampKey('2024-01-01T00:00:00Z')).toBe('2024-01-01T00:00:00.000000000Z');
    expect(timestampKey('2024-01-01T01:30:00+02:00')).toBe('2023-12-31T23:30:00.000000000Z');
    expect(timestampKey('2024-01-01T01:30:00+0200')).toBe('2023-12-31T23:30:00.000000000Z');
    expect(timestampKey('2024-01-01T01:30:00-05')).toBe('2024-01-01T06:30:00.000000000Z');
    expect(timestampKey('2024-01-01T00:00:00.123456789123Z')).toBe('2024-01-01T00:00:00.123456789Z');
    expect(timestampKey('2024-01-01 12:34')).toBe('2024-01-01T12:34:00.000000000Z');
    expect(timestampKey('2024-01-01')).toBe('2024-01-01T00:00:00.000000000Z');
    expect(timestampKey('0050-06-01T00:00:00Z')).toBe('0050-06-01T00:00:00.000000000Z');
  });

  it('orders as the instants do', () => {
    const inOrder = ['1999-12-31T23:59:59.999999999Z', '2024-01-01T01:00:00+02:00', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00.0000001Z', '2023-12-31T19:00:01-05:00'];
    const keys = inOrder.map((t) => timestampKey(t)!);
    expect([...keys].sort()).toEqual(keys);
  });

  it('rejects what is not an ISO instant', () => {
    for (const bad of ['', 'yesterday', '2024-13-01', '2024-02-30', '2024-01-01T24:00:00Z', '2024-01-01T00:60:00Z', '2024-01-01T00:00:00+25:00', '1704067200000', 'Mon, 01 Jan 2024 00:00:00 GMT', '0000-01-01T00:00:00+01:00']) {
      expect(timestampKey(bad)).toBeNull();
    }
  });
});

describe('canonicalJson', () => {
  it('sorts feature names so equal values give equal text', () => {
    expect(canonicalJson({ b: 1, a: 'x', c: null })).toBe(canonicalJson({ c: null, a: 'x', b: 1 }));
    expect(canonicalJson({ b: 1, a: 'x' })).toBe('{"a":"x","b":1}');
  });

  it('keeps a feature named __proto__ as data', () => {
    const values = JSON.parse('{"__proto__": 1, "a": 2}');
    expect(JSON.parse(canonicalJson(values))).toEqual(values);
  });
});

describe('supersedes', () => {
  const row = (tsKey: string, valuesJson = '{}', materializationId = 'm') => ({ tsKey, valuesJson, materializationId });
  it('replaces when newer or different at the same instant, never when older or identical', () => {
    expect(supersedes(row('2'), undefined)).toBe(true);
    expect(supersedes(row('2'), row('1'))).toBe(true);
    expect(supersedes(row('1'), row('2'))).toBe(false);
    expect(supersedes(row('1'), row('1'))).toBe(false);
    expect(supersedes(row('1', '{"a":1}'), row('1'))).toBe(true);
    expect(supersedes(row('1', '{}', 'n'), row('1'))).toBe(true);
  });
});

describe('prepareRows', () => {
  it('names every bad row in one ValidationError', () => {
    const err = (() => {
      try {
        prepareRows([
          { entityKey: 'a', eventTimestamp: 'nope', values: {}, materializationId: 'm' },
          { entityKey: 'b', eventTimestamp: '2024-01-01', values: { x: NaN }, materializationId: 'm' },
          { entityKey: 5 as unknown as string, eventTimestamp: '2024-01-01', values: {}, materializationId: 'm' },
        ]);
      } catch (e) {
        return e as ValidationError;
      }
    })();
    expect(err).toBeInstanceOf(ValidationError);
    expect(err!.details.map((d) => d.path)).toEqual(['rows[0].eventTimestamp', 'rows[1].values.x', 'rows[2].entityKey']);
  });
});

describe('selectFeatures', () => {
  it('keeps the listed features the row has, all of them for null', () => {
    expect(selectFeatures({ a: 1, b: 2 }, ['b', 'z'])).toEqual({ b: 2 });
    expect(selectFeatures({ a: 1, b: 2 }, null)).toEqual({ a: 1, b: 2 });
    expect(selectFeatures({ a: 1 }, ['toString', 'constructor'])).toEqual({});
  });
});
