import { missedFiring, nextFiring } from './retraining-schedule';

describe('retraining schedule times', () => {
  const weekly = '0 3 * * 0'; // Sundays 03:00

  it('nothing is missed when the last firing is the latest due time', () => {
    expect(missedFiring(weekly, undefined, '2026-03-08T03:00:00.000Z', new Date('2026-03-10T12:00:00.000Z'))).toBeUndefined();
  });

  it('after three missed weeks, only the latest due time is caught up', () => {
    expect(missedFiring(weekly, undefined, '2026-02-15T03:00:00.000Z', new Date('2026-03-10T12:00:00.000Z'))).toBe('2026-03-08T03:00:00.000Z');
  });

  it('a time due exactly now counts as due; a policy applied after the last due time has nothing to catch up', () => {
    expect(missedFiring(weekly, undefined, '2026-03-01T03:00:00.000Z', new Date('2026-03-08T03:00:00.000Z'))).toBe('2026-03-08T03:00:00.000Z');
    expect(missedFiring(weekly, undefined, '2026-03-09T10:00:00.000Z', new Date('2026-03-10T12:00:00.000Z'))).toBeUndefined();
  });

  it('honours the time zone', () => {
    // 03:00 in New York (EST, UTC-5) on Sunday 2026-03-01.
    expect(missedFiring(weekly, 'America/New_York', '2026-02-28T00:00:00.000Z', new Date('2026-03-02T00:00:00.000Z'))).toBe('2026-03-01T08:00:00.000Z');
    expect(nextFiring(weekly, undefined, new Date('2026-03-08T03:00:00.000Z'))).toBe('2026-03-15T03:00:00.000Z');
  });
});
