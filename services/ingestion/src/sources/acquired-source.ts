import type { InputFormat } from '../engine/read-source';

/** A source made local: one file the engine can read, with its identity. */
export interface AcquiredSource {
  /** Absolute path of the local file. */
  path: string;
  format: InputFormat;
  /** sha256 (hex) of the file's bytes. */
  sha256: string;
  sizeBytes: number;
  /** Human-readable origin, free of credentials (safe for events and logs). */
  description: string;
  /** Incremental sources: the high-water mark reached by this read. */
  watermark?: string | null;
  /** Frees what keeps `path` readable (an open descriptor); called once the job is done with it. */
  release?: () => Promise<void>;
}
