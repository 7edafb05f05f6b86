import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'nats';
import { freePort } from './free-port';

export interface NatsClusterHandle {
  /** Every server's client URL, comma-separated (what NATS_URL takes). */
  url: string;
  urls: string[];
  stop(): Promise<void>;
}

/**
 * A real JetStream cluster of `size` (3) `nats-server` processes on free
 * ports, routed to each other, each with its own store dir; resolves once the
 * cluster has a JetStream meta leader (so R3 streams can be created).
 */
export async function startNatsCluster(options: { size?: number; binary?: string } = {}): Promise<NatsClusterHandle> {
  const size = options.size ?? 3;
  const dir = mkdtempSync(join(tmpdir(), 'mlp-nats-cluster-'));
  const clientPorts: number[] = [];
  const routePorts: number[] = [];
  for (let i = 0; i < size; i++) {
    clientPorts.push(await freePort());
    routePorts.push(await freePort());
  }
  const routes = routePorts.map((p) => `nats://127.0.0.1:${p}`).join(', ');
  const children: ChildProcess[] = [];
  let stderr = '';
  const stop = async () => {
    await Promise.all(
      children.map(async (child) => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        const done = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await done;
      }),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < size; i++) {
    const conf = join(dir, `n${i}.conf`);
    writeFileSync(
      conf,
      [
        `server_name: n${i}`,
        `listen: 127.0.0.1:${clientPorts[i]}`,
        `jetstream { store_dir: "${join(dir, `store-${i}`)}" }`,
        `cluster { name: mlp-test, listen: 127.0.0.1:${routePorts[i]}, routes: [${routes}] }`,
      ].join('\n'),
    );
    const child = spawn(options.binary ?? process.env.NATS_SERVER_BIN ?? 'nats-server', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
    children.push(child);
  }
  const urls = clientPorts.map((p) => `nats://127.0.0.1:${p}`);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const exited = children.find((c) => c.exitCode !== null);
    if (exited) {
      await stop();
      throw new Error(`a nats-server of the cluster exited (${exited.exitCode}): ${stderr.slice(-500)}`);
    }
    try {
      const nc = await connect({ servers: urls, reconnect: false });
      try {
        // JetStream answers account info only once the cluster has elected its meta leader.
        await (await nc.jetstreamManager({ timeout: 2_000 })).getAccountInfo();
        return { url: urls.join(','), urls, stop };
      } finally {
        await nc.close();
      }
    } catch (err) {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`the nats-server cluster did not form in time: ${(err as Error).message}\n${stderr.slice(-500)}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
