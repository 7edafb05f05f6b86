import { initBackend } from '@mlp/ml';
import { peakRssMb, runTrials, searchWorkload } from './training-shared';

/**
 * One trial worker process: `training-worker.ts <trial,trial,…>`. Prepares
 * the search data as the bench does, warms up on one trial, then runs its
 * trials one after another and prints `RESULT {startMs, endMs, cpuSeconds, trials, peakRssMb}`
 * with wall-clock times, so the bench can span several workers.
 */
async function main(): Promise<void> {
  const trials = process.argv[2].split(',').map(Number);
  await initBackend('wasm');
  const workload = searchWorkload();
  await runTrials(workload, [trials[0]], 1);
  const cpu = process.cpuUsage();
  const startMs = performance.timeOrigin + performance.now();
  await runTrials(workload, trials, 1);
  const endMs = performance.timeOrigin + performance.now();
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  process.stdout.write(`RESULT ${JSON.stringify({ startMs, endMs, cpuSeconds, trials: trials.length, peakRssMb: peakRssMb() })}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
