import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
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

/**
 * Rows appended to penguins.csv for the demo's second version: three that the
 * declared schema quarantines (out of range, unknown species, not an integer)
 * and one without an island, accepted because the new schema lets island be null.
 */
export const demoV2Rows = [
  'Adelie,Dream,999,18.0,190,3700,male',
  'Penguin,Biscoe,45.0,15.0,215,5000,female',
  'Gentoo,Biscoe,47.5,15.0,heavy,5200,female',
  'Chinstrap,NA,49.0,18.5,195,3800,female',
];

/** The second version's files under `dir`: penguins.csv plus {@link demoV2Rows}, and the schema with `island` nullable. */
export function writeDemoV2(dir: string): { file: string; schema: string } {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'penguins-v2.csv');
  const schema = join(dir, 'penguins-v2.schema.yaml');
  writeFileSync(file, `${readFileSync(demoData.file, 'utf8').trimEnd()}\n${demoV2Rows.join('\n')}\n`);
  const island = /^ {2}island:.*$/m;
  const declared = readFileSync(demoData.schema, 'utf8');
  if (!island.test(declared)) throw new Error(`demo failed: ${demoData.schema} declares no island column`);
  writeFileSync(schema, declared.replace(island, '  island:            {type: category, values: [Biscoe, Dream, Torgersen], nullable: true}'));
  return { file, schema };
}

interface DatasetVersions {
  versions: { version: number; schemaChanges: { message?: string }[] }[];
}

/**
 * The demo's second penguins version (files written under `dir`): the
 * schema change (island may be null) is recorded with the version, the bad
 * rows are quarantined with their reasons, the rest accepted.
 */
export async function demoIngestionV2(dir: string, json: boolean, env: NodeJS.ProcessEnv = process.env): Promise<{ outcome: IngestionOutcome; lines: string[]; json: unknown }> {
  const { file, schema } = writeDemoV2(dir);
  const status = progressEnabled(process.stderr, json, env) ? new StatusLine(process.stderr) : null;
  const outcome = await ingest({ dataset: demoData.dataset, source: file, schemaFile: schema, csv: { nullValues: demoData.nullValues } }, { status }, env);
  if (outcome.status === 'failed') throw new Error(`demo failed: ingesting ${file}: ${outcome.error ?? 'unknown error'}`);
  const version = (outcome.status === 'duplicate' ? outcome.duplicateOf : outcome.version) as number;
  const report = await call<QualityReport>('ingestion', 'GET', `/datasets/${demoData.dataset}/versions/${version}/report`, undefined, env);
  const detail = await call<DatasetVersions>('ingestion', 'GET', `/datasets/${demoData.dataset}`, undefined, env);
  const changes = detail.versions.find((v) => v.version === version)?.schemaChanges ?? [];
  const head =
    outcome.status === 'duplicate'
      ? `the second version is already version ${version} of dataset '${outcome.dataset}' (duplicate)`
      : `ingested a second version (${demoV2Rows.length} rows appended, island now nullable): version ${version} ${outcome.status}`;
  const lines = [
    head,
    ...formatQualitySummary(report, []).map((l) => `  ${l}`),
    `  schema changes: ${changes.length === 0 ? 'none' : changes.map((c) => c.message).join('; ')}`,
    `  quarantined rows: mlp datasets ${outcome.dataset} --version ${version} --artifact quarantine --output quarantine.ndjson`,
  ];
  return { outcome, lines, json: { ...outcomeJson(outcome), reasons: outcome.reasons, schemaChanges: changes } };
}
