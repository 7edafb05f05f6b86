import type { Readable } from 'node:stream';

/** Default bound of `getBuffer`: 64 MiB. */
export const MAX_BUFFER_BYTES = 64 * 1024 * 1024;

/** Bytes to store: in memory, or a stream of unknown length (spooled to a temp file while hashing). */
export type ArtifactBody = Buffer | Uint8Array | Readable | NodeJS.ReadableStream;

export interface PutOptions {
  /** Default `application/octet-stream`. Kept from the first write of the bytes. */
  contentType?: string;
  /** Expected byte count: a body of any other length is rejected and nothing is stored. */
  size?: number;
}

export interface PutResult {
  /** `sha256/<hex>`: the address of the bytes. */
  key: string;
  sha256: string;
  size: number;
  /** False when the same bytes were already stored. */
  created: boolean;
}

export interface ArtifactStat {
  key: string;
  size: number;
  contentType: string;
  sha256?: string;
  lastModified: Date;
}

export interface ArtifactListEntry {
  key: string;
  size: number;
}

/**
 * The artifact store port: content-addressed blobs (datasets, feature tables,
 * models, reports). Every adapter passes the same contract suite
 * (contract/artifact-store.contract.ts).
 *
 * Keys are relative `a/b/c` paths (see keys.ts); a malformed key or prefix is a
 * ValidationError, a missing key a NotFoundError, and a backend failure an
 * InfrastructureError wrapping its cause.
 */
export interface ArtifactStore {
  /** Stores the bytes under `sha256/<hex>`; writing the same bytes again stores nothing new. */
  put(body: ArtifactBody, opts?: PutOptions): Promise<PutResult>;
  get(key: string): Promise<Readable>;
  /**
   * Reads the whole object into memory: for small artifacts only (reports,
   * model JSON). Past `maxBytes` (default MAX_BUFFER_BYTES) it stops reading
   * and throws PayloadTooLargeError: datasets, training sets and other large
   * artifacts are streamed with `get` (or `downloadToFile`).
   */
  getBuffer(key: string, options?: { maxBytes?: number }): Promise<Buffer>;
  stat(key: string): Promise<ArtifactStat>;
  exists(key: string): Promise<boolean>;
  /** Objects whose key starts with `prefix` (a plain string prefix, '' for all), sorted by key. */
  list(prefix: string): AsyncIterable<ArtifactListEntry>;
  /** Idempotent: deleting a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** A URL anyone can GET for `expiresSeconds`; only on backends that support it (S3). */
  presignGet?(key: string, expiresSeconds: number): Promise<string>;
}
