import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '@mlp/testing';

/**
 * `npm run bench -- drift`: runs tools/bench/src/drift-worker.ts in its own process,
 * so its peak RSS holds the drift code, the columns and the report, not the modules
 * of the other benches (with --expose-gc, so each timed run starts without the
 * previous run's garbage). The worker prints the figures.
 */
export async function benchDrift(): Promise<void> {
  execFileSync(process.execPath, ['--expose-gc', '-r', join(repoRoot, 'tools/scripts/register.js'), join(repoRoot, 'tools/bench/src/drift-worker.ts')], {
    stdio: 'inherit',
    env: process.env,
  });
}
