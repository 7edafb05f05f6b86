import { createHash, type Hash } from 'node:crypto';
import { open, rm, type FileHandle } from 'node:fs/promises';

/** Bytes kept from the start of a source for format detection. */
export const HEAD_BYTES = 64 * 1024;

export interface DigestResult {
  sha256: string;
  sizeBytes: number;
  /** The first HEAD_BYTES bytes (fewer for a shorter input). */
  head: Uint8Array;
}

/** sha256, size and head of bytes seen once, chunk by chunk. */
export class ContentDigest {
  private readonly hash: Hash = createHash('sha256');
  private size = 0;
  private readonly headChunks: Buffer[] = [];
  private headSize = 0;

  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.size += chunk.byteLength;
    if (this.headSize < HEAD_BYTES) {
      const take = Buffer.from(chunk.buffer, chunk.byteOffset, Math.min(chunk.byteLength, HEAD_BYTES - this.headSize));
      this.headChunks.push(Buffer.from(take)); // a copy: callers may reuse their buffers
      this.headSize += take.byteLength;
    }
  }

  get sizeBytes(): number {
    return this.size;
  }

  result(): DigestResult {
    return { sha256: this.hash.digest('hex'), sizeBytes: this.size, head: Buffer.concat(this.headChunks) };
  }
}

/**
 * Writes a new file (fails if it exists) while digesting what it writes, so a
 * source is read exactly once. `discard()` closes and deletes it.
 */
export class HashingFileWriter {
  private readonly digest = new ContentDigest();
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
  ) {}

  static async create(path: string): Promise<HashingFileWriter> {
    return new HashingFileWriter(path, await open(path, 'wx'));
  }

  get sizeBytes(): number {
    return this.digest.sizeBytes;
  }

  async write(data: Uint8Array | string): Promise<void> {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    if (bytes.byteLength === 0) return;
    this.digest.update(bytes);
    // write(2) may write less than asked: loop until every byte is down.
    for (let offset = 0; offset < bytes.byteLength; ) {
      const { bytesWritten } = await this.handle.write(bytes, offset, bytes.byteLength - offset);
      offset += bytesWritten;
    }
  }

  /** Flushes and closes the file; the digest of everything written. */
  async finish(): Promise<DigestResult> {
    this.closed = true;
    await this.handle.close();
    return this.digest.result();
  }

  /** Closes (if open) and deletes the file; never throws. */
  async discard(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      await this.handle.close().catch(() => undefined);
    }
    await rm(this.path, { force: true }).catch(() => undefined);
  }
}
