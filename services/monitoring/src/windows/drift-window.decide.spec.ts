import { validateEventData } from '@mlp/contracts';
import { decideDriftWindow, evolveDriftWindow, type DriftWindowCommand, type DriftWindowEvent, type DriftWindowState } from './drift-window.decide';
import type { WindowSpec } from './window-spec';

const SHA = 'a'.repeat(64);
const T0 = Date.parse('2026-12-01T00:00:00.000Z');
const open = (spec: WindowSpec, rows: number, seconds = rows): DriftWindowState => ({
  status: 'Open', model: 'churn', version: 3, windowId: '3:count:r1:0', spec, rows, fromMs: T0, toMs: T0 + seconds * 1000,
});
const adopt = (spec: WindowSpec): DriftWindowCommand => ({ type: 'AdoptWindowSpec', spec, policySha256: SHA });
const resized = (from: WindowSpec, to: WindowSpec, rows: number, closes: boolean): DriftWindowEvent => ({
  type: 'DriftWindowResized',
  data: { model: 'churn', version: 3, windowId: '3:count:r1:0', from, to, rows, closes, policySha256: SHA },
});

/** given(an open window or none).when(a policy's window).then(events), and the window after them. */
const given = (state: DriftWindowState) => ({
  when: (command: DriftWindowCommand) => ({
    then: (expected: DriftWindowEvent[]) => {
      const events = decideDriftWindow(command, state);
      expect(events).toEqual(expected);
      for (const e of events) expect(() => validateEventData(e.type, e.data)).not.toThrow();
      return events.reduce(evolveDriftWindow, state);
    },
  }),
});

describe('drift window decider: an open window meets a new policy', () => {
  it('adopts a smaller size and stays open while it holds fewer rows', () => {
    const after = given(open({ size: 1000 }, 9)).when(adopt({ size: 200 })).then([resized({ size: 1000 }, { size: 200 }, 9, false)]);
    expect(after).toMatchObject({ status: 'Open', spec: { size: 200 }, rows: 9 });
  });

  it('closes at once when it already holds the new size or more', () => {
    expect(given(open({ size: 1000 }, 250)).when(adopt({ size: 200 })).then([resized({ size: 1000 }, { size: 200 }, 250, true)])).toEqual({ status: 'Closed' });
    expect(given(open({ size: 1000 }, 200)).when(adopt({ size: 200 })).then([resized({ size: 1000 }, { size: 200 }, 200, true)])).toEqual({ status: 'Closed' });
  });

  it('adopts a larger size without closing', () => {
    const after = given(open({ size: 100 }, 80)).when(adopt({ size: 500 })).then([resized({ size: 100 }, { size: 500 }, 80, false)]);
    expect(after).toMatchObject({ status: 'Open', spec: { size: 500 } });
  });

  it('adopts a duration: closes when its telemetry already spans it, else stays open', () => {
    given(open({ size: 1000 }, 120, 3600)).when(adopt({ durationMs: 1_800_000 })).then([resized({ size: 1000 }, { durationMs: 1_800_000 }, 120, true)]);
    given(open({ size: 1000 }, 120, 600)).when(adopt({ durationMs: 1_800_000 })).then([resized({ size: 1000 }, { durationMs: 1_800_000 }, 120, false)]);
    given(open({ durationMs: 60_000 }, 30, 20)).when(adopt({ size: 30 })).then([resized({ durationMs: 60_000 }, { size: 30 }, 30, true)]);
  });

  it('decides nothing for the extent it already has, nor when no window is open', () => {
    given(open({ size: 200 }, 50)).when(adopt({ size: 200 })).then([]);
    given(open({ durationMs: 60_000 }, 50)).when(adopt({ durationMs: 60_000 })).then([]);
    given({ status: 'Closed' }).when(adopt({ size: 200 })).then([]);
  });
});
