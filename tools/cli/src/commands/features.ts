import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { ValidationError, type IngestionOutcome, type OnlineFeaturesResponse, type SkewReport, type TrainingSetResult } from '@mlp/contracts';
import { formatDuration, parseFeatureViewsYaml, type FeatureSpec } from '@mlp/ml';
import { call, callText, CliError, UsageError } from '../api';
import { ingest as runIngestion } from '../ingestion-client';
import { download, downloadStatus } from '../download';
import { parquetToCsv } from '../parquet-to-csv';
import { formatNumber, formatTable, printJson } from '../output';
import { progressEnabled, renderWaiting, StatusLine } from '../progress';
import { exitCodeFor, formatOutcome } from './ingest';

export const FEATURES_USAGE = `usage: mlp features <command> [--json]
  apply <featureviews.yaml> [--force]          define or update feature views (--force overrides the breaking-change guard)
  list                                         feature views with their latest materialization
  describe <view>                              a view's features, versions and materializations
  materialize <view> [--dataset-version N]     materialize now (latest accepted dataset version by default)
  get <view> --entity key=value [--entity key=value]... [--feature f]...
                                               online values with their event time and status
  check-skew <view> [--sample N]               compare online values with the offline table; exit 3 on skew
  training-set --entities <dataset[:version]|file.parquet|file.csv> --timestamp <column>
               --features <view[:feature],...> --output <file.parquet|file.csv>
                                               a point-in-time training set, written to --output`;

/** A local entities file: one of these extensions (the ingestion service reads them all). */
const ENTITY_FILE_EXTENSIONS = ['.parquet', '.csv', '.tsv', '.ndjson', '.json', '.arrow'];
const DATASET_REF = /^([A-Za-z0-9][A-Za-z0-9_-]*)(?::(\d+))?$/;

export type EntitiesSource = { kind: 'dataset'; dataset: string; version?: number } | { kind: 'file'; path: string; dataset: string };

export type FeaturesArgs =
  | { command: 'apply'; file: string; force: boolean }
  | { command: 'list' }
  | { command: 'describe'; view: string }
  | { command: 'materialize'; view: string; datasetVersion?: number }
  | { command: 'get'; view: string; entities: Record<string, string[]>; features: string[] }
  | { command: 'check-skew'; view: string; sample?: number }
  | { command: 'training-set'; entities: EntitiesSource; timestamp: string; features: string[]; output: string; format: 'parquet' | 'csv' };

type Options = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

type Parsed = { positionals: string[]; values: Record<string, string | boolean | string[] | boolean[] | undefined> };

function parse(args: string[], options: Options): Parsed {
  try {
    return parseArgs({ args, allowPositionals: true, strict: true, options }) as Parsed;
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${FEATURES_USAGE}`);
  }
}

function onePositional(positionals: string[], what: string, command: string): string {
  if (positionals.length !== 1) {
    throw new UsageError(`mlp features ${command} takes one ${what}${positionals.length > 1 ? `, got ${positionals.length}` : ''}\n${FEATURES_USAGE}`);
  }
  return positionals[0];
}

function positiveInteger(value: string, flag: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer, got '${value}'`);
  return n;
}

/** `mlp features …` arguments (without --json, which main strips). Wrong ones are a UsageError. */
export function parseFeaturesArgs(args: string[]): FeaturesArgs {
  const [command, ...rest] = args;
  switch (command) {
    case 'apply': {
      const { positionals, values } = parse(rest, { force: { type: 'boolean' } });
      return { command, file: onePositional(positionals, 'feature views YAML file', command), force: values.force === true };
    }
    case 'list': {
      const { positionals } = parse(rest, {});
      if (positionals.length > 0) throw new UsageError(`mlp features list takes no arguments; for one view: mlp features describe <view>`);
      return { command };
    }
    case 'describe': {
      const { positionals } = parse(rest, {});
      return { command, view: onePositional(positionals, 'view name', command) };
    }
    case 'materialize': {
      const { positionals, values } = parse(rest, { 'dataset-version': { type: 'string' } });
      const view = onePositional(positionals, 'view name', command);
      const v = values['dataset-version'] as string | undefined;
      return v === undefined ? { command, view } : { command, view, datasetVersion: positiveInteger(v, '--dataset-version') };
    }
    case 'get': {
      const { positionals, values } = parse(rest, { entity: { type: 'string', multiple: true, short: 'e' }, feature: { type: 'string', multiple: true, short: 'f' } });
      const view = onePositional(positionals, 'view name', command);
      return { command, view, entities: parseEntityFlags((values.entity as string[] | undefined) ?? []), features: splitList((values.feature as string[] | undefined) ?? []) };
    }
    case 'check-skew': {
      const { positionals, values } = parse(rest, { sample: { type: 'string' } });
      const view = onePositional(positionals, 'view name', command);
      const s = values.sample as string | undefined;
      return s === undefined ? { command, view } : { command, view, sample: positiveInteger(s, '--sample') };
    }
    case 'training-set': {
      const { positionals, values } = parse(rest, {
        entities: { type: 'string' },
        timestamp: { type: 'string' },
        features: { type: 'string', multiple: true },
        output: { type: 'string', short: 'o' },
      });
      if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'\n${FEATURES_USAGE}`);
      const need = (flag: string, value: unknown): string => {
        if (typeof value !== 'string' || value === '') throw new UsageError(`--${flag} is required\n${FEATURES_USAGE}`);
        return value;
      };
      const entities = parseEntitiesSource(need('entities', values.entities));
      const timestamp = need('timestamp', values.timestamp);
      const features = splitList((values.features as string[] | undefined) ?? []);
      if (features.length === 0) throw new UsageError(`--features is required: view or view:feature, comma-separated\n${FEATURES_USAGE}`);
      const output = need('output', values.output);
      const ext = extname(output).toLowerCase();
      if (ext !== '.parquet' && ext !== '.csv') throw new UsageError(`--output must end in .parquet or .csv, got '${output}'`);
      return { command, entities, timestamp, features, output, format: ext === '.csv' ? 'csv' : 'parquet' };
    }
    case undefined:
      throw new UsageError(`mlp features needs a command\n${FEATURES_USAGE}`);
    default:
      throw new UsageError(`unknown features command '${command}'\n${FEATURES_USAGE}`);
  }
}

/** `a,b` `c` → [a, b, c]: lists may be comma-separated, repeated, or both. */
export function splitList(values: string[]): string[] {
  return values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
}

/**
 * `--entity customer_id=C001 --entity customer_id=C002` → {customer_id: [C001, C002]}.
 * For a composite key the i-th value of each key makes the i-th entity, so
 * every key needs the same number of values.
 */
export function parseEntityFlags(flags: string[]): Record<string, string[]> {
  if (flags.length === 0) throw new UsageError(`give at least one --entity key=value\n${FEATURES_USAGE}`);
  const entities: Record<string, string[]> = {};
  for (const flag of flags) {
    const eq = flag.indexOf('=');
    if (eq <= 0) throw new UsageError(`--entity must be key=value, got '${flag}'`);
    (entities[flag.slice(0, eq)] ??= []).push(flag.slice(eq + 1));
  }
  const counts = Object.entries(entities).map(([k, v]) => [k, v.length] as const);
  if (new Set(counts.map(([, n]) => n)).size > 1) {
    throw new UsageError(`every join key needs the same number of --entity values: ${counts.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  }
  return entities;
}

/** `transactions`, `transactions:3`, or a local file (`labels.csv`, `data/labels.parquet`). */
export function parseEntitiesSource(text: string): EntitiesSource {
  const ref = DATASET_REF.exec(text);
  if (ref) {
    return ref[2] === undefined ? { kind: 'dataset', dataset: ref[1] } : { kind: 'dataset', dataset: ref[1], version: positiveInteger(ref[2], '--entities version') };
  }
  const ext = extname(text).toLowerCase();
  if (!ENTITY_FILE_EXTENSIONS.includes(ext)) {
    throw new UsageError(`--entities must be dataset[:version] or a ${ENTITY_FILE_EXTENSIONS.join('/')} file, got '${text}'`);
  }
  return { kind: 'file', path: text, dataset: entitiesDatasetName(text) };
}

/** The dataset a local entities file is ingested into: `<basename>-entities`, in the dataset name alphabet. */
export function entitiesDatasetName(path: string): string {
  const stem = basename(path, extname(path))
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .replace(/-{2,}/g, '-')
    .replace(/^[-_]+/, '')
    .slice(0, 100 - '-entities'.length)
    .replace(/-+$/, '');
  return `${stem || 'file'}-entities`;
}

// ---------------------------------------------------------------- service replies

export interface AppliedView {
  name: string;
  version: number;
  changed: boolean;
  breaking: boolean;
  diff: { message?: string; type?: string }[];
}

export interface Materialization {
  name: string;
  version: number;
  materializationId: string;
  dataset: string;
  datasetVersion: number;
  datasetVersions: number[];
  offlineArtifactKey: string;
  offlineSha256: string;
  rows: number;
  onlineRows: number;
  statsArtifactKey: string;
  watermark: string | null;
  computedRows: number;
}

export interface FeatureViewSummary {
  name: string;
  version: number;
  entity: { name: string; joinKeys: string[] };
  source: { dataset: string; version?: number; mode?: string };
  online: boolean;
  ttlSeconds: number | null;
  features: string[];
  materialization: Materialization | null;
}

export interface ViewVersion {
  name: string;
  version: number;
  entity: { name: string; joinKeys: string[] };
  timestampColumn: string;
  source: { dataset: string; version?: number; mode?: string };
  spec: { features?: FeatureSpec[] } & Record<string, unknown>;
  ttlSeconds: number | null;
  online: boolean;
  diff: { message?: string; type?: string }[];
  breaking: boolean;
}

export interface FeatureViewDetail {
  status: string;
  name: string;
  versions: ViewVersion[];
  materializations: Materialization[];
}

export interface MaterializeReply {
  materialization: Materialization;
  created: boolean;
}

// ---------------------------------------------------------------- formatting

/** `2024-01-09T00:00:00.000Z` → `2024-01-09 00:00:00` (UTC; milliseconds kept when there are any); null → `-`. */
export function formatInstant(iso: string | null | undefined): string {
  if (!iso) return '-';
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(\.\d+)?Z$/.exec(iso);
  if (!m) return iso;
  const fraction = m[3] && !/^\.0+$/.test(m[3]) ? m[3] : '';
  return `${m[1]} ${m[2]}${fraction}`;
}

/** A feature value for people: numbers with 4 significant digits, null as `-`. */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'number') return formatNumber(value);
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** A value exactly as it is (skew reports compare digits): null as `null`, strings quoted. */
export function formatExact(value: unknown): string {
  if (value === undefined) return 'null';
  return JSON.stringify(value) ?? String(value);
}

function describeSource(source: { dataset: string; version?: number; mode?: string }): string {
  return source.version === undefined || source.version === null ? `${source.dataset} (latest)` : `${source.dataset} v${source.version}`;
}

/** `90d` rather than `12w6d`: whole days as days, anything else by formatDuration. */
export function describeTtl(seconds: number | null): string {
  if (seconds === null) return '-';
  return seconds % 86_400 === 0 ? `${seconds / 86_400}d` : formatDuration(seconds);
}

/** One line per view applied. */
export function formatApplied(applied: AppliedView[]): string[] {
  const lines: string[] = [];
  for (const a of applied) {
    if (!a.changed) {
      lines.push(`${a.name}: v${a.version} unchanged`);
      continue;
    }
    if (a.version === 1) {
      lines.push(`${a.name}: v1 created`);
      continue;
    }
    lines.push(`${a.name}: v${a.version} created${a.breaking ? ' (BREAKING change)' : ''}, ${a.diff.length} change${a.diff.length === 1 ? '' : 's'} from v${a.version - 1}:`);
    for (const d of a.diff) lines.push(`  - ${d.message ?? d.type ?? JSON.stringify(d)}`);
  }
  return lines.length > 0 ? lines : ['(no feature views in the file)'];
}

export function formatViewList(views: FeatureViewSummary[]): string[] {
  return formatTable(
    views.map((v) => ({
      name: v.name,
      version: v.version,
      entity: `${v.entity.name} (${v.entity.joinKeys.join(', ')})`,
      source: describeSource(v.source),
      online: v.online ? 'yes' : 'no',
      ttl: describeTtl(v.ttlSeconds),
      features: v.features.length,
      materialized: v.materialization ? `${v.materialization.dataset} v${v.materialization.datasetVersion}: ${v.materialization.rows} rows` : '-',
      watermark: v.materialization?.watermark ?? '-',
    })),
    ['name', 'version', 'entity', 'source', 'online', 'ttl', 'features', 'materialized', 'watermark'],
    { right: ['version', 'features'] },
  );
}

/** How a feature is computed, in one short expression. */
export function describeFeature(f: FeatureSpec): string {
  switch (f.kind) {
    case 'passthrough':
      return f.column;
    case 'aggregation':
      return `${f.agg}(${f.column ?? '*'}) over ${f.window}`;
    case 'transform':
      switch (f.expr) {
        case 'clip':
          return `clip(${f.column}, ${f.min ?? '-inf'}, ${f.max ?? 'inf'})`;
        case 'bucketize':
          return `bucketize(${f.column}, [${f.boundaries.join(', ')}])`;
        case 'poly':
          return `${f.column}^${f.degree}`;
        case 'interaction':
          return `${f.columns[0]} * ${f.columns[1]}`;
        case 'ratio':
          return `${f.columns[0]} / ${f.columns[1]}`;
        default:
          return `${f.expr}(${f.column})`;
      }
  }
}

export function formatMaterializationLine(m: Materialization, created: boolean): string {
  const what = created ? `materialized from ${m.dataset} v${m.datasetVersion}` : `already materialized from ${m.dataset} v${m.datasetVersion} (the same dataset bytes: nothing recomputed)`;
  return `${m.name} v${m.version}: ${what}: ${m.rows} rows offline, ${m.onlineRows} online, watermark ${m.watermark ?? '-'}`;
}

/** The result of `materialize`: a summary line and the artifacts. */
export function formatMaterialization(m: Materialization, created: boolean): string[] {
  return [
    formatMaterializationLine(m, created),
    `  materialization: ${m.materializationId}`,
    `  offline:         ${m.offlineArtifactKey}`,
    `  stats:           ${m.statsArtifactKey}`,
  ];
}

export function formatViewDetail(d: FeatureViewDetail): string[] {
  const v = d.versions[d.versions.length - 1];
  if (!v) return [`feature view ${d.name}: not defined`];
  const head = [
    `feature view ${d.name} v${v.version}: entity ${v.entity.name} (${v.entity.joinKeys.join(', ')}), source ${describeSource(v.source)}, timestamp ${v.timestampColumn}`,
    `  ${v.online ? 'online' : 'offline only'}, ttl ${describeTtl(v.ttlSeconds)}`,
  ];
  const features = formatTable(
    (v.spec.features ?? []).map((f) => ({ feature: f.name, definition: describeFeature(f) })),
    ['feature', 'definition'],
  );
  const versions = formatTable(
    d.versions.map((x) => ({
      version: x.version,
      breaking: x.version === 1 ? '-' : x.breaking ? 'yes' : 'no',
      changes: x.version === 1 ? '(first version)' : x.diff.map((c) => c.message ?? c.type).join('; ') || '-',
    })),
    ['version', 'breaking', 'changes'],
    { right: ['version'] },
  );
  const materializations = formatTable(
    d.materializations.map((m) => ({
      version: m.version,
      dataset: `${m.dataset} v${m.datasetVersion}`,
      rows: m.rows,
      online: m.onlineRows,
      watermark: m.watermark ?? '-',
      offline: m.offlineArtifactKey,
    })),
    ['version', 'dataset', 'rows', 'online', 'watermark', 'offline'],
    { right: ['version', 'rows', 'online'], headers: { version: 'VIEW VERSION' } },
  );
  return [...head, ...features, 'versions:', ...versions.map((l) => `  ${l}`), 'materializations:', ...materializations.map((l) => `  ${l}`)];
}

/** Online lookups: one line per entity and feature, with the join keys, the value, its event time and status. */
export function formatOnline(view: string, response: OnlineFeaturesResponse): string[] {
  const keys = [...new Set(response.results.flatMap((r) => Object.keys(r.entity)))];
  const rows = response.results.flatMap((r) =>
    Object.entries(r.features).map(([ref, f]) => ({
      ...Object.fromEntries(keys.map((k) => [k, r.entity[k]])),
      feature: ref.startsWith(`${view}:`) ? ref.slice(view.length + 1) : ref,
      value: f.status === 'present' ? formatValue(f.value) : '-',
      eventTime: formatInstant(f.eventTimestamp),
      status: f.status,
    })),
  );
  const lines = formatTable(rows, [...keys, 'feature', 'value', 'eventTime', 'status'], { headers: { eventTime: 'EVENT TIME' } });
  if (rows.some((r) => r.status === 'expired')) lines.push("expired: the entity's latest row is older than the view's ttl, so its values are not served");
  return lines;
}

const entityText = (entity: Record<string, string | number>) =>
  Object.entries(entity)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');

export function formatSkew(r: SkewReport): string[] {
  const head = `${r.view} v${r.version}: ${r.sampled} entit${r.sampled === 1 ? 'y' : 'ies'} sampled from materialization ${r.materializationId}, tolerance ${r.tolerance}`;
  if (r.ok) return [`${head}: no skew`];
  const lines = [`${head}: SKEW: ${r.mismatches.length} mismatch${r.mismatches.length === 1 ? '' : 'es'}, ${r.missing.length} missing`];
  if (r.mismatches.length > 0) {
    lines.push(
      ...formatTable(
        r.mismatches.map((m) => ({ entity: entityText(m.entity), feature: m.feature, online: formatExact(m.online), offline: formatExact(m.offline), eventTime: formatInstant(m.eventTimestamp) })),
        ['entity', 'feature', 'online', 'offline', 'eventTime'],
        { headers: { eventTime: 'EVENT TIME' } },
      ),
    );
  }
  if (r.missing.length > 0) {
    lines.push(
      'missing:',
      ...formatTable(
        r.missing.map((m) => ({
          entity: entityText(m.entity),
          reason: m.reason === 'online_missing' ? 'no online row' : 'no offline row at the online event time',
          online: formatInstant(m.onlineEventTimestamp),
          offline: formatInstant(m.offlineEventTimestamp),
        })),
        ['entity', 'reason', 'online', 'offline'],
        { headers: { online: 'ONLINE EVENT TIME', offline: 'LATEST OFFLINE EVENT TIME' } },
      ).map((l) => `  ${l}`),
    );
  }
  return lines;
}

export interface TrainingSetOutput {
  trainingSetId: string;
  rows: number;
  columns: string[];
  sha256: string;
  artifactKey: string;
  inputs: TrainingSetResult['inputs'];
  entities: { dataset: string; version: number | null; file: string | null; ingestion: 'accepted' | 'duplicate' | null };
  /** The file written (downloaded from the feature store). */
  output: string;
  format: 'parquet' | 'csv';
}

export function formatTrainingSet(t: TrainingSetOutput): string[] {
  const lines: string[] = [];
  if (t.entities.file) {
    lines.push(
      t.entities.ingestion === 'duplicate'
        ? `entities: ${t.entities.file} is already version ${t.entities.version} of dataset '${t.entities.dataset}'`
        : `entities: ingested ${t.entities.file} into dataset '${t.entities.dataset}': version ${t.entities.version}`,
    );
  }
  const cols = t.columns.length > 6 ? `${t.columns.slice(0, 6).join(', ')}, …` : t.columns.join(', ');
  lines.push(`training set ${t.trainingSetId}: ${t.rows} rows, ${t.columns.length} columns (${cols})`);
  lines.push(`  sha256:   ${t.sha256}`);
  lines.push(`  artifact: ${t.artifactKey}`);
  for (const [i, input] of t.inputs.entries()) lines.push(`  ${i === 0 ? 'inputs:   ' : '          '}${input.ref}`);
  lines.push(`wrote ${t.output}${t.format === 'csv' ? ' (CSV converted from the Parquet artifact)' : ''}`);
  return lines;
}

// ---------------------------------------------------------------- requests

const viewPath = (view: string) => `/feature-views/${encodeURIComponent(view)}`;

/**
 * Reads a feature views file and checks it locally first (errors name this
 * file, its line and field), then applies it.
 */
export async function applyFile(file: string, force: boolean, env: NodeJS.ProcessEnv = process.env): Promise<AppliedView[]> {
  const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new CliError(err.code === 'ENOENT' ? `no such file: ${file}` : `cannot read ${file}: ${err.message}`);
  });
  checkFeatureViewsYaml(text, file);
  const { applied } = await callText<{ applied: AppliedView[] }>('feature-store', 'PUT', `/feature-views${force ? '?force=true' : ''}`, text, 'text/yaml', env);
  return applied;
}

/** `invalid feature views in f.yaml:` then one `f.yaml:12:62 featureViews.v.features.x.window: …` line each. */
export function checkFeatureViewsYaml(text: string, file: string): void {
  try {
    parseFeatureViewsYaml(text, file);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    const lines = err.message.split('\n');
    const problems = lines.length > 1 ? lines.slice(1).map((l) => l.trim()) : lines;
    throw new CliError(`invalid feature views in ${file}:\n${problems.map((p) => `  ${p}`).join('\n')}`);
  }
}

export function getOnline(view: string, entities: Record<string, (string | number)[]>, features: string[], env: NodeJS.ProcessEnv = process.env): Promise<OnlineFeaturesResponse> {
  return call<OnlineFeaturesResponse>('feature-store', 'POST', '/features/online', { features: features.length > 0 ? features.map((f) => `${view}:${f}`) : [view], entities }, env);
}

export function materialize(view: string, datasetVersion: number | undefined, env: NodeJS.ProcessEnv = process.env): Promise<MaterializeReply> {
  return call<MaterializeReply>('feature-store', 'POST', `${viewPath(view)}/materialize`, datasetVersion === undefined ? {} : { datasetVersion }, env);
}

/** A `label… 1.2s` line on stderr while `work` runs (terminals, or MLP_PROGRESS=1; never with --json). */
async function withWaiting<T>(label: string, json: boolean, work: Promise<T>): Promise<T> {
  if (!progressEnabled(process.stderr, json)) return work;
  const status = new StatusLine(process.stderr);
  const t0 = Date.now();
  const timer = setInterval(() => status.update(renderWaiting(Date.now() - t0, label)), 200);
  try {
    return await work;
  } finally {
    clearInterval(timer);
    status.done();
  }
}

/** Ingests a local entities file as `<basename>-entities` (upload, like `mlp ingest`). */
async function ingestEntities(source: Extract<EntitiesSource, { kind: 'file' }>, json: boolean): Promise<IngestionOutcome> {
  const status = progressEnabled(process.stderr, json) ? new StatusLine(process.stderr) : null;
  return runIngestion({ dataset: source.dataset, source: source.path }, { status });
}

async function trainingSet(a: Extract<FeaturesArgs, { command: 'training-set' }>, json: boolean): Promise<number> {
  let dataset: string;
  let version: number | undefined;
  let ingestion: TrainingSetOutput['entities']['ingestion'] = null;
  if (a.entities.kind === 'file') {
    const outcome = await ingestEntities(a.entities, json);
    if (outcome.status !== 'accepted' && outcome.status !== 'duplicate') {
      for (const line of formatOutcome(outcome)) console.error(`error: ${line}`);
      return exitCodeFor(outcome);
    }
    dataset = a.entities.dataset;
    version = (outcome.status === 'duplicate' ? outcome.duplicateOf : outcome.version) ?? undefined;
    ingestion = outcome.status;
  } else {
    dataset = a.entities.dataset;
    version = a.entities.version;
  }
  const result = await withWaiting(
    'building the training set…',
    json,
    call<TrainingSetResult>('feature-store', 'POST', '/training-sets', {
      entities: version === undefined ? { dataset } : { dataset, version },
      timestampColumn: a.timestamp,
      features: a.features,
    }),
  );
  await downloadTrainingSet(result, a.output, a.format, json);
  const entitiesVersion = version ?? Number(/^dataset:.*@(\d+)$/.exec(result.inputs[0]?.ref ?? '')?.[1] ?? NaN);
  const out: TrainingSetOutput = {
    trainingSetId: result.trainingSetId,
    rows: result.rows,
    columns: result.columns,
    sha256: result.sha256,
    artifactKey: result.artifactKey,
    inputs: result.inputs,
    entities: { dataset, version: Number.isNaN(entitiesVersion) ? null : entitiesVersion, file: a.entities.kind === 'file' ? a.entities.path : null, ingestion },
    output: a.output,
    format: a.format,
  };
  if (json) printJson(out);
  else for (const line of formatTrainingSet(out)) console.log(line);
  return 0;
}

/**
 * Streams the training set's Parquet from the feature store into `output`
 * (checked against the sha256 of TrainingSetBuilt), or into a temp file that
 * is then converted to CSV. Progress on a terminal, never with --json.
 */
export async function downloadTrainingSet(
  set: Pick<TrainingSetResult, 'trainingSetId' | 'sha256'>,
  output: string,
  format: 'parquet' | 'csv',
  json: boolean,
  env: NodeJS.ProcessEnv = process.env,
): Promise<void> {
  const path = `/training-sets/${encodeURIComponent(set.trainingSetId)}/artifact`;
  const options = { sha256: set.sha256, status: downloadStatus(json, process.stderr, env), label: 'downloading training set', env };
  if (format === 'parquet') {
    await download('feature-store', path, output, options);
    return;
  }
  const work = await mkdtemp(join(tmpdir(), 'mlp-trainingset-'));
  try {
    const parquet = join(work, 'training-set.parquet');
    await download('feature-store', path, parquet, options);
    await parquetToCsv(parquet, output);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** `mlp features …`: returns the exit code (0 done, 1 failed, 2 usage, 3 skew found / entities rejected). */
export async function features(args: string[], json: boolean): Promise<number> {
  const a = parseFeaturesArgs(args);
  const print = (value: unknown, lines: () => string[]) => {
    if (json) printJson(value);
    else for (const line of lines()) console.log(line);
  };
  switch (a.command) {
    case 'apply': {
      const applied = await applyFile(a.file, a.force);
      print(applied, () => formatApplied(applied));
      return 0;
    }
    case 'list': {
      const { featureViews } = await call<{ featureViews: FeatureViewSummary[] }>('feature-store', 'GET', '/feature-views');
      print(featureViews, () => formatViewList(featureViews));
      return 0;
    }
    case 'describe': {
      const detail = await call<FeatureViewDetail>('feature-store', 'GET', viewPath(a.view));
      print(detail, () => formatViewDetail(detail));
      return 0;
    }
    case 'materialize': {
      const reply = await withWaiting(`materializing ${a.view}…`, json, materialize(a.view, a.datasetVersion));
      print(reply, () => formatMaterialization(reply.materialization, reply.created));
      return 0;
    }
    case 'get': {
      const response = await getOnline(a.view, a.entities, a.features);
      print(response, () => formatOnline(a.view, response));
      return 0;
    }
    case 'check-skew': {
      const report = await withWaiting(
        `checking ${a.view}…`,
        json,
        call<SkewReport>('feature-store', 'POST', `${viewPath(a.view)}/check-skew`, a.sample === undefined ? {} : { sample: a.sample }),
      );
      print(report, () => formatSkew(report));
      return report.ok ? 0 : 3;
    }
    case 'training-set':
      return trainingSet(a, json);
  }
}
