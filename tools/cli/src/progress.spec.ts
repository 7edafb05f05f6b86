import { progressEnabled, renderProgress, renderWaiting, StatusLine, type ProgressStream } from './progress';

describe('renderProgress', () => {
  it('draws the bar, percentage, bytes sent of the total and the rate', () => {
    expect(renderProgress(4_400_000, 10_500_000, 2000)).toBe('uploading [##########..............]  41%  4.4 MB / 10.5 MB  2.2 MB/s');
    expect(renderProgress(10_500_000, 10_500_000, 3500)).toBe('uploading [########################] 100%  10.5 MB / 10.5 MB  3.0 MB/s');
  });

  it('has no rate before time has passed, and never goes past 100%', () => {
    expect(renderProgress(0, 2_000_000, 0)).toBe('uploading [........................]   0%  0 B / 2.0 MB');
    expect(renderProgress(3_000_000, 2_000_000, 1000, 'sending')).toBe('sending [########################] 100%  3.0 MB / 2.0 MB  3.0 MB/s');
  });
});

describe('renderWaiting', () => {
  it('shows the seconds spent validating', () => {
    expect(renderWaiting(3240)).toBe('validating… 3.2s');
  });
});

describe('progressEnabled', () => {
  it('is on for a terminal or MLP_PROGRESS=1, and never with --json or MLP_PROGRESS=0', () => {
    expect(progressEnabled({ isTTY: true, write: () => true }, false, {})).toBe(true);
    expect(progressEnabled({ isTTY: false, write: () => true }, false, {})).toBe(false);
    expect(progressEnabled({ isTTY: false, write: () => true }, false, { MLP_PROGRESS: '1' })).toBe(true);
    expect(progressEnabled({ isTTY: true, write: () => true }, true, { MLP_PROGRESS: '1' })).toBe(false);
    expect(progressEnabled({ isTTY: true, write: () => true }, false, { MLP_PROGRESS: '0' })).toBe(false);
  });
});

describe('StatusLine', () => {
  const stream = (isTTY: boolean) => {
    const writes: string[] = [];
    const s: ProgressStream & { writes: string[] } = { isTTY, writes, write: (t: string) => writes.push(t) };
    return s;
  };

  it('redraws in place on a terminal, at most every 100 ms, and ends the line', () => {
    let t = 0;
    const s = stream(true);
    const line = new StatusLine(s, () => t);
    line.update('a');
    t = 50;
    line.update('b'); // too soon
    t = 150;
    line.update('c');
    line.update('d', true); // forced
    line.done('e');
    expect(s.writes).toEqual(['\ra\x1b[K', '\rc\x1b[K', '\rd\x1b[K', '\re\x1b[K\n']);
  });

  it('clears the line when done without text, and writes nothing if nothing was shown', () => {
    let t = 0;
    const s = stream(true);
    const line = new StatusLine(s, () => t);
    line.done();
    line.update('validating… 0.1s');
    t = 1000;
    line.done();
    expect(s.writes).toEqual(['\rvalidating… 0.1s\x1b[K', '\r\x1b[K']);
  });

  it('prints whole lines at most once a second into a log', () => {
    let t = 0;
    const s = stream(false);
    const line = new StatusLine(s, () => t);
    line.update('a');
    t = 500;
    line.update('b');
    t = 1200;
    line.update('c');
    line.done('c'); // already shown
    line.update('x');
    line.done('final');
    expect(s.writes).toEqual(['a\n', 'c\n', 'x\n', 'final\n']);
  });
});
