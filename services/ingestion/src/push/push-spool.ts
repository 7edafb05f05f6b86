import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, stat, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { PushedLine } from './push-rows';

const CURRENT = 'current.ndjson';
const BATCH = /^batch-\d{15}-\d{6}\.ndjson$/;
let rotations = 0;

/**
 * One dataset's push spool, `<root>/<dataset>/`: rows are appended to
 * `current.ndjson` and fsynced before the push is answered; a flush renames it
 * to `batch-<ms>-<n>.ndjson` (oldest first by name), which is deleted only
 * once its version is stored. Not safe for concurrent use: callers serialize.
 */
export class DatasetSpool {
  readonly current: string;

  constructor(readonly dir: string) {
    this.current = join(dir, CURRENT);
  }

  /** Appends the rows (one line each) and syncs them to disk. */
  async append(lines: readonly PushedLine[]): Promise<void> {
    if (lines.length === 0) return;
    await mkdir(this.dir, { recursive: true });
    const created = !(await exists(this.current));
    const file = await open(this.current, 'a');
    try {
      await file.writeFile(Buffer.concat(lines.flatMap((l) => [l, NEWLINE])));
      await file.sync();
    } finally {
      await file.close();
    }
    if (created) await syncDir(this.dir);
  }

  /** Moves `current.ndjson` aside as the newest batch; null when it holds nothing. */
  async rotate(): Promise<string | null> {
    if (!(await exists(this.current)) || (await stat(this.current)).size === 0) return null;
    const name = `batch-${String(Date.now()).padStart(15, '0')}-${String(rotations++ % 1_000_000).padStart(6, '0')}.ndjson`;
    const batch = join(this.dir, name);
    await rename(this.current, batch);
    await syncDir(this.dir);
    return batch;
  }

  /** Batches waiting for ingestion, oldest first. */
  async batches(): Promise<string[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    return names.filter((n) => BATCH.test(n)).sort().map((n) => join(this.dir, n));
  }

  async remove(batch: string): Promise<void> {
    await unlink(batch).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
    await syncDir(this.dir);
  }

  /**
   * After a crash: drops a torn last line of `current.ndjson` (a write that was
   * never acknowledged to its client) and returns the rows it holds.
   */
  async repair(): Promise<number> {
    if (!(await exists(this.current))) return 0;
    const { complete, bytes } = await scanLines(this.current);
    if (complete < bytes) await truncate(this.current, complete);
    return countLines(this.current);
  }
}

/** Rows (lines) of a spool file. */
export async function countLines(path: string): Promise<number> {
  return (await scanLines(path)).lines;
}

async function scanLines(path: string): Promise<{ lines: number; complete: number; bytes: number }> {
  let lines = 0;
  let bytes = 0;
  let complete = 0;
  for await (const chunk of createReadStream(path)) {
    const buf = chunk as Buffer;
    for (let i = buf.indexOf(0x0a); i !== -1; i = buf.indexOf(0x0a, i + 1)) {
      lines++;
      complete = bytes + i + 1;
    }
    bytes += buf.length;
  }
  return { lines, complete, bytes };
}

const NEWLINE = Buffer.from('\n');

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Makes a directory's entries (created, renamed, deleted files) durable. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch {
    // Some file systems refuse to fsync a directory; the data itself is synced.
  } finally {
    await handle.close();
  }
}
