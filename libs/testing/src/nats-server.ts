import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { freePort } from './free-port';

/** Credentials the server demands (`--auth <token>`, or `--user`/`--pass`). */
export type NatsServerAuth = { token: string } | { user: string; pass: string };

export interface NatsServerHandle {
  url: string;
  port: number;
  storeDir: string;
  /** What clients must present, when the server was started with auth. */
  auth?: NatsServerAuth;
  /** The running server process (a new one after each restart). */
  process: ChildProcess;
  stop(): Promise<void>;
  /**
   * Stops the server (SIGTERM, or `signal`), runs `whileDown` (checks made
   * during the outage), then starts it again on the same port and store dir
   * (JetStream data kept) and waits until it accepts connections.
   */
  restart(options?: { signal?: NodeJS.Signals; whileDown?: () => Promise<void> }): Promise<void>;
}

/**
 * Starts a real `nats-server -js` on a free port with a fresh store dir and
 * waits until it accepts connections. Every test suite gets its own.
 */
export async function startNatsServer(options: { binary?: string; args?: string[]; auth?: NatsServerAuth } = {}): Promise<NatsServerHandle> {
  const auth = options.auth;
  const authArgs = !auth ? [] : 'token' in auth ? ['--auth', auth.token] : ['--user', auth.user, '--pass', auth.pass];
  const port = await freePort();
  const storeDir = mkdtempSync(join(tmpdir(), 'mlp-nats-'));
  const url = `nats://127.0.0.1:${port}`;
  const launch = async (): Promise<ChildProcess> => {
    const child = spawn(options.binary ?? process.env.NATS_SERVER_BIN ?? 'nats-server', [
      '-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir, ...authArgs, ...(options.args ?? []),
    ], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) => reject(new Error(`nats-server exited (${code}): ${stderr.slice(-500)}`))),
    );
    exited.catch(() => undefined);

    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        const nc = await Promise.race([connect({ servers: url, reconnect: false, ...auth }), exited]);
        await nc.close();
        return child;
      } catch (err) {
        if (child.exitCode !== null || Date.now() > deadline) {
          child.kill('SIGKILL');
          throw new Error(`nats-server did not start on ${url}: ${(err as Error).message}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  const halt = async (child: ChildProcess, signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const done = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    await done;
  };
  let child = await launch();

  return {
    url,
    port,
    storeDir,
    auth,
    get process() {
      return child;
    },
    async stop() {
      await halt(child, 'SIGTERM');
      rmSync(storeDir, { recursive: true, force: true });
    },
    async restart({ signal = 'SIGTERM', whileDown } = {}) {
      await halt(child, signal);
      try {
        await whileDown?.();
      } finally {
        child = await launch();
      }
    },
  };
}
