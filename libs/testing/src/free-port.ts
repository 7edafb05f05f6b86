import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/*
 * A port handed out is claimed machine-wide with a file `<tmp>/mlp-test-ports/<port>`
 * created exclusively (O_EXCL) and holding the claimer's pid. A claim lasts as long
 * as its process: jest reloads this module for every test file, but the files stay,
 * so a later suite in the same worker never gets a port an earlier suite used (whose
 * clients may still hold keep-alive sockets to it), and two workers or two test runs
 * on the machine never get the same port between the check and the listen. A claim
 * whose process is gone is taken over. Ports come from below Linux's ephemeral range
 * (32768+), so the OS does not hand them to outgoing connections.
 */
const DIR = join(tmpdir(), 'mlp-test-ports');
const FIRST = 12_000;
const LAST = 31_999;

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '0.0.0.0', () => srv.close(() => resolve(true)));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Claims `port` for this process; false when a live process (this one included) holds it. */
function claim(port: number): boolean {
  const file = join(DIR, String(port));
  try {
    writeFileSync(file, String(process.pid), { flag: 'wx' });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  let owner = NaN;
  try {
    owner = Number(readFileSync(file, 'utf8'));
  } catch {
    // removed meanwhile: try once more below
  }
  if (Number.isInteger(owner) && owner > 0 && alive(owner)) return false;
  rmSync(file, { force: true });
  try {
    writeFileSync(file, String(process.pid), { flag: 'wx' });
    return true;
  } catch {
    return false;
  }
}

/** A TCP port free on this machine, never handed out before to this process or to another one still running. */
export async function freePort(): Promise<number> {
  mkdirSync(DIR, { recursive: true });
  const span = LAST - FIRST + 1;
  // Processes start at different places, so that they seldom race for the same files.
  const start = FIRST + ((process.pid * 7919) % span);
  for (let i = 0; i < span; i++) {
    const port = FIRST + ((start - FIRST + i) % span);
    if (!claim(port)) continue;
    if (await isFree(port)) return port;
  }
  throw new Error(`no free port in ${FIRST}-${LAST}`);
}
