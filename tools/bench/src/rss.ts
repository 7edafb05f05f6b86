import { readFileSync, writeFileSync } from 'node:fs';

/** Memory figures shared by the benches (no heavy imports, so worker processes stay lean). */

/** Peak RSS (VmHWM) of this process since start or the last `resetPeakRss`, in MB. */
export function peakRssMb(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.memoryUsage().rss / 1024 / 1024;
}

/** Resets VmHWM to the current RSS (Linux ≥ 4.0); false where that is not possible. */
export function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

export const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
