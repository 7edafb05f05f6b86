import { join, relative } from 'node:path';
import type { IngestionOutcome, OnlineFeaturesResponse } from '@mlp/contracts';
import { call } from '../api';
import { ingest } from '../ingestion-client';
import { progressEnabled, StatusLine } from '../progress';
import { outcomeJson } from './ingest';
import { applyFile, formatApplied, formatOnline, getOnline, materialize, type AppliedView, type FeatureViewDetail, type Materialization } from './features';

const examples = join(__dirname, '..', '..', '..', '..', 'examples', 'features');
export const demoFeatureData = {
  dataset: 'transactions',
  file: join(examples, 'transactions.csv'),
  schema: join(examples, 'transactions.schema.yaml'),
  views: join(examples, 'featureviews.yaml'),
  view: 'customer_spend',
  /** Looked up online after the materialization. */
  customers: ['C001', 'C002', 'C003'],
  features: ['txn_count_30d', 'amount_mean_30d', 'amount_max_30d', 'amount_sum_7d'],
};

/** How the materialization the demo shows came about. */
export type MaterializationSource = 'existing' | 'automatic' | 'requested';

export interface DemoFeaturesResult {
  outcome: IngestionOutcome;
  datasetVersion: number;
  applied: AppliedView[];
  materialization: Materialization;
  source: MaterializationSource;
  lookups: OnlineFeaturesResponse;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The newest materialization of the view's latest version that covers `datasetVersion` (or a later one). */
export function coveringMaterialization(detail: FeatureViewDetail, datasetVersion: number): Materialization | undefined {
  const latest = detail.versions[detail.versions.length - 1]?.version;
  return [...detail.materializations].reverse().find((m) => m.version === latest && m.datasetVersion >= datasetVersion);
}

/**
 * Waits for the view's materialization of `datasetVersion`. The feature
 * store materializes automatically when a followed dataset gets a new
 * version, so a new dataset version of a view that already existed gets one
 * without asking (polled here, for up to `waitMs`). A view defined (or
 * changed) after that version was ingested is never materialized
 * automatically: then it is requested, with the dataset version pinned so
 * that it joins an automatic run already under way instead of racing it.
 */
export async function awaitMaterialization(
  view: string,
  datasetVersion: number,
  how: { viewJustDefined: boolean; datasetIsNew: boolean },
  env: NodeJS.ProcessEnv = process.env,
  waitMs = 10_000,
): Promise<{ materialization: Materialization; source: MaterializationSource }> {
  const read = () => call<FeatureViewDetail>('feature-store', 'GET', `/feature-views/${encodeURIComponent(view)}`, undefined, env);
  const existing = coveringMaterialization(await read(), datasetVersion);
  if (existing) return { materialization: existing, source: how.viewJustDefined || how.datasetIsNew ? 'automatic' : 'existing' };
  if (how.datasetIsNew && !how.viewJustDefined) {
    const t0 = Date.now();
    while (Date.now() - t0 < waitMs) {
      await sleep(200);
      const found = coveringMaterialization(await read(), datasetVersion);
      if (found) return { materialization: found, source: 'automatic' };
    }
  }
  const reply = await materialize(view, datasetVersion, env);
  return { materialization: reply.materialization, source: reply.created ? 'requested' : 'existing' };
}

/**
 * The feature store part of the `npm start` demo: ingests the synthetic card
 * transactions with their declared schema, applies the feature views, waits
 * for the materialization, and looks three customers up online. A second run
 * finds a duplicate dataset version, unchanged views and the existing
 * materialization, and still shows the lookups.
 */
export async function demoFeatures(json: boolean, env: NodeJS.ProcessEnv = process.env): Promise<{ result: DemoFeaturesResult; lines: string[]; json: unknown }> {
  const status = progressEnabled(process.stderr, json, env) ? new StatusLine(process.stderr) : null;
  const outcome = await ingest({ dataset: demoFeatureData.dataset, source: demoFeatureData.file, schemaFile: demoFeatureData.schema }, { status }, env);
  if (outcome.status !== 'accepted' && outcome.status !== 'duplicate') {
    throw new Error(`demo failed: ingesting ${demoFeatureData.file}: ${outcome.status}${outcome.error ? `: ${outcome.error}` : ''}`);
  }
  const datasetVersion = (outcome.status === 'duplicate' ? outcome.duplicateOf : outcome.version) as number;
  const applied = await applyFile(demoFeatureData.views, false, env);
  const justDefined = applied.find((a) => a.name === demoFeatureData.view)?.changed ?? false;
  const { materialization, source } = await awaitMaterialization(demoFeatureData.view, datasetVersion, { viewJustDefined: justDefined, datasetIsNew: outcome.status === 'accepted' }, env);
  const lookups = await getOnline(demoFeatureData.view, { customer_id: demoFeatureData.customers }, demoFeatureData.features, env);
  const result: DemoFeaturesResult = { outcome, datasetVersion, applied, materialization, source, lookups };
  return {
    result,
    lines: demoFeaturesLines(result, relative(process.cwd(), demoFeatureData.file) || demoFeatureData.file, relative(process.cwd(), demoFeatureData.views) || demoFeatureData.views),
    json: { ingestion: outcomeJson(outcome), applied, materialization, materializationSource: source, lookups },
  };
}

const sourceText: Record<MaterializationSource, string> = {
  existing: 'already materialized: no new materialization',
  automatic: 'materialized automatically on the new dataset version',
  requested: 'requested now: the view was defined after this dataset version, and only new dataset versions are materialized automatically',
};

/** What the demo prints about the feature store (without the `demo: ` prefix). */
export function demoFeaturesLines(r: DemoFeaturesResult, dataFile: string, viewsFile: string): string[] {
  const o = r.outcome;
  const m = r.materialization;
  const ingestion =
    o.status === 'duplicate'
      ? `${dataFile} is already version ${o.duplicateOf} of dataset '${o.dataset}' (duplicate: the same bytes, no new version)`
      : `ingested ${dataFile} into dataset '${o.dataset}' (declared schema): version ${o.version} ${o.status}, ${o.accepted} of ${o.rows} rows accepted`;
  const customers = demoFeatureData.customers.map((c) => `--entity customer_id=${c}`).join(' ');
  const features = demoFeatureData.features.map((f) => `--feature ${f}`).join(' ');
  return [
    ingestion,
    `applied ${viewsFile}: ${formatApplied(r.applied).join('; ')}`,
    `${m.name} v${m.version} from ${m.dataset} v${m.datasetVersion}: ${m.rows} rows offline, ${m.onlineRows} online, watermark ${m.watermark ?? '-'} (${sourceText[r.source]})`,
    `  offline table ${r.materialization.offlineArtifactKey}, dataset versions ${r.materialization.datasetVersions.join(', ')}`,
    `online lookups (mlp features get ${r.materialization.name} ${customers} ${features}):`,
    ...formatOnline(r.materialization.name, r.lookups).map((l) => `  ${l}`),
    `more: mlp features describe ${r.materialization.name}, mlp features check-skew ${r.materialization.name}`,
  ];
}
