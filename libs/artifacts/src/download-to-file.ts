import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ValidationError } from '@mlp/contracts';
import type { ArtifactStore } from './artifact-store';

export interface DownloadedFile {
  path: string;
  sha256: string;
  size: number;
}

/**
 * Streams an artifact into a local file (for DuckDB, which reads a path),
 * hashing it on the way: the bytes are never held in memory whole, whatever
 * their size. With `expectedSha256`, other bytes are a ValidationError (the
 * file is left for the caller's temp directory cleanup).
 */
export async function downloadToFile(store: ArtifactStore, key: string, path: string, options: { expectedSha256?: string } = {}): Promise<DownloadedFile> {
  const hash = createHash('sha256');
  let size = 0;
  const hashing = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  await pipeline(await store.get(key), hashing, createWriteStream(path));
  const sha256 = hash.digest('hex');
  if (options.expectedSha256 && sha256 !== options.expectedSha256) {
    throw new ValidationError(`artifact ${key} has sha256 ${sha256}, but ${options.expectedSha256} was recorded`, [{ path: 'artifactKey', message: 'the bytes changed since they were recorded' }]);
  }
  return { path, sha256, size };
}
