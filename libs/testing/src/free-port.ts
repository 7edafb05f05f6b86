import { createServer } from 'node:net';

/*
 * Ports come from a block of its own per jest worker, below Linux's ephemeral
 * range (32768+): two workers (or the OS handing out a just-closed ephemeral
 * port) can then never give two servers the same port between the check and
 * the listen. Each port is checked free before it is handed out.
 */
const BLOCK = 2_000;
const worker = Number(process.env.JEST_WORKER_ID ?? 0) % 10;
let next = 12_000 + worker * BLOCK + (process.pid % 500);

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '0.0.0.0', () => srv.close(() => resolve(true)));
  });
}

/** A TCP port free on this machine and not handed out before by this process. */
export async function freePort(): Promise<number> {
  const start = 12_000 + worker * BLOCK;
  for (let tries = 0; tries < BLOCK; tries++) {
    const port = next;
    next = next + 1 >= start + BLOCK ? start : next + 1;
    if (await isFree(port)) return port;
  }
  throw new Error('no free port in this worker’s block');
}
