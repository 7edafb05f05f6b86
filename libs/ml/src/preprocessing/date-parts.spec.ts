import { ValidationError } from '@mlp/contracts';
import { DateParts } from './date-parts';
import { dateParts, parseDateCell, slashOrderOf } from './dates';
import type { Cell, Frame } from './frame';
import { Pipeline, loadTransformer } from './pipeline';
import { StandardScaler } from './scalers';
import { roundTrip } from './test-helpers';

// Hand-computed references: 2024-01-01 is day 19_723 since 1970-01-01 (54 × 365 + 13 leap days), a Monday.
const DAY = 86_400;
const S_2024_02_29_2130 = (19_723 + 59) * DAY + 21.5 * 3600; // 1_709_242_200
const S_2024_03_02 = (19_723 + 61) * DAY; // 1_709_337_600, a Saturday
const S_2024_02_03 = (19_723 + 33) * DAY; // 1_706_918_400, a Saturday
const S_2023_12_31_1845 = (19_723 - 1) * DAY + 18.75 * 3600; // 1_704_048_300, a Sunday

const cells = (frame: Frame, column: string) => frame[column] as Cell[];

describe('parseDateCell', () => {
  it('reads ISO 8601 with its zone, UTC otherwise', () => {
    expect(S_2024_02_29_2130).toBe(1_709_242_200);
    expect(parseDateCell('2024-02-29T23:30:00+02:00')).toBe(S_2024_02_29_2130 * 1000);
    expect(parseDateCell('2024-02-29 21:30:00Z')).toBe(S_2024_02_29_2130 * 1000);
    expect(parseDateCell('2024-02-29T16:30:00-0500')).toBe(S_2024_02_29_2130 * 1000);
    expect(parseDateCell('2024-02-29T21:30:00.250')).toBe(S_2024_02_29_2130 * 1000 + 250);
    expect(parseDateCell('2024-03-02')).toBe(S_2024_03_02 * 1000);
    expect(parseDateCell(' 2024-03-02 ')).toBe(S_2024_03_02 * 1000);
  });

  it('reads YYYY/MM/DD and DD.MM.YYYY, with a time of day when given', () => {
    expect(parseDateCell('2024/03/02')).toBe(S_2024_03_02 * 1000);
    expect(parseDateCell('2024/3/2')).toBe(S_2024_03_02 * 1000);
    expect(parseDateCell('02.03.2024')).toBe(S_2024_03_02 * 1000);
    expect(parseDateCell('31.12.2023 18:45')).toBe(S_2023_12_31_1845 * 1000);
    expect(parseDateCell('31.12.2023 20:45+02:00')).toBe(S_2023_12_31_1845 * 1000);
  });

  it('reads NN/NN/YYYY only with a day/month order', () => {
    expect(parseDateCell('02/03/2024')).toBeUndefined();
    expect(parseDateCell('02/03/2024', 'dmy')).toBe(S_2024_03_02 * 1000);
    expect(parseDateCell('02/03/2024', 'mdy')).toBe(S_2024_02_03 * 1000);
    expect(parseDateCell('13/01/2024', 'mdy')).toBeUndefined(); // month 13
  });

  it('takes numbers as epoch milliseconds and refuses what is not a date', () => {
    expect(parseDateCell(S_2024_03_02 * 1000)).toBe(S_2024_03_02 * 1000);
    for (const bad of ['2024-02-30', '2023/02/29', '32.01.2024', '2024-03-02T24:00', 'March 2, 2024', '20240302', '', true, null, Number.NaN]) {
      expect(parseDateCell(bad, 'dmy')).toBeUndefined();
    }
  });

  it('decides the slash order per column', () => {
    expect(slashOrderOf(['01/02/2024', '13/02/2024'])).toBe('dmy');
    expect(slashOrderOf(['01/02/2024', '02/13/2024', null])).toBe('mdy');
    expect(slashOrderOf(['01/02/2024', '03/04/2024'])).toBe('ambiguous');
    expect(slashOrderOf(['13/02/2024', '02/13/2024'])).toBe('inconsistent');
    expect(slashOrderOf(['2024-01-02', 5])).toBe('none');
  });
});

describe('dateParts', () => {
  it('takes 2024-02-29T23:30:00+02:00 apart in UTC: 21:30, day 60, a Thursday', () => {
    expect(dateParts(parseDateCell('2024-02-29T23:30:00+02:00')!)).toEqual({
      year: 2024,
      month: 2,
      day: 29,
      dayofweek: 3,
      dayofyear: 60,
      hour: 21,
      minute: 30,
      is_weekend: 0,
      epoch: 1_709_242_200,
    });
  });

  it('handles weekends, leap years and instants before 1970', () => {
    expect(dateParts(S_2023_12_31_1845 * 1000)).toMatchObject({ year: 2023, dayofweek: 6, dayofyear: 365, hour: 18, minute: 45, is_weekend: 1 });
    expect(dateParts(parseDateCell('2000-12-31')!)).toMatchObject({ dayofyear: 366, epoch: (10_957 + 365) * DAY });
    expect(dateParts(parseDateCell('2100-12-31')!)).toMatchObject({ dayofyear: 365 }); // 2100 is not a leap year
    expect(dateParts(-60_000)).toEqual({ year: 1969, month: 12, day: 31, dayofweek: 2, dayofyear: 365, hour: 23, minute: 59, is_weekend: 0, epoch: -60 });
  });
});

describe('DateParts', () => {
  const frame = () => ({
    sold: ['2024-02-29T23:30:00+02:00', '2024/03/02', null, '31.12.2023 18:45'],
    price: [1, 2, 3, 4],
  });

  it('auto keeps the parts that vary in the training rows and fills a missing date with the mean instant', () => {
    const t = new DateParts({ columns: ['sold'] }).fit(frame());
    expect(t.partsByColumn()).toEqual({ sold: ['year', 'month', 'day', 'dayofweek', 'dayofyear', 'hour', 'minute', 'is_weekend', 'epoch'] });
    const out = t.transform(frame());
    expect(Object.keys(out)).toEqual(['sold_year', 'sold_month', 'sold_day', 'sold_dayofweek', 'sold_dayofyear', 'sold_hour', 'sold_minute', 'sold_is_weekend', 'sold_epoch', 'price']);
    expect(cells(out, 'sold_dayofyear')).toEqual([60, 62, expect.any(Number), 365]);
    expect(cells(out, 'sold_is_weekend')).toEqual([0, 1, expect.any(Number), 1]);
    const mean = (S_2024_02_29_2130 + S_2024_03_02 + S_2023_12_31_1845) / 3;
    expect(cells(out, 'sold_epoch')[2]).toBeCloseTo(mean, 3);
  });

  it('drops parts that are constant: no hour or minute for dates without a time, no year within one year', () => {
    const t = new DateParts().fit({ d: ['2024-03-02', '2024-03-04', '2024-05-04'] });
    expect(t.partsByColumn().d).toEqual(['month', 'day', 'dayofweek', 'dayofyear', 'is_weekend', 'epoch']);
    expect(t.transform({ d: ['2024-03-02', '2024-03-04', '2024-05-04'] })).toEqual({
      d_month: [3, 3, 5],
      d_day: [2, 4, 4],
      d_dayofweek: [5, 0, 5],
      d_dayofyear: [62, 64, 125],
      d_is_weekend: [1, 0, 1],
      d_epoch: [S_2024_03_02, S_2024_03_02 + 2 * DAY, S_2024_03_02 + 63 * DAY],
    });
  });

  it('keeps exactly the parts asked for, constant or not', () => {
    const t = new DateParts({ parts: ['hour', 'year'] }).fit({ d: ['2024-03-02', '2024-03-04'] });
    expect(t.transform({ d: [S_2023_12_31_1845 * 1000] })).toEqual({ d_year: [2023], d_hour: [18] });
  });

  it('learns the slash order from the training rows and keeps it for new rows', () => {
    const t = new DateParts({ parts: ['month', 'day'] }).fit({ d: ['13/01/2024', '02/03/2024'] });
    const back = DateParts.fromJSON(roundTrip(t.toJSON()));
    expect(back.transform({ d: ['05/06/2024'] })).toEqual({ d_month: [6], d_day: [5] });
    expect(() => new DateParts().fit({ d: ['01/02/2024', '03/04/2024'] })).toThrow(/cannot be told apart/);
    expect(new DateParts({ parts: ['month'], slashOrder: { d: 'mdy' } }).fit({ d: ['01/02/2024'] }).transform({ d: ['01/02/2024'] })).toEqual({ d_month: [1] });
  });

  it('names the row of text that is not a date', () => {
    const t = new DateParts().fit({ d: ['2024-03-02', '2024-03-04'] });
    expect(() => t.transform({ d: ['2024-03-02', 'soon'] })).toThrow(ValidationError);
    expect(() => t.transform({ d: ['2024-03-02', 'soon'] })).toThrow(/row 1: "soon" is not a date/);
    expect(() => new DateParts().fit({ d: [null, null] })).toThrow(/no dates/);
  });

  it('is saved in the pipeline: fit, serialize, load, and new raw rows give identical numbers', () => {
    const train = {
      sold: ['2024-02-29T23:30:00+02:00', '2024/03/02', null, '31.12.2023 18:45', '2023-06-15'],
      price: [10, 20, 30, 40, 50],
    };
    const p = new Pipeline([
      { name: 'dates', columns: ['sold'], transformer: new DateParts() },
      { name: 'scale', columns: 'numeric', transformer: new StandardScaler() },
    ]);
    p.fit(train);
    const json = JSON.stringify(p.toJSON());
    const served = loadTransformer(JSON.parse(json)) as Pipeline;
    const fresh = {
      sold: ['2024-07-06T12:15:00-04:00', S_2024_03_02 * 1000, null, '2022/01/31 08:00', '01.01.2025'],
      price: [15, 25, 35, 45, 55],
    };
    expect(served.featureNames()).toEqual(p.featureNames());
    expect(served.transform(fresh)).toEqual(p.transform(fresh));
    // The loaded pipeline still takes the dates apart, then scales with the training statistics.
    const parts = (loadTransformer(JSON.parse(json).steps[0].transformer) as DateParts).transform({ sold: fresh.sold });
    expect(cells(parts, 'sold_hour')).toEqual([16, 0, expect.any(Number), 8, 0]); // 12:15 at -04:00 is 16:15 UTC
    expect(cells(parts, 'sold_dayofweek')).toEqual([5, 5, expect.any(Number), 0, 2]);
    expect(p.featureNames()).toContain('sold_epoch');
  });
});
