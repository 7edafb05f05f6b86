import { z } from 'zod';
import { defineEvent } from '../event-definition';
import { artifactKey, name, sha256Hex } from './common';

const jobId = z.string().regex(/^[A-Za-z0-9_-]{1,100}$/, 'expected a job id');
const count = z.number().int().nonnegative();
/** Output (and rejects) file format. */
export const batchOutputFormat = z.enum(['parquet', 'csv']);
/** Input file format (a dataset version is Parquet). */
export const batchInputFormat = z.enum(['parquet', 'csv']);

/** A stored file of the job: its content-addressed key, hash and size. */
const storedFile = z.object({ artifactKey, sha256: sha256Hex, bytes: count, rows: count });

/**
 * Batch inference jobs (stream `batch-<jobId>`). The job is fixed by its
 * Started event (the resolved model version, the input's hash, the chunk
 * size), so a restarted instance resumes it with the same inputs and
 * chunking. Each chunk's output and rejects are stored as part files before
 * the Progressed checkpoint that names them; Completed names the assembled
 * files. Lineage: `input.sha256` → `model.name:version` → `output.sha256`.
 */
export const batchEvents = {
  BatchInferenceStarted: defineEvent(
    'BatchInferenceStarted',
    1,
    z.object({
      jobId,
      model: z.object({
        name,
        version: z.number().int().positive(),
        /** The alias the request named (`production`), resolved to `version` when the job started. */
        alias: z.string().min(1).nullable().default(null),
        weightsSha256: sha256Hex.nullable().default(null),
      }),
      input: z.object({
        /** `upload` (a file sent to serving) or `dataset` (an ingested version). */
        kind: z.enum(['upload', 'dataset']),
        artifactKey,
        sha256: sha256Hex,
        format: batchInputFormat,
        /** Input rows (counted when the job started). */
        rows: count,
        dataset: z.object({ name, version: z.number().int().positive() }).optional(),
        /** Input columns that are not model inputs: copied to the output beside the predictions. */
        passthrough: z.array(z.string()).default([]),
      }),
      output: z.object({ format: batchOutputFormat }),
      chunkRows: z.number().int().positive(),
      chunks: count,
      instance: z.string().min(1),
    }),
  ),
  /** A checkpoint: chunk `chunk` (0-based) is durably stored as the named part files. */
  BatchInferenceProgressed: defineEvent(
    'BatchInferenceProgressed',
    1,
    z.object({
      jobId,
      chunk: count,
      rows: count,
      predicted: count,
      rejected: count,
      part: storedFile,
      rejects: storedFile.nullable().default(null),
      instance: z.string().min(1),
    }),
  ),
  BatchInferenceCompleted: defineEvent(
    'BatchInferenceCompleted',
    1,
    z.object({
      jobId,
      model: z.object({ name, version: z.number().int().positive() }),
      inputSha256: sha256Hex,
      rows: count,
      predicted: count,
      rejected: count,
      output: storedFile.extend({ format: batchOutputFormat }),
      rejects: storedFile.extend({ format: batchOutputFormat }).nullable().default(null),
      /** The chunk the last run of the job started at: 0 unless it resumed after its process stopped. */
      resumedFromChunk: count.default(0),
    }),
  ),
  BatchInferenceFailed: defineEvent(
    'BatchInferenceFailed',
    1,
    z.object({
      jobId,
      /** Error code and message; never a stack. */
      code: z.string().min(1),
      reason: z.string().min(1).max(4000),
      /** Chunks stored before the failure. */
      chunksDone: count,
    }),
  ),
} as const;
