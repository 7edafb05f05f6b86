import { z } from 'zod';
import type { IngestionOutcome } from './ingestion.commands';

/**
 * HTTP push (`POST /datasets/:name/rows`) and NATS streaming ingestion
 * (`subjects.data.forDataset(name)` on stream `subjects.data.stream`).
 */

/** A JSON push body: `{"rows": [...]}` or a bare array. Items that are not objects are quarantined, not refused. */
export const pushRowsBodySchema = z.union([
  z.object({ rows: z.array(z.unknown()).min(1, 'push at least one row') }).strict(),
  z.array(z.unknown()).min(1, 'push at least one row'),
]);
export type PushRowsBody = z.infer<typeof pushRowsBodySchema>;

/** Content types read as NDJSON (one JSON object per line). */
export const ndjsonContentTypes = ['application/x-ndjson', 'application/ndjson', 'application/jsonl', 'application/x-jsonlines'] as const;

/** Why one pushed row would be quarantined (same codes as quarantine files). */
export interface PushRowReason {
  code: string;
  column: string | null;
  message: string;
}

export interface PushRowRejection {
  /** 1-based position of the row in the request (NDJSON: among non-blank lines), as `row` in quarantine files. */
  row: number;
  reasons: PushRowReason[];
}

/** The reply to a push: every row is spooled durably, the rejected ones are explained and quarantined at flush. */
export interface PushRowsResult {
  dataset: string;
  accepted: number;
  rejected: number;
  reasons: PushRowRejection[];
  /** Rows spooled for the dataset and not yet in a version (after this request). */
  buffered: number;
  /** The ingestion this request triggered (flush threshold reached), else null. */
  flushed: IngestionOutcome | null;
}

/** URI recorded as the source of pushed versions. */
export const pushSourceUri = 'http-push';

/** URI recorded as the source of versions ingested from a dataset's JetStream subject. */
export const streamSourceUri = (subject: string): string => `nats:${subject}`;

/** Durable pull consumer that ingests one dataset's subject. */
export const streamConsumerName = (dataset: string): string => `ingest-${dataset}`;
