import { join, relative } from 'node:path';
import type { IngestionOutcome } from '@mlp/contracts';
import type { QualityReport } from '@mlp/data';
import { call } from '../api';
import { ingest } from '../ingestion-client';
import { progressEnabled, StatusLine } from '../progress';
import { formatQualitySummary } from './datasets';
import { outcomeJson } from './ingest';

const examples = join(__dirname, '..', '..', '..', '..', 'examples', 'data');
export const demoData = {
  dataset: 'penguins',
  file: join(examples, 'penguins.csv'),
  schema: join(examples, 'penguins.schema.yaml'),
  nullValues: ['NA'],
  /** Shown in the summary: missing share and mean (or top values). */
  columns: ['bill_length_mm', 'flipper_length_mm', 'body_mass_g', 'sex'],
};

/**
 * Ingests examples/data/penguins.csv with its declared schema through the
 * ingestion service, by the code path of `mlp ingest` (streamed upload, then
 * the job polled), and summarizes the version's quality report. A second
 * `npm start` finds the same bytes and says it is a duplicate.
 */
export async function demoIngestion(json: boolean, env: NodeJS.ProcessEnv = process.env): Promise<{ outcome: IngestionOutcome; report: QualityReport; lines: string[]; json: unknown }> {
  const status = progressEnabled(process.stderr, json, env) ? new StatusLine(process.stderr) : null;
  const outcome = await ingest(
    { dataset: demoData.dataset, source: demoData.file, schemaFile: demoData.schema, csv: { nullValues: demoData.nullValues } },
    { status },
    env,
  );
  if (outcome.status === 'failed') throw new Error(`demo failed: ingesting ${demoData.file}: ${outcome.error ?? 'unknown error'}`);
  const version = outcome.status === 'duplicate' ? outcome.duplicateOf : outcome.version;
  const report = await call<QualityReport>('ingestion', 'GET', `/datasets/${demoData.dataset}/versions/${version}/report`, undefined, env);
  return { outcome, report, lines: demoIngestionLines(outcome, report, relative(process.cwd(), demoData.file) || demoData.file), json: { ...outcomeJson(outcome), reasons: outcome.reasons, failedChecks: outcome.failedChecks } };
}

/** What the demo prints about the ingestion (without the `demo: ` prefix). */
export function demoIngestionLines(outcome: IngestionOutcome, report: QualityReport, file: string): string[] {
  const head =
    outcome.status === 'duplicate'
      ? `${file} is already version ${outcome.duplicateOf} of dataset '${outcome.dataset}' (duplicate: the same bytes, no new version)`
      : `ingested ${file} into dataset '${outcome.dataset}' (streamed upload): version ${outcome.version} ${outcome.status}`;
  const lines = [head, ...formatQualitySummary(report, demoData.columns).map((l) => `  ${l}`)];
  lines.push(`  more: mlp datasets ${outcome.dataset} --version ${outcome.duplicateOf ?? outcome.version}`);
  return lines;
}
