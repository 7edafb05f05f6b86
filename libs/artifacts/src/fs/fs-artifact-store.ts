import { randomUUID } from 'node:crypto';
import type { Dirent } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { NotFoundError } from '@mlp/contracts';
import type { ArtifactListEntry, ArtifactStat } from '../artifact-store';
import { BaseArtifactStore, DEFAULT_CONTENT_TYPE } from '../base-artifact-store';
import type { StagedContent } from '../staged-content';

export interface FsArtifactStoreOptions {
  /** Root directory; created on first write. */
  root: string;
}

/** What the sidecar of an object records. */
interface ObjectMeta {
  contentType: string;
  sha256: string;
  size: number;
}

/**
 * Artifacts as files under a root directory, in three separate trees so no
 * key can collide with bookkeeping files:
 * - `objects/<key>`: the bytes;
 * - `meta/<key>.json`: content type, sha256 and size (the sidecar);
 * - `tmp/`: bodies being spooled or written, renamed into place when complete.
 * Temp files live on the same filesystem as the objects, so the rename is atomic.
 */
export class FsArtifactStore extends BaseArtifactStore {
  readonly root: string;
  private readonly objectsDir: string;
  private readonly metaDir: string;
  private readonly tmpDir: string;

  constructor(opts: FsArtifactStoreOptions) {
    super();
    this.root = resolve(opts.root);
    this.objectsDir = join(this.root, 'objects');
    this.metaDir = join(this.root, 'meta');
    this.tmpDir = join(this.root, 'tmp');
  }

  protected async spoolDir(): Promise<string> {
    return this.tmpDir;
  }

  protected async writeObject(key: string, content: StagedContent, contentType: string): Promise<void> {
    const objectPath = this.pathIn(this.objectsDir, key);
    const meta: ObjectMeta = { contentType, sha256: content.sha256, size: content.size };
    await mkdir(this.tmpDir, { recursive: true });
    // Sidecar first: an orphan sidecar is harmless, an object without one would lose its content type.
    await this.writeAtomically(this.pathIn(this.metaDir, key) + '.json', Buffer.from(JSON.stringify(meta)));
    if (content.kind === 'memory') {
      await this.writeAtomically(objectPath, content.bytes);
    } else {
      await syncFile(content.path);
      await mkdir(dirname(objectPath), { recursive: true });
      await rename(content.path, objectPath);
    }
  }

  protected async readObject(key: string): Promise<Readable> {
    const handle = await open(this.pathIn(this.objectsDir, key), 'r').catch((err: unknown) => {
      throw isMissing(err) ? notFound(key) : err;
    });
    try {
      if (!(await handle.stat()).isFile()) throw notFound(key);
    } catch (err) {
      await handle.close();
      throw err;
    }
    return handle.createReadStream();
  }

  protected async statObject(key: string): Promise<ArtifactStat> {
    const info = await stat(this.pathIn(this.objectsDir, key)).catch((err: unknown) => {
      throw isMissing(err) ? notFound(key) : err;
    });
    if (!info.isFile()) throw notFound(key);
    const meta = await this.readMeta(key);
    return {
      key,
      size: info.size,
      contentType: meta?.contentType ?? DEFAULT_CONTENT_TYPE,
      sha256: meta?.sha256,
      lastModified: info.mtime,
    };
  }

  protected async hasObject(key: string): Promise<boolean> {
    try {
      return (await stat(this.pathIn(this.objectsDir, key))).isFile();
    } catch (err) {
      if (isMissing(err)) return false;
      throw err;
    }
  }

  protected async *listObjects(prefix: string): AsyncIterable<ArtifactListEntry> {
    // Walk from the deepest complete folder of the prefix; its last part filters names there.
    const cut = prefix.lastIndexOf('/');
    yield* this.walk(cut === -1 ? '' : prefix.slice(0, cut), prefix.slice(cut + 1));
  }

  protected async deleteObject(key: string): Promise<void> {
    const objectPath = this.pathIn(this.objectsDir, key);
    if (await this.hasObject(key)) await unlink(objectPath).catch(ignoreMissing);
    await unlink(this.pathIn(this.metaDir, key) + '.json').catch(ignoreMissing);
  }

  /** Depth-first walk in key order. */
  private async *walk(dirKey: string, namePrefix: string): AsyncGenerator<ArtifactListEntry> {
    let entries: Dirent[];
    try {
      entries = await readdir(dirKey ? this.pathIn(this.objectsDir, dirKey) : this.objectsDir, { withFileTypes: true });
    } catch (err) {
      if (isMissing(err)) return;
      throw err;
    }
    // A folder sorts as "name/" so that `a-b` (0x2d) comes before everything under `a/` (0x2f), as in S3.
    const items = entries
      .filter((e) => e.name.startsWith(namePrefix) && (e.isFile() || e.isDirectory()))
      .map((e) => ({ name: e.name, isDir: e.isDirectory(), order: e.isDirectory() ? `${e.name}/` : e.name }))
      .sort((a, b) => (a.order < b.order ? -1 : a.order > b.order ? 1 : 0));
    for (const item of items) {
      const key = dirKey ? `${dirKey}/${item.name}` : item.name;
      if (item.isDir) {
        yield* this.walk(key, '');
        continue;
      }
      const info = await stat(this.pathIn(this.objectsDir, key)).catch((err: unknown) => {
        if (isMissing(err)) return undefined; // deleted while listing
        throw err;
      });
      if (info) yield { key, size: info.size };
    }
  }

  private async readMeta(key: string): Promise<ObjectMeta | undefined> {
    try {
      return JSON.parse(await readFile(this.pathIn(this.metaDir, key) + '.json', 'utf8')) as ObjectMeta;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  /** Writes to a temp file, flushes it, then renames it over `path`. */
  private async writeAtomically(path: string, bytes: Buffer): Promise<void> {
    const tmp = join(this.tmpDir, `${randomUUID()}.part`);
    try {
      const handle = await open(tmp, 'wx');
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await mkdir(dirname(path), { recursive: true });
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  /** Maps a validated key into `base`; the containment check is defence in depth. */
  private pathIn(base: string, key: string): string {
    const path = join(base, ...key.split('/'));
    if (!path.startsWith(base + sep)) throw new Error(`key ${JSON.stringify(key)} escapes ${base}`);
    return path;
  }
}

async function syncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function notFound(key: string): NotFoundError {
  return new NotFoundError(`artifact ${JSON.stringify(key)} not found`, { details: { key } });
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

function ignoreMissing(err: unknown): void {
  if (!isMissing(err)) throw err;
}
