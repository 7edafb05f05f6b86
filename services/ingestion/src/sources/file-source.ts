import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { InfrastructureError, NotFoundError, ValidationError } from '@mlp/contracts';
import { detectFormat } from '@mlp/data';
import type { InputFormat } from '../engine/read-source';
import type { AcquiredSource } from './acquired-source';
import { ContentDigest } from './content-digest';
import type { FileRoots } from './file-roots';
import { checkFormat } from './source-format';

export type { AcquiredSource } from './acquired-source';

export interface FileSourceOptions {
  /** Skips detection from the name and first bytes. */
  format?: InputFormat;
}

/**
 * A local file as a source, read in place: one streaming pass gives its
 * sha256, size and head; the format comes from `opts.format` or is detected
 * from the name, then the first bytes.
 */
export async function localFileSource(path: string, opts: FileSourceOptions = {}): Promise<AcquiredSource> {
  const absolute = resolve(path);
  const format = opts.format === undefined ? undefined : checkFormat(opts.format);
  const info = await stat(absolute).catch((err: NodeJS.ErrnoException) => {
    throw fileError(absolute, err);
  });
  if (!info.isFile()) {
    throw new ValidationError(`not a regular file: ${absolute}`, [{ path: 'source.path', message: info.isDirectory() ? 'a directory' : 'not a regular file' }]);
  }
  const digest = new ContentDigest();
  try {
    for await (const chunk of createReadStream(absolute)) digest.update(chunk as Buffer);
  } catch (err) {
    throw fileError(absolute, err as NodeJS.ErrnoException);
  }
  const { sha256, sizeBytes, head } = digest.result();
  return {
    path: absolute,
    format: format ?? detectFormat(basename(absolute), head),
    sha256,
    sizeBytes,
    description: `file ${absolute}`,
  };
}

/**
 * A file source from a request: only a file inside `roots` (real paths, so no
 * symlink or `..` leaves them), else 403 SOURCE_NOT_ALLOWED. The file stays
 * open until `release()`, and the engine reads it through that descriptor
 * (`/proc/self/fd/<n>`): what is read is what was checked.
 */
export async function rootedFileSource(roots: FileRoots, path: string, opts: FileSourceOptions = {}): Promise<AcquiredSource> {
  const format = opts.format === undefined ? undefined : checkFormat(opts.format);
  const opened = await roots.open(path);
  try {
    const digest = new ContentDigest();
    try {
      for await (const chunk of opened.handle.createReadStream({ start: 0, autoClose: false })) digest.update(chunk as Buffer);
    } catch (err) {
      throw fileError(path, err as NodeJS.ErrnoException);
    }
    const { sha256, sizeBytes, head } = digest.result();
    return {
      path: opened.path,
      // Named by the path asked for: a link `data.csv` to a blob still says csv.
      format: format ?? detectFormat(basename(roots.absolute(path)), head),
      sha256,
      sizeBytes,
      description: `file ${opened.realPath}`,
      release: () => opened.close(),
    };
  } catch (err) {
    await opened.close().catch(() => undefined);
    throw err;
  }
}

function fileError(path: string, err: NodeJS.ErrnoException): Error {
  if (err.code === 'ENOENT' || err.code === 'ENOTDIR') return new NotFoundError(`file not found: ${path}`, { details: { path } });
  if (err.code === 'EACCES' || err.code === 'EPERM') {
    return new ValidationError(`cannot read ${path}: permission denied`, [{ path: 'source.path', message: 'permission denied' }]);
  }
  if (err.code === 'EISDIR') return new ValidationError(`not a regular file: ${path}`, [{ path: 'source.path', message: 'a directory' }]);
  return new InfrastructureError(`cannot read ${path}: ${err.message}`, { cause: err, code: 'FILE_READ_FAILED' });
}
