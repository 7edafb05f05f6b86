import { createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Client } from 'minio';
import { InfrastructureError, NotFoundError, ValidationError } from '@mlp/contracts';
import type { ArtifactListEntry, ArtifactStat } from '../artifact-store';
import { BaseArtifactStore, DEFAULT_CONTENT_TYPE } from '../base-artifact-store';
import { validateKey } from '../keys';
import type { StagedContent } from '../staged-content';

/** minio's default; objects up to this size go up in one PUT, larger ones as multipart. */
export const DEFAULT_PART_SIZE = 64 * 1024 * 1024;
/** The longest a presigned URL may live under SigV4 (7 days). */
export const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

export interface S3ArtifactStoreOptions {
  /** Host name or IP of the S3 endpoint (no scheme). */
  endPoint: string;
  port?: number;
  useSSL?: boolean;
  /** Leave both keys out for anonymous access. */
  accessKey?: string;
  secretKey?: string;
  sessionToken?: string;
  /** Default us-east-1. */
  region?: string;
  bucket: string;
  /** Folder inside the bucket that holds every key (`team/a` stores `sha256/…` as `team/a/sha256/…`). */
  prefix?: string;
  /** Create the bucket on first use when it is missing. Default true. */
  createBucket?: boolean;
  /**
   * minio part size. minio buffers a single-PUT object (size ≤ partSize) in
   * memory while uploading and goes multipart above it, so this bounds the
   * memory per upload. Servers without multipart (s3rver) need it above the
   * largest object. Default 64 MiB, at most 5 GiB.
   */
  partSize?: number;
  /** Where stream bodies are spooled while hashed. Default `<os tmpdir>/mlp-artifacts`. */
  spoolDir?: string;
}

/**
 * Artifacts in an S3 bucket through the minio client: works with MinIO, AWS S3
 * and other S3-compatible servers (path-style addressing). The content type is
 * the object's Content-Type; the sha256 rides along as `x-amz-meta-sha256`.
 */
export class S3ArtifactStore extends BaseArtifactStore {
  readonly bucket: string;
  /** '' or the configured prefix followed by '/'. */
  private readonly objectPrefix: string;
  private readonly client: Client;
  private readonly region: string;
  private readonly createBucket: boolean;
  private readonly spoolPath: string;
  private bucketReady?: Promise<void>;

  constructor(opts: S3ArtifactStoreOptions) {
    super();
    this.bucket = opts.bucket;
    this.objectPrefix = opts.prefix ? `${validateKey(opts.prefix, 'prefix')}/` : '';
    this.region = opts.region ?? 'us-east-1';
    this.createBucket = opts.createBucket ?? true;
    this.spoolPath = opts.spoolDir ?? join(tmpdir(), 'mlp-artifacts');
    this.client = new Client({
      endPoint: opts.endPoint,
      port: opts.port,
      useSSL: opts.useSSL ?? false,
      accessKey: opts.accessKey ?? '',
      secretKey: opts.secretKey ?? '',
      sessionToken: opts.sessionToken,
      region: this.region,
      pathStyle: true,
      partSize: opts.partSize ?? DEFAULT_PART_SIZE,
    });
  }

  async presignGet(key: string, expiresSeconds: number): Promise<string> {
    validateKey(key);
    if (!Number.isInteger(expiresSeconds) || expiresSeconds < 1 || expiresSeconds > MAX_PRESIGN_SECONDS) {
      throw new ValidationError(`invalid expiry ${expiresSeconds}: must be an integer from 1 to ${MAX_PRESIGN_SECONDS} seconds`, [
        { path: 'expiresSeconds', message: `must be an integer from 1 to ${MAX_PRESIGN_SECONDS}` },
      ]);
    }
    return this.guard('presign', key, () => this.client.presignedGetObject(this.bucket, this.objectName(key), expiresSeconds));
  }

  protected async spoolDir(): Promise<string> {
    return this.spoolPath;
  }

  protected async writeObject(key: string, content: StagedContent, contentType: string): Promise<void> {
    await this.ensureBucket();
    // The size is always known here (spooling measured it), so minio never has to guess.
    const body = content.kind === 'memory' ? content.bytes : createReadStream(content.path);
    await this.client.putObject(this.bucket, this.objectName(key), body, content.size, {
      'Content-Type': contentType,
      'x-amz-meta-sha256': content.sha256,
    });
  }

  protected async readObject(key: string): Promise<Readable> {
    await this.ensureBucket();
    try {
      return await this.client.getObject(this.bucket, this.objectName(key));
    } catch (err) {
      throw isNoSuchKey(err) ? notFound(key) : err;
    }
  }

  protected async statObject(key: string): Promise<ArtifactStat> {
    await this.ensureBucket();
    try {
      const info = await this.client.statObject(this.bucket, this.objectName(key));
      const meta = info.metaData as Record<string, unknown>;
      return {
        key,
        size: info.size,
        contentType: typeof meta['content-type'] === 'string' ? meta['content-type'] : DEFAULT_CONTENT_TYPE,
        sha256: typeof meta['sha256'] === 'string' ? meta['sha256'] : undefined,
        lastModified: info.lastModified,
      };
    } catch (err) {
      throw isNoSuchKey(err) ? notFound(key) : err;
    }
  }

  protected async hasObject(key: string): Promise<boolean> {
    try {
      await this.statObject(key);
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  }

  protected async *listObjects(prefix: string): AsyncIterable<ArtifactListEntry> {
    await this.ensureBucket();
    // S3 lists in UTF-8 byte order, which is key order for our ASCII keys.
    const items = this.client.listObjectsV2(this.bucket, this.objectPrefix + prefix, true);
    for await (const item of items as AsyncIterable<{ name?: string; size: number }>) {
      if (item.name !== undefined) yield { key: item.name.slice(this.objectPrefix.length), size: item.size };
    }
  }

  protected async deleteObject(key: string): Promise<void> {
    await this.ensureBucket();
    await this.client.removeObject(this.bucket, this.objectName(key));
  }

  private objectName(key: string): string {
    return this.objectPrefix + key;
  }

  /** Checks (and if allowed creates) the bucket once; a failure is retried on the next call. */
  private ensureBucket(): Promise<void> {
    this.bucketReady ??= (async () => {
      if (await this.client.bucketExists(this.bucket)) return;
      if (!this.createBucket) {
        throw new InfrastructureError(`bucket ${JSON.stringify(this.bucket)} does not exist and createBucket is off`);
      }
      try {
        await this.client.makeBucket(this.bucket, this.region);
      } catch (err) {
        // Another process may have created it in between.
        if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes(errorCode(err) ?? '')) throw err;
      }
    })().catch((err: unknown) => {
      this.bucketReady = undefined;
      throw err;
    });
    return this.bucketReady;
  }
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

function isNoSuchKey(err: unknown): boolean {
  const code = errorCode(err);
  return code === 'NoSuchKey' || code === 'NotFound';
}

function notFound(key: string): NotFoundError {
  return new NotFoundError(`artifact ${JSON.stringify(key)} not found`, { details: { key } });
}
