import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envKey, serviceNames } from '@mlp/contracts';
import { freePort, repoRoot } from '@mlp/testing';
import { printFigures } from './report';

const RUNS = 3;

async function untilUp(urls: string[], child: ReturnType<typeof spawn>): Promise<void> {
  const pending = new Set(urls);
  while (pending.size > 0) {
    if (child.exitCode !== null) throw new Error('process exited before it was ready');
    await Promise.all(
      [...pending].map(async (u) => {
        const ok = await fetch(u).then((r) => r.ok, () => false);
        if (ok) pending.delete(u);
      }),
    );
    if (pending.size > 0) await new Promise((r) => setTimeout(r, 10));
  }
}

/** Spawn → every URL answers 2xx, in seconds. */
async function measure(args: string[], env: NodeJS.ProcessEnv, urls: string[]): Promise<number> {
  const start = process.hrtime.bigint();
  const child = spawn(process.execPath, args, { cwd: repoRoot, env: { ...process.env, ...env }, stdio: 'ignore' });
  try {
    await untilUp(urls, child);
    return Number(process.hrtime.bigint() - start) / 1e9;
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** `npm start -- --no-demo` until all six answer /health/ready, against a bare node:http server. */
export async function benchStartup(): Promise<void> {
  const platform: number[] = [];
  const bare: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const home = mkdtempSync(join(tmpdir(), 'mlp-bench-start-'));
    const env: NodeJS.ProcessEnv = { MLP_HOME: home, LOG_LEVEL: 'warn' };
    const urls: string[] = [];
    for (const s of serviceNames) {
      const port = await freePort();
      env[`MLP_${envKey(s)}_PORT`] = String(port);
      env[`MLP_${envKey(s)}_RPC_PORT`] = String(await freePort());
      urls.push(`http://127.0.0.1:${port}/health/ready`);
    }
    platform.push(await measure([join(repoRoot, 'tools/cli/bin/mlp.js'), 'up', '--no-demo'], env, urls));
    rmSync(home, { recursive: true, force: true });

    const port = await freePort();
    bare.push(await measure(['-e', `require('node:http').createServer((q, s) => s.end('ok')).listen(${port})`], {}, [`http://127.0.0.1:${port}/`]));
  }
  printFigures(`start-up (median of ${RUNS}, spawn → ready)`, [
    { name: 'npm start: six services /health/ready', value: median(platform), unit: 's', baseline: { name: 'bare node:http listen', value: median(bare) }, goal: '≤ 5 s' },
  ]);
}
