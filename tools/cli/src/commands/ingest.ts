import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { IngestionOutcome } from '@mlp/contracts';
import { UsageError } from '../api';
import { ingest as runIngestion, inferSchema, type CsvOptions, type InputFormat } from '../ingestion-client';
import { printJson } from '../output';
import { progressEnabled, StatusLine } from '../progress';

export const INPUT_FORMATS: readonly InputFormat[] = ['csv', 'tsv', 'ndjson', 'json', 'parquet', 'arrow'];

export const INGEST_USAGE =
  'usage: mlp ingest <file|url> --dataset <name> [--schema schema.yaml] [--format csv|tsv|ndjson|json|parquet|arrow]\n' +
  '                  [--delimiter ,] [--no-header] [--null NA]... [--json] [--infer-schema out.yaml]';

export interface IngestArgs {
  source: string;
  dataset: string;
  schemaFile?: string;
  format?: InputFormat;
  csv: CsvOptions;
  /** Only infer a schema and write it here. */
  inferSchemaTo?: string;
}

/** `mlp ingest` arguments (without --json, which main strips). Wrong ones are a UsageError. */
export function parseIngestArgs(args: string[]): IngestArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        dataset: { type: 'string', short: 'd' },
        schema: { type: 'string' },
        format: { type: 'string' },
        delimiter: { type: 'string' },
        'no-header': { type: 'boolean' },
        null: { type: 'string', multiple: true },
        'infer-schema': { type: 'string' },
      },
    });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${INGEST_USAGE}`);
  }
  const { positionals, values } = parsed;
  if (positionals.length !== 1) throw new UsageError(`give one file or URL to ingest${positionals.length > 1 ? `, got ${positionals.length}` : ''}\n${INGEST_USAGE}`);
  if (!values.dataset) throw new UsageError(`--dataset <name> is required\n${INGEST_USAGE}`);
  if (values.format !== undefined && !(INPUT_FORMATS as readonly string[]).includes(values.format)) {
    throw new UsageError(`unknown --format '${values.format}': use one of ${INPUT_FORMATS.join(', ')}`);
  }
  if (values['infer-schema'] !== undefined && values.schema !== undefined) {
    throw new UsageError('--infer-schema writes a schema and ingests nothing: it cannot be combined with --schema');
  }
  const csv: CsvOptions = {};
  if (values.delimiter !== undefined) csv.delimiter = parseDelimiter(values.delimiter);
  if (values['no-header']) csv.header = false;
  if (values.null && values.null.length > 0) csv.nullValues = values.null;
  return {
    source: positionals[0],
    dataset: values.dataset,
    schemaFile: values.schema,
    format: values.format as InputFormat | undefined,
    csv,
    inferSchemaTo: values['infer-schema'],
  };
}

/** `\t` (typed as two characters), `tab`, or the delimiter itself. */
export function parseDelimiter(value: string): string {
  if (value === '\\t' || value.toLowerCase() === 'tab') return '\t';
  if (value.length === 0 || value.length > 4) throw new UsageError(`--delimiter must be 1 to 4 characters, got '${value}'`);
  return value;
}

/** What `--json` prints: exactly these fields (version = the existing version for a duplicate). */
export function outcomeJson(o: IngestionOutcome) {
  return {
    dataset: o.dataset,
    version: o.status === 'duplicate' ? o.duplicateOf : o.version,
    status: o.status,
    rows: o.rows,
    accepted: o.accepted,
    quarantined: o.quarantined,
    artifact: o.artifact,
    sha256: o.sha256,
    quarantineArtifact: o.quarantineArtifact,
  };
}

/** 0 accepted or duplicate, 1 failed, 3 rejected by the dataset's checks. */
export function exitCodeFor(o: IngestionOutcome): number {
  switch (o.status) {
    case 'accepted':
    case 'duplicate':
      return 0;
    case 'rejected':
      return 3;
    default:
      return 1;
  }
}

/** `missing_required 2, wrong_type 1`: most frequent first. */
export function formatReasons(reasons: Record<string, number>): string {
  return Object.entries(reasons)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([code, n]) => `${code} ${n}`)
    .join(', ');
}

/** The human report of an ingestion. */
export function formatOutcome(o: IngestionOutcome): string[] {
  if (o.status === 'failed') return [`ingestion into '${o.dataset}' failed: ${o.error ?? 'unknown error'}`];
  if (o.status === 'running') return [`ingestion ${o.jobId} into '${o.dataset}' is still running`];
  const version = o.status === 'duplicate' ? o.duplicateOf : o.version;
  const head =
    o.status === 'duplicate'
      ? `dataset ${o.dataset}: duplicate of version ${version} (the same bytes were ingested before; no new version)`
      : o.status === 'rejected'
        ? `dataset ${o.dataset}: version ${version} REJECTED by its quality checks`
        : `dataset ${o.dataset}: version ${version} accepted`;
  const field = (label: string, value: string) => `  ${`${label}:`.padEnd(13)}${value}`;
  const lines = [head, field('rows', String(o.rows)), field('accepted', String(o.accepted))];
  const reasons = formatReasons(o.reasons);
  lines.push(field('quarantined', o.quarantined > 0 && reasons ? `${o.quarantined} (${reasons})` : String(o.quarantined)));
  if (o.failedChecks.length === 0) lines.push(field('checks', 'all passed'));
  else {
    lines.push(field('checks', `${o.failedChecks.length} failed`));
    for (const check of o.failedChecks) lines.push(`    - ${check}`);
  }
  if (o.schemaChanges > 0) lines.push(field('schema', `${o.schemaChanges} change(s) since the previous version`));
  if (o.artifact) lines.push(field('artifact', o.artifact));
  if (o.sha256) lines.push(field('sha256', o.sha256));
  if (o.quarantineArtifact) lines.push(field('quarantine', o.quarantineArtifact));
  if (o.reportArtifact) lines.push(field('report', o.reportArtifact));
  if (version !== null) lines.push(`quality report: mlp datasets ${o.dataset} --version ${version}`);
  return lines;
}

/** The lines printed after `--infer-schema`. */
export function formatInferred(dataset: string, file: string, columns: number, candidateKeys: string[][]): string[] {
  const keys = candidateKeys.length > 0 ? candidateKeys.map((k) => k.join(' + ')).join(', ') : '(none found)';
  return [
    `wrote the inferred schema of '${dataset}' (${columns} columns) to ${file}`,
    `candidate keys: ${keys}`,
    `review it (constraints, primaryKey, checks), then: mlp ingest <file> --dataset ${dataset} --schema ${file}`,
  ];
}

/** `mlp ingest …`: returns the exit code. */
export async function ingest(args: string[], json: boolean): Promise<number> {
  const a = parseIngestArgs(args);
  if (a.inferSchemaTo) {
    const inferred = await inferSchema(a.dataset, a.source, { format: a.format, delimiter: a.csv.delimiter });
    await writeFile(a.inferSchemaTo, inferred.yaml);
    if (json) printJson({ dataset: a.dataset, file: a.inferSchemaTo, candidateKeys: inferred.candidateKeys, schema: inferred.schema });
    else for (const line of formatInferred(a.dataset, a.inferSchemaTo, Object.keys(inferred.schema.columns).length, inferred.candidateKeys)) console.log(line);
    return 0;
  }
  const status = progressEnabled(process.stderr, json) ? new StatusLine(process.stderr) : null;
  const outcome = await runIngestion({ dataset: a.dataset, source: a.source, schemaFile: a.schemaFile, format: a.format, csv: a.csv }, { status });
  if (json) {
    printJson(outcomeJson(outcome));
    if (outcome.status === 'failed') console.error(`error: ${outcome.error ?? 'ingestion failed'}`);
  } else {
    const lines = formatOutcome(outcome);
    if (outcome.status === 'failed') for (const line of lines) console.error(`error: ${line}`);
    else for (const line of lines) console.log(line);
  }
  return exitCodeFor(outcome);
}

