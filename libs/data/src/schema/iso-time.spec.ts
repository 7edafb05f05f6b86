import { isIsoDate, isIsoDatetime, isoToEpochMs } from './iso-time';

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
});
