import { type Cell, type Column, type Frame, toCells } from './frame';

/** Element-wise toBeCloseTo that also accepts nulls (spec helper). */
export function expectCloseCells(column: readonly Cell[] | Column, expected: readonly (number | null)[], digits = 4): void {
  const actual = toCells(column as Column);
  expect(actual).toHaveLength(expected.length);
  expected.forEach((e, i) => {
    if (e === null) expect(actual[i]).toBeNull();
    else expect(actual[i] as number).toBeCloseTo(e, digits);
  });
}

export function roundTrip<T>(state: T): unknown {
  return JSON.parse(JSON.stringify(state));
}

/** A frame's columns as plain cells (missing as null), for specs that index rows. */
export function asCells(frame: Frame): Record<string, Cell[]> {
  return Object.fromEntries(Object.entries(frame).map(([c, values]) => [c, toCells(values)]));
}
