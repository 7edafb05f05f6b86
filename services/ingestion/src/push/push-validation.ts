import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PushRowReason, PushRowRejection } from '@mlp/contracts';
import type { DatasetSchema } from '@mlp/data';
import { openDuck } from '@mlp/duckdb';
import { processFile } from '../engine/process-file';
import { literal } from '@mlp/duckdb';
import { lineIssue, type PushedLine } from './push-rows';

/**
 * Why each pushed row would be quarantined, before it is stored. With a
 * declared schema the rows run through the ingestion engine itself
 * (processFile on the batch as NDJSON) and the reasons are read back from its
 * quarantine file, so push and ingestion share one set of rules. Without a
 * schema only rows that are not JSON objects are rejected. Duplicate keys are
 * checked within the request; across requests the flush decides.
 */
export async function validatePushedRows(dataset: string, lines: readonly PushedLine[], schema: DatasetSchema | undefined): Promise<PushRowRejection[]> {
  const rejections = new Map<number, PushRowReason[]>();
  /** Position (0-based) in `lines` of each row given to the engine. */
  const engineRows: number[] = [];
  lines.forEach((line, i) => {
    const issue = lineIssue(line, schema === undefined);
    if (issue) rejections.set(i, [issue]);
    else engineRows.push(i);
  });

  if (schema && engineRows.length > 0) {
    const dir = await mkdtemp(join(tmpdir(), 'mlp-push-check-'));
    try {
      const file = join(dir, 'rows.ndjson');
      await writeFile(file, Buffer.concat(engineRows.flatMap((i) => [lines[i], NEWLINE])));
      const result = await processFile({ path: file, format: 'ndjson' }, { dataset, schema, workDir: join(dir, 'work') });
      if (result.quarantineFile) {
        for (const q of await readQuarantine(result.quarantineFile, dir)) {
          const index = engineRows[q.row - 1];
          if (index !== undefined) rejections.set(index, q.reasons);
        }
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return [...rejections.entries()].sort(([a], [b]) => a - b).map(([i, reasons]) => ({ row: i + 1, reasons }));
}

const NEWLINE = Buffer.from('\n');

async function readQuarantine(parquet: string, dir: string): Promise<{ row: number; reasons: PushRowReason[] }[]> {
  const duck = await openDuck(join(dir, 'read'));
  try {
    const rows = await duck.all<{ row: number; reasons: string }>(
      `SELECT CAST("row" AS INTEGER) AS "row", CAST(to_json(reasons) AS VARCHAR) AS reasons FROM read_parquet(${literal(parquet)}) ORDER BY "row"`,
    );
    return rows.map((r) => ({ row: Number(r.row), reasons: JSON.parse(r.reasons) as PushRowReason[] }));
  } finally {
    duck.close();
  }
}
