import type { Readable } from 'node:stream';
import { DomainError, InfrastructureError, PayloadTooLargeError, ValidationError } from '@mlp/contracts';
import {
  MAX_BUFFER_BYTES,
  type ArtifactBody,
  type ArtifactListEntry,
  type ArtifactStat,
  type ArtifactStore,
  type PutOptions,
  type PutResult,
} from './artifact-store';
import { contentKey, validateKey, validatePrefix } from './keys';
import { discardStaged, stageContent, type StagedContent } from './staged-content';

export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';
const CONTENT_TYPE = /^[\x21-\x7e][\x20-\x7e]{0,254}$/;

/**
 * Behaviour shared by every adapter, written once: key validation, hashing and
 * spooling of bodies, the size check, dedupe of identical content, and the
 * wrapping of backend failures in InfrastructureError. Adapters implement the
 * `*Object` primitives and receive only validated keys.
 */
export abstract class BaseArtifactStore implements ArtifactStore {
  /** Directory where stream bodies are spooled while they are hashed. */
  protected abstract spoolDir(): Promise<string>;
  /** Stores staged content under `key`, atomically (readers never see a partial object). */
  protected abstract writeObject(key: string, content: StagedContent, contentType: string): Promise<void>;
  /** The object's bytes; NotFoundError if missing. */
  protected abstract readObject(key: string): Promise<Readable>;
  /** NotFoundError if missing. */
  protected abstract statObject(key: string): Promise<ArtifactStat>;
  protected abstract hasObject(key: string): Promise<boolean>;
  /** Objects whose key starts with `prefix`, sorted by key. */
  protected abstract listObjects(prefix: string): AsyncIterable<ArtifactListEntry>;
  /** Must not fail when the object is missing. */
  protected abstract deleteObject(key: string): Promise<void>;

  async put(body: ArtifactBody, opts: PutOptions = {}): Promise<PutResult> {
    const contentType = checkContentType(opts.contentType);
    return this.guard('put', '', async () => {
      const staged = await stageContent(body, { size: opts.size, spoolDir: await this.spoolDir() });
      try {
        const key = contentKey(staged.sha256);
        // Content addressing: equal keys mean equal bytes, so an existing object is the same one.
        const created = !(await this.hasObject(key));
        if (created) await this.writeObject(key, staged, contentType);
        return { key, sha256: staged.sha256, size: staged.size, created };
      } finally {
        await discardStaged(staged);
      }
    });
  }

  async get(key: string): Promise<Readable> {
    validateKey(key);
    return this.guard('get', key, () => this.readObject(key));
  }

  async getBuffer(key: string, options: { maxBytes?: number } = {}): Promise<Buffer> {
    const maxBytes = options.maxBytes ?? MAX_BUFFER_BYTES;
    const stream = await this.get(key);
    return this.guard('read', key, async () => {
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of stream) {
        const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
        size += bytes.length;
        if (size > maxBytes) {
          stream.destroy();
          throw new PayloadTooLargeError(`artifact ${key} is larger than ${maxBytes} bytes: stream it (get) instead of reading it into memory`, {
            code: 'ARTIFACT_TOO_LARGE_TO_BUFFER',
          });
        }
        chunks.push(bytes);
      }
      return Buffer.concat(chunks);
    });
  }

  async stat(key: string): Promise<ArtifactStat> {
    validateKey(key);
    return this.guard('stat', key, () => this.statObject(key));
  }

  async exists(key: string): Promise<boolean> {
    validateKey(key);
    return this.guard('exists', key, () => this.hasObject(key));
  }

  async *list(prefix: string): AsyncIterable<ArtifactListEntry> {
    validatePrefix(prefix);
    try {
      yield* this.listObjects(prefix);
    } catch (err) {
      throw wrap(err, 'list', prefix);
    }
  }

  async delete(key: string): Promise<void> {
    validateKey(key);
    return this.guard('delete', key, () => this.deleteObject(key));
  }

  /** Runs a backend call, passing domain errors through and wrapping anything else. */
  protected async guard<T>(op: string, key: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw wrap(err, op, key);
    }
  }
}

function wrap(err: unknown, op: string, key: string): DomainError {
  if (err instanceof DomainError) return err;
  const what = key ? `${op} ${JSON.stringify(key)}` : op;
  const reason = err instanceof Error ? err.message : String(err);
  return new InfrastructureError(`artifact store ${what} failed: ${reason}`, { cause: err });
}

function checkContentType(contentType: string | undefined): string {
  if (contentType === undefined) return DEFAULT_CONTENT_TYPE;
  if (typeof contentType !== 'string' || !CONTENT_TYPE.test(contentType)) {
    throw new ValidationError(`invalid content type ${JSON.stringify(contentType)}: must be 1-255 printable ASCII characters`, [
      { path: 'contentType', message: 'must be 1-255 printable ASCII characters' },
    ]);
  }
  return contentType;
}
