import { isIsoDate, isIsoDatetime, isoToEpochMs, parseIsoInstant } from './iso-time';

describe('iso-time', () => {
  it('reads dates and datetimes as UTC epoch milliseconds', () => {
    expect(isoToEpochMs('1970-01-02')).toBe(86_400_000);
    expect(isoToEpochMs('1970-01-01T00:00:01.5')).toBe(1500);
    expect(isoToEpochMs('1970-01-01 01:00Z')).toBe(3_600_000);
    expect(isoToEpochMs('1970-01-01T01:00:00+01:00')).toBe(0);
    expect(isoToEpochMs('1970-01-01T00:00:00-0130')).toBe(5_400_000);
    expect(isoToEpochMs('2024-02-29T12:00:00.123456Z')).toBe(Date.UTC(2024, 1, 29, 12, 0, 0, 123));
  });

  it('rejects impossible calendar dates and times', () => {
    expect(isoToEpochMs('2023-02-29')).toBeUndefined();
    expect(isoToEpochMs('2024-13-01')).toBeUndefined();
    expect(isoToEpochMs('2024-04-31')).toBeUndefined();
    expect(isoToEpochMs('2024-01-01T24:00')).toBeUndefined();
    expect(isoToEpochMs('2024-01-01T10:60')).toBeUndefined();
    expect(isoToEpochMs('01/02/2024')).toBeUndefined();
    expect(isoToEpochMs('2024-1-1')).toBeUndefined();
  });

  it('tells dates from datetimes', () => {
    expect(isIsoDate('2000-02-29')).toBe(true);
    expect(isIsoDate('1900-02-29')).toBe(false);
    expect(isIsoDate('2024-01-01T00:00')).toBe(false);
    expect(isIsoDatetime('2024-01-01T00:00')).toBe(true);
    expect(isIsoDatetime('2024-01-01')).toBe(true);
    expect(isIsoDatetime('yesterday')).toBe(false);
  });

  it('is the one reader: comma fractions, lower-case t/z, a space before the zone, nanosecond digits', () => {
    // 2024-02-29T23:30:00+02:00 is 21:30 UTC: 1_709_242_200 s since the epoch (19_782 days × 86_400 + 21.5 h).
    expect(parseIsoInstant('2024-02-29T23:30:00+02:00')).toEqual({ epochMs: 1_709_242_200_000, nanos: '000000000', hasTime: true, offsetMinutes: 120 });
    expect(parseIsoInstant('2024-02-29t21:30:00,123456789123z')).toEqual({ epochMs: 1_709_242_200_123, nanos: '123456789', hasTime: true, offsetMinutes: 0 });
    expect(parseIsoInstant('2024-02-29 16:30 -0500')?.epochMs).toBe(1_709_242_200_000);
    expect(parseIsoInstant('2024-02-29')).toEqual({ epochMs: 1_709_164_800_000, nanos: '000000000', hasTime: false, offsetMinutes: null });
    expect(parseIsoInstant('0050-06-01T00:00:00Z')?.epochMs).toBe(new Date('0050-06-01T00:00:00Z').getTime());
  });

  it('takes a zone only after a time of day, and no trailing text', () => {
    for (const bad of ['2024-03-01Z', '2024-03-01 ', '2024-03-01T12:00 ', '2024-03-01T12:00:00+25:00', '2024-03-01T12:00:00+02:60', '2024-03-01T12', ' 2024-03-01']) {
      expect(parseIsoInstant(bad)).toBeUndefined();
    }
  });
});
