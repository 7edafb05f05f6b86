import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

export const repoRoot = join(__dirname, '..', '..', '..');

export interface SpawnedProcess {
  child: ChildProcess;
  /** The last 20 kB the process printed (for failure messages). */
  output(): string;
  /** Everything it printed so far, up to 16 MB (to search all of it, e.g. for secrets). */
  fullOutput(): string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): Promise<number | string>;
}

/** Runs a TypeScript entry point of the repo in its own Node process. */
export function spawnTs(entry: string, args: string[], env: NodeJS.ProcessEnv): SpawnedProcess {
  const child = spawn(process.execPath, ['-r', join(repoRoot, 'tools/scripts/register.js'), join(repoRoot, entry), ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: string[] = [];
  let size = 0;
  const keep = (c: Buffer) => {
    if (size > 16 * 1024 * 1024) return;
    chunks.push(c.toString());
    size += c.length;
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const fullOutput = () => chunks.join('');
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  return {
    child,
    output: () => fullOutput().slice(-20_000),
    fullOutput,
    exited,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Polls `url` until it answers 2xx; fails with the process output when it does not in time. */
export async function waitForHttp(url: string, options: { timeoutMs?: number; process?: SpawnedProcess } = {}): Promise<void> {
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    const child = options.process?.child;
    if (child && (child.exitCode !== null || child.signalCode !== null)) {
      throw new Error(`process exited before ${url} was up:\n${options.process!.output()}`);
    }
    if (Date.now() > deadline) throw new Error(`${url} not up in time:\n${options.process?.output() ?? ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Polls an async predicate. */
export async function eventually<T>(probe: () => Promise<T | undefined | false>, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export type MlpRun = { status: number | null; stdout: string; stderr: string };

/** The `mlp` CLI as a child process (asynchronously, so a platform in this process keeps answering). */
export function runMlp(args: string[], env: NodeJS.ProcessEnv): Promise<MlpRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'tools/cli/bin/mlp.js'), ...args], { cwd: repoRoot, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Sets `vars` on process.env (settings a service reads from there); the returned function restores what was there. */
export function overrideEnv(vars: Record<string, string>): () => void {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}
