import { formatBytes, formatNumber, formatPercent, formatTable, truncate } from './output';

describe('formatTable', () => {
  it('pads columns to their widest cell, right-aligns the numeric ones and trims line ends', () => {
    const rows = [
      { name: 'penguins', versions: 2, status: 'accepted' },
      { name: 'credit', versions: 12, status: null },
    ];
    expect(formatTable(rows, ['name', 'versions', 'status'], { right: ['versions'] })).toEqual([
      'NAME      VERSIONS  STATUS',
      'penguins         2  accepted',
      'credit          12',
    ]);
  });

  it('takes header overrides and says (none) without rows', () => {
    expect(formatTable([{ top: 'a 1' }], ['top'], { headers: { top: 'TOP VALUES' } })).toEqual(['TOP VALUES', 'a 1']);
    expect(formatTable([], ['name'])).toEqual(['(none)']);
  });
});

describe('number formats', () => {
  it('formats numbers for people', () => {
    expect([formatNumber(201), formatNumber(43.99279), formatNumber(4207.057), formatNumber(0.000123456), formatNumber('2020-01-01'), formatNumber(undefined)]).toEqual([
      '201',
      '43.99',
      '4207.1',
      '0.0001235',
      '2020-01-01',
      '',
    ]);
  });

  it('formats fractions as percentages', () => {
    expect([formatPercent(0), formatPercent(0.0058), formatPercent(0.032), formatPercent(1)]).toEqual(['0%', '0.6%', '3.2%', '100.0%']);
  });

  it('formats byte counts in decimal units', () => {
    expect([formatBytes(0), formatBytes(999), formatBytes(1500), formatBytes(19_197_665), formatBytes(2_100_000_000)]).toEqual(['0 B', '999 B', '1.5 kB', '19.2 MB', '2.10 GB']);
  });

  it('truncates with an ellipsis', () => {
    expect([truncate('short', 10), truncate('a rather long value', 10)]).toEqual(['short', 'a rather …']);
  });
});
