/** Prints one figure per line, with its ratio against the bare baseline of the same run. */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number };
  goal?: string;
}

export function printFigures(title: string, figures: Figure[]): void {
  console.log(`\n== ${title} ==`);
  for (const f of figures) {
    const value = `${fmt(f.value)} ${f.unit}`;
    const ratio = f.baseline ? `  ${(f.value / f.baseline.value).toFixed(2)}× ${f.baseline.name} (${fmt(f.baseline.value)} ${f.unit})` : '';
    const goal = f.goal ? `  [goal: ${f.goal}]` : '';
    console.log(`${f.name.padEnd(44)} ${value.padStart(16)}${ratio}${goal}`);
  }
}

function fmt(n: number): string {
  return n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(2);
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ seconds: number; result: T }> {
  const start = process.hrtime.bigint();
  const result = await fn();
  return { seconds: Number(process.hrtime.bigint() - start) / 1e9, result };
}
