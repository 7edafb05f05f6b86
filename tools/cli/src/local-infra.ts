import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { connect } from 'nats';

/** A nats-server `mlp up --distributed` started itself. */
export interface LocalNats {
  url: string;
  /** The token every client must present (generated; never on a command line). */
  token: string;
  pid: number;
  process: ChildProcess;
  /** SIGTERM, wait for the exit, remove the store dir. */
  stop(): Promise<void>;
}

/** An s3rver `mlp up --distributed` runs in its own process (the CLI's). */
export interface LocalS3 {
  endpoint: string;
  accessKey: string;
  secretKey: string;
  bucket: string;
  dir: string;
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `nats-server -js` on loopback, on a port the server picks (`-p -1`, read
 * back from its ports file: no race with other processes for a port), its
 * JetStream store in a temp dir under `home` that stop() removes. A token,
 * written to a config file only the user can read, guards it. Detached (its
 * own process group), so a Ctrl-C in the terminal reaches the CLI alone and
 * the broker outlives the services while they close.
 */
export async function startLocalNats(home: string, binary = process.env.NATS_SERVER_BIN || 'nats-server'): Promise<LocalNats> {
  const dir = mkdtempSync(join(home, 'nats-'));
  const token = randomBytes(24).toString('hex');
  const conf = join(dir, 'nats.conf');
  writeFileSync(conf, `authorization {\n  token: "${token}"\n}\n`, { mode: 0o600 });
  const child = spawn(binary, ['-c', conf, '-a', '127.0.0.1', '-p', '-1', '-js', '-sd', join(dir, 'store'), '--ports_file_dir', dir], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const failed = new Promise<Error>((resolve) => {
    child.once('error', (err) => resolve(new Error(`cannot run ${binary} (the nats-server binary; set NATS_SERVER_BIN, or NATS_URL to use a running server): ${err.message}`)));
    child.once('exit', (code, signal) => resolve(new Error(`nats-server exited (${code ?? signal}): ${stderr.slice(-500)}`)));
  });
  let failure: Error | undefined;
  void failed.then((err) => (failure = err));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, sleep(10_000).then(() => child.kill('SIGKILL'))]);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const url = await waitForNats(dir, token, () => failure);
    return { url, token, pid: child.pid!, process: child, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The client URL from the server's ports file, once a client can connect with `token`. */
async function waitForNats(dir: string, token: string, failure: () => Error | undefined): Promise<string> {
  const deadline = Date.now() + 20_000;
  let last: unknown;
  for (;;) {
    const err = failure();
    if (err) throw err;
    const file = readdirSync(dir).find((f) => f.endsWith('.ports'));
    if (file) {
      try {
        const url = (JSON.parse(readFileSync(join(dir, file), 'utf8')) as { nats: string[] }).nats[0];
        const nc = await connect({ servers: url, token, reconnect: false });
        await nc.close();
        return url;
      } catch (e) {
        last = e; // written but not complete yet, or not accepting yet
      }
    }
    if (Date.now() > deadline) throw new Error(`nats-server did not accept connections within 20 s${last ? `: ${(last as Error).message}` : ''}`);
    await sleep(50);
  }
}

/** The part of s3rver's (untyped, CommonJS) API used here. */
type S3rverConstructor = new (options: { address: string; port: number; directory: string; silent: boolean; configureBuckets: { name: string }[] }) => {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
};

/** s3rver accepts only this one, hard-wired key pair. */
const S3RVER_KEY = 'S3RVER';

/**
 * s3rver on loopback (a port the OS picks), its objects in a temp dir under
 * `home` that stop() removes, with `bucket` created. undefined when s3rver is
 * not installed: it is a devDependency, absent from a production install.
 */
export async function startLocalS3(home: string, bucket: string): Promise<LocalS3 | undefined> {
  let S3rver: S3rverConstructor;
  try {
    // s3rver ships no typings and is CommonJS.
    S3rver = require('s3rver') as S3rverConstructor;
  } catch {
    return undefined;
  }
  const dir = mkdtempSync(join(home, 's3-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory: dir, silent: true, configureBuckets: [{ name: bucket }] });
  const removeDir = () => rmSync(dir, { recursive: true, force: true });
  const { port } = await server.run().catch((err: unknown) => {
    removeDir();
    throw err;
  });
  // Closed once, however often stop() is called; the objects go with it.
  let closing: Promise<void> | undefined;
  const stop = () => (closing ??= server.close().finally(removeDir));
  return { endpoint: `http://127.0.0.1:${port}`, accessKey: S3RVER_KEY, secretKey: S3RVER_KEY, bucket, dir, stop };
}
