import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ValidationError } from '@mlp/contracts';
import type { ArtifactBody } from './artifact-store';

/** A body whose sha256 and size are known, ready for an adapter to store. */
export type StagedContent =
  | { kind: 'memory'; sha256: string; size: number; bytes: Buffer }
  | { kind: 'file'; sha256: string; size: number; path: string };

export interface StageOptions {
  /** Expected byte count; any other length is a ValidationError. */
  size?: number;
  /** Where stream bodies are spooled (the fs adapter uses a dir on its own filesystem so it can rename). */
  spoolDir: string;
}

/**
 * Hashes and measures a body. In-memory bodies stay in memory; streams are
 * spooled to a temp file in `spoolDir` while hashing, so a body of unknown
 * size is never held whole in memory. A stream longer than `size` is cut off
 * as soon as it overruns. The caller must `discardStaged()` the result.
 */
export async function stageContent(body: ArtifactBody, opts: StageOptions): Promise<StagedContent> {
  const expected = checkExpectedSize(opts.size);
  if (body instanceof Uint8Array) {
    const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    if (expected !== undefined && bytes.length !== expected) throw sizeMismatch(expected, bytes.length);
    return { kind: 'memory', bytes, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  }
  if (!isReadableStream(body)) {
    throw new ValidationError('artifact body must be a Buffer, a Uint8Array or a readable stream', [
      { path: 'body', message: 'unsupported type' },
    ]);
  }
  const source = body instanceof Readable ? body : new Readable().wrap(body);
  await mkdir(opts.spoolDir, { recursive: true });
  const path = join(opts.spoolDir, `${randomUUID()}.part`);
  const meter = new HashingMeter(expected);
  try {
    await pipeline(source, meter, createWriteStream(path, { flags: 'wx' }));
    if (expected !== undefined && meter.size !== expected) throw sizeMismatch(expected, meter.size);
  } catch (err) {
    await rm(path, { force: true });
    throw err;
  }
  return { kind: 'file', path, size: meter.size, sha256: meter.digest() };
}

/** Removes a spooled temp file (a no-op for memory bodies or a file an adapter already moved). */
export async function discardStaged(staged: StagedContent): Promise<void> {
  if (staged.kind === 'file') await rm(staged.path, { force: true });
}

/** Passes bytes through, hashing and counting them; fails once more than `limit` bytes arrive. */
class HashingMeter extends Transform {
  size = 0;
  private readonly hash = createHash('sha256');

  constructor(private readonly limit: number | undefined) {
    // Object mode on the writable side so a stream of non-byte chunks reaches _transform and is rejected there.
    super({ writableObjectMode: true });
  }

  override _transform(chunk: unknown, encoding: BufferEncoding, done: TransformCallback): void {
    const bytes =
      typeof chunk === 'string' ? Buffer.from(chunk, Buffer.isEncoding(encoding) ? encoding : 'utf8') : chunk instanceof Uint8Array ? chunk : undefined;
    if (!bytes) {
      done(new ValidationError('artifact body stream must yield bytes', [{ path: 'body', message: 'non-byte chunk' }]));
      return;
    }
    this.size += bytes.byteLength;
    if (this.limit !== undefined && this.size > this.limit) {
      done(sizeMismatch(this.limit, this.size, true));
      return;
    }
    this.hash.update(bytes);
    done(null, bytes);
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}

function checkExpectedSize(size: number | undefined): number | undefined {
  if (size === undefined) return undefined;
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new ValidationError(`invalid artifact size ${size}: must be a non-negative integer`, [
      { path: 'size', message: 'must be a non-negative integer' },
    ]);
  }
  return size;
}

function sizeMismatch(expected: number, actual: number, atLeast = false): ValidationError {
  const got = `${atLeast ? 'at least ' : ''}${actual}`;
  return new ValidationError(`artifact body has ${got} bytes but size says ${expected}; nothing was stored`, [
    { path: 'size', message: `expected ${expected} bytes, got ${got}` },
  ]);
}

function isReadableStream(value: unknown): value is NodeJS.ReadableStream {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as NodeJS.ReadableStream).pipe === 'function' &&
    typeof (value as NodeJS.ReadableStream).on === 'function'
  );
}
