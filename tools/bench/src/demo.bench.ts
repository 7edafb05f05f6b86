import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envKey, serviceNames } from '@mlp/contracts';
import { distributedPids, freePort, spawnTs } from '@mlp/testing';
import { printFigures, type Figure } from './report';

/** A summary row of the demo: `3. train   <result>   7.6 s`. */
const SUMMARY_ROW = /^(\d+)\. (.+?) {2,}.+? {2,}([\d.]+) s$/;

/** CPU seconds (user + system) a process used so far, from /proc (Linux; clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * `npm start` and `mlp up --distributed`, one after the other, each on a
 * fresh MLP_HOME and free ports: the demo's time per stage as its summary
 * table prints it, the wall time from spawn to "Ctrl-C stops the platform."
 * and the CPU seconds used (the budget is 3 minutes on 2 cores; CPU time is
 * the figure that does not depend on what else the machine runs). In
 * distributed mode the CPU time sums the CLI (which runs s3rver and the
 * demo), the six service processes and nats-server.
 */
export async function benchDemo(): Promise<void> {
  await benchDemoMode('embedded');
  await benchDemoMode('distributed');
}

async function benchDemoMode(mode: 'embedded' | 'distributed'): Promise<void> {
  const home = mkdtempSync(join(tmpdir(), 'mlp-bench-demo-'));
  const env: NodeJS.ProcessEnv = {
    MLP_HOME: home, LOG_LEVEL: 'warn', EVENTSTORE_URL: '', ARTIFACTS_URL: '', MLP_TRANSPORT: '', MLP_SERVING_GRPC_PORT: String(await freePort()),
    NATS_URL: '', S3_ENDPOINT: '', MLP_ADMIN_KEY: '', MLP_API_KEY: '',
  };
  for (const s of serviceNames) {
    env[`MLP_${envKey(s)}_PORT`] = String(await freePort());
    env[`MLP_${envKey(s)}_RPC_PORT`] = String(await freePort());
  }
  const start = process.hrtime.bigint();
  const platform = spawnTs('tools/cli/src/main.ts', mode === 'distributed' ? ['up', '--distributed'] : ['up'], env);
  let stdout = '';
  platform.child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()));
  try {
    const done = await new Promise<boolean>((resolve) => {
      const timer = setInterval(() => {
        if (stdout.includes('Ctrl-C stops the platform.')) {
          clearInterval(timer);
          resolve(true);
        }
      }, 100);
      void platform.exited.then(() => {
        clearInterval(timer);
        resolve(false);
      });
    });
    if (!done) throw new Error(`the ${mode} demo failed:\n${platform.output()}`);
    const wall = Number(process.hrtime.bigint() - start) / 1e9;
    const pids = [platform.child.pid!, ...(mode === 'distributed' ? distributedPids(stdout) : [])];
    const cpu = pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
    const stages: Figure[] = stdout
      .split('\n')
      .map((l) => SUMMARY_ROW.exec(l.trimEnd()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ name: `${m[1]}. ${m[2].trim()}`, value: Number(m[3]), unit: 's' }));
    const title = mode === 'embedded' ? 'npm start demo, embedded' : 'mlp up --distributed demo (six processes, nats-server, s3rver)';
    printFigures(`${title} (one fresh run; stage times from its summary)`, [
      ...stages,
      { name: 'demo stages, total', value: stages.reduce((a, s) => a + s.value, 0), unit: 's' },
      { name: 'spawn → demo done (start-up included)', value: wall, unit: 's', goal: '≤ 180 s on 2 cores' },
      { name: `CPU time, user + system (${pids.length} process${pids.length > 1 ? 'es' : ''})`, value: cpu, unit: 's' },
    ]);
  } finally {
    // Ctrl-C: the distributed CLI stops its services and nats-server; SIGKILL if it has not exited 30 s later.
    platform.child.kill('SIGINT');
    await Promise.race([platform.exited, new Promise((r) => setTimeout(r, 30_000))]);
    await platform.kill('SIGKILL');
    rmSync(home, { recursive: true, force: true });
  }
}
