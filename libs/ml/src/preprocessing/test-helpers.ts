import type { Cell } from './frame';

/** Element-wise toBeCloseTo that also accepts nulls (spec helper). */
export function expectCloseCells(actual: readonly Cell[], expected: readonly (number | null)[], digits = 4): void {
  expect(actual).toHaveLength(expected.length);
  expected.forEach((e, i) => {
    if (e === null) expect(actual[i]).toBeNull();
    else expect(actual[i] as number).toBeCloseTo(e, digits);
  });
}

export function roundTrip<T>(state: T): unknown {
  return JSON.parse(JSON.stringify(state));
}
