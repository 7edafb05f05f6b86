import { constants } from 'node:fs';
import { mkdir, open, readlink, realpath, stat, type FileHandle } from 'node:fs/promises';
import { delimiter, isAbsolute, relative, resolve, sep } from 'node:path';
import { ForbiddenError, InfrastructureError, NotFoundError, ValidationError } from '@mlp/contracts';
import { SOURCE_NOT_ALLOWED } from '@mlp/service-kit';

/** The code of every refusal of a source outside what the configuration allows (403), files and URLs alike. */
export { SOURCE_NOT_ALLOWED };

/**
 * `MLP_INGEST_ROOTS`: directories separated by the OS path delimiter (`:`,
 * `;` on Windows) or by commas; blanks are ignored.
 */
export function parseRootList(value: string): string[] {
  return value
    .split(new RegExp(`[,${delimiter === ';' ? ';' : ':'}\n]`))
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A file under a root, opened: read it through `path` while the handle is open, then `close()`. */
export interface OpenedFile {
  /**
   * The path to read: `/proc/self/fd/<n>` where procfs exists (the very file
   * that was checked, whatever is renamed or swapped for a symlink later),
   * else the real path.
   */
  path: string;
  /** The file's real path (symlinks and `..` resolved), under a root. */
  realPath: string;
  handle: FileHandle;
  size: number;
  close(): Promise<void>;
}

/**
 * The directories file sources may be read from. Every check resolves real
 * paths (symlinks, `..`), so no link or relative step leaves a root; `open`
 * then checks the opened descriptor itself, so a path swapped between the
 * check and the open is caught too.
 */
export class FileRoots {
  private constructor(
    /** Real paths of the roots. */
    readonly roots: readonly string[],
    /** The roots as configured (absolute): a missing file is told apart lexically. */
    private readonly configured: readonly string[],
  ) {}

  /** Resolves each root to its real path; `create` makes missing ones (the default inbox). */
  static async create(paths: readonly string[], options: { create?: boolean } = {}): Promise<FileRoots> {
    const roots: string[] = [];
    const problems: { path: string; message: string }[] = [];
    for (const path of paths) {
      const absolute = resolve(path);
      try {
        if (options.create) await mkdir(absolute, { recursive: true });
        const real = await realpath(absolute);
        if (!(await stat(real)).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
        roots.push(real);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        problems.push({ path: 'MLP_INGEST_ROOTS', message: `${absolute} ${code === 'ENOENT' ? 'does not exist' : code === 'ENOTDIR' ? 'is not a directory' : `cannot be used (${code ?? (err as Error).message})`}` });
      }
    }
    if (problems.length > 0) {
      throw new ValidationError(`invalid configuration:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`, problems, { code: 'INVALID_CONFIG' });
    }
    return new FileRoots([...new Set(roots)], paths.map((p) => resolve(p)));
  }

  /** Whether a real (resolved) path lies inside a root. */
  contains(real: string): boolean {
    return this.roots.some((root) => inside(root, real));
  }

  /** The absolute path a request names: a relative one is taken from the first root. */
  absolute(path: string): string {
    if (path.includes('\0')) throw new ValidationError('the path contains a NUL byte', [{ path: 'source.path', message: 'contains a NUL byte' }]);
    return this.roots.length > 0 ? resolve(this.roots[0], path) : resolve(path);
  }

  /**
   * The real path of `path` when it is a file inside a root; 403
   * SOURCE_NOT_ALLOWED otherwise (also when it does not exist outside the
   * roots: nothing is told about files there), 404 when missing inside one.
   * Reads nothing and opens nothing.
   */
  async check(path: string): Promise<string> {
    const absolute = this.absolute(path);
    let real: string;
    try {
      real = await realpath(absolute);
    } catch (err) {
      throw this.lookupError(path, absolute, err as NodeJS.ErrnoException);
    }
    if (!this.contains(real)) throw this.notAllowed(path);
    return real;
  }

  /** Checks, opens and checks the opened file again; the caller closes it. */
  async open(path: string): Promise<OpenedFile> {
    const real = await this.check(path);
    let handle: FileHandle;
    try {
      // O_NONBLOCK: a FIFO cannot hang the open; O_NOCTTY: a terminal never becomes ours.
      handle = await open(real, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
    } catch (err) {
      throw this.lookupError(path, real, err as NodeJS.ErrnoException);
    }
    try {
      const info = await handle.stat();
      if (!info.isFile()) {
        throw new ValidationError(`not a regular file: ${path}`, [{ path: 'source.path', message: info.isDirectory() ? 'a directory' : 'not a regular file' }]);
      }
      const viaProc = `/proc/self/fd/${handle.fd}`;
      const opened = await readlink(viaProc).catch(() => undefined);
      if (opened !== undefined) {
        // What the descriptor really is, after any swap between realpath and open.
        if (!this.contains(opened)) throw this.notAllowed(path);
        return { path: viaProc, realPath: opened, handle, size: info.size, close: () => handle.close() };
      }
      // No procfs: the path must still name the same inode as the descriptor.
      const again = await stat(real);
      if (again.ino !== info.ino || again.dev !== info.dev) throw this.notAllowed(path);
      return { path: real, realPath: real, handle, size: info.size, close: () => handle.close() };
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw err;
    }
  }

  notAllowed(path: string): ForbiddenError {
    return new ForbiddenError(
      `file source '${path}' is outside the directories ingestion may read (MLP_INGEST_ROOTS): put it under ${this.roots.join(' or ') || '(no root configured)'}, or upload it (PUT /datasets/{name}/upload)`,
      { code: SOURCE_NOT_ALLOWED, details: { source: 'file', roots: this.roots } },
    );
  }

  private lookupError(path: string, absolute: string, err: NodeJS.ErrnoException): Error {
    // Outside every root, even the reason a lookup failed is not told.
    if (!this.contains(absolute) && !this.configured.some((root) => inside(root, absolute))) return this.notAllowed(path);
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return new NotFoundError(`file not found: ${path}`, { code: 'FILE_NOT_FOUND', details: { path } });
    if (err.code === 'EACCES' || err.code === 'EPERM') {
      return new ValidationError(`cannot read ${path}: permission denied`, [{ path: 'source.path', message: 'permission denied' }]);
    }
    if (err.code === 'ELOOP') return new ValidationError(`cannot read ${path}: too many symbolic links`, [{ path: 'source.path', message: 'a symbolic link loop' }]);
    return new InfrastructureError(`cannot read ${path}: ${err.code ?? err.message}`, { cause: err, code: 'FILE_READ_FAILED' });
  }
}

function inside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}
