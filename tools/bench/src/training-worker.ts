import { initBackend } from '@mlp/ml';
import { peakRssMb, runTrials, searchWorkload } from './training-shared';

/**
 * One trial worker process: `training-worker.ts <trial,trial,…>`. Prepares
 * the search data as the bench does, runs its trials once untimed (warm-up),
 * then runs them one after another and prints `RESULT {startMs, endMs, cpuSeconds, scores, peakRssMb}`
 * with wall-clock times, so the bench can span several workers.
 */
async function main(): Promise<void> {
  const trials = process.argv[2].split(',').map(Number);
  await initBackend('wasm');
  const workload = searchWorkload();
  // A long-running queue worker is warm: one untimed pass over its trials first.
  await runTrials(workload, trials, 1);
  const cpu = process.cpuUsage();
  const startMs = performance.timeOrigin + performance.now();
  const scores = await runTrials(workload, trials, 1);
  const endMs = performance.timeOrigin + performance.now();
  const used = process.cpuUsage(cpu);
  const cpuSeconds = (used.user + used.system) / 1e6;
  process.stdout.write(`RESULT ${JSON.stringify({ startMs, endMs, cpuSeconds, scores, peakRssMb: peakRssMb() })}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
