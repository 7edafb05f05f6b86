import { z } from 'zod';
import { name } from '../events/common';
import { batchOutputFormat } from '../events/batch.events';

/** `name`, `name@alias` or `name:version` (as /v1/models/{m}:predict takes it). */
export const batchModelRef = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*(@[A-Za-z][A-Za-z0-9_-]*|:[1-9][0-9]*)?$/, 'expected model, model@alias or model:version');

/** `POST /batch/jobs` (and the NATS command): what to predict on, and the output format. */
export const startBatchInferenceSchema = z
  .object({
    model: batchModelRef,
    input: z.union([
      z.object({ upload: z.string().regex(/^sha256\/[0-9a-f]{64}$/, 'expected the key POST /batch/inputs returned') }).strict(),
      z.object({ dataset: name, version: z.number().int().positive().optional() }).strict(),
    ]),
    format: batchOutputFormat.default('parquet'),
    /** Rows per chunk: the unit of prediction, part files and checkpoints. */
    chunkRows: z.number().int().min(1).max(1_000_000).default(10_000),
  })
  .strict();
export type StartBatchInferenceDto = z.infer<typeof startBatchInferenceSchema>;
export type StartBatchInferenceInput = z.input<typeof startBatchInferenceSchema>;

/** A batch job as `GET /batch/jobs/{id}` shows it, folded from its events. */
export interface BatchJobView {
  jobId: string;
  status: 'running' | 'completed' | 'failed';
  model: { name: string; version: number; alias: string | null };
  input: { kind: 'upload' | 'dataset'; sha256: string; rows: number; format: string; dataset?: { name: string; version: number } };
  chunks: number;
  chunksDone: number;
  rowsDone: number;
  predicted: number;
  rejected: number;
  output?: { artifactKey: string; sha256: string; bytes: number; rows: number; format: string };
  rejects?: { artifactKey: string; sha256: string; bytes: number; rows: number; format: string } | null;
  error?: { code: string; reason: string };
  startedAt: string;
  updatedAt: string;
}
