import { durationSeconds, formatDuration, parseDuration } from './duration';

describe('durations', () => {
  it.each([
    ['45s', 45],
    ['30m', 1_800],
    ['12h', 43_200],
    ['7d', 604_800],
    ['2w', 1_209_600],
    ['1h30m', 5_400],
    ['1w1d', 691_200],
  ])('%s is %i seconds', (text, seconds) => {
    expect(durationSeconds(text)).toBe(seconds);
  });

  it.each(['', '7', 'd', '7 days', '1.5h', '-1d', '7D', '1y', '1mo'])('rejects %j', (text) => {
    expect(parseDuration(text)).toEqual({ ok: false, message: expect.stringContaining('expected a duration') });
  });

  it('rejects zero and more than 100 years', () => {
    expect(parseDuration('0d')).toEqual({ ok: false, message: 'must be positive, received "0d"' });
    expect(parseDuration('5300w')).toEqual({ ok: false, message: 'must be at most 100 years, received "5300w"' });
    expect(parseDuration('5200w')).toEqual({ ok: true, seconds: 5200 * 604_800 });
  });

  it('formats seconds in the largest exact units', () => {
    expect(formatDuration(604_800)).toBe('1w');
    expect(formatDuration(90_000)).toBe('1d1h');
    expect(formatDuration(2_592_000)).toBe('4w2d');
    expect(formatDuration(61)).toBe('1m1s');
  });
});
