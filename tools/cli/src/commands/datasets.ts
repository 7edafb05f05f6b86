import { extname } from 'node:path';
import { parseArgs } from 'node:util';
import type { ColumnReport, QualityReport } from '@mlp/data';
import { call, UsageError } from '../api';
import { download, downloadStatus, type Downloaded } from '../download';
import { formatBytes, formatNumber, formatPercent, formatTable, printJson, truncate } from '../output';
import { formatReasons } from './ingest';

export const DATASETS_USAGE = `usage: mlp datasets [name] [--version N] [--json]
       mlp datasets <name> --version N --artifact report|quarantine|data --output <file>
                                               download a version's quality report (.json), quarantined rows
                                               (.parquet or .ndjson) or accepted rows (.parquet)`;

/** What `--artifact` downloads, and the extensions its `--output` may have. */
export const DATASET_ARTIFACTS = {
  report: ['.json'],
  quarantine: ['.parquet', '.ndjson'],
  data: ['.parquet'],
} as const;
export type DatasetArtifact = keyof typeof DATASET_ARTIFACTS;

/** `GET /datasets` items. */
export interface DatasetSummary {
  name: string;
  description: string;
  schemaDeclared: boolean;
  versions: number;
  latest: { version: number; status: string; rows: number; accepted: number; quarantined: number; createdAt: string } | null;
}

/** A version as `GET /datasets/:name` and `GET /datasets/:name/versions/:v` show it (the fields the CLI uses). */
export interface DatasetVersionView {
  version: number;
  status: string;
  rows: number;
  accepted: number;
  quarantined: number;
  createdAt: string;
  source?: { kind: string; uri: string };
  schemaChanges: { kind?: string; column?: string; message?: string }[];
  failedChecks: { check: string; message: string }[];
}

export interface DatasetDetail {
  name: string;
  description: string;
  schemaHash: string | null;
  createdAt: string;
  versions: DatasetVersionView[];
}

export interface DatasetsArgs {
  name?: string;
  version?: number;
  /** Download this artifact of the version to `output` instead of printing. */
  download?: { artifact: DatasetArtifact; output: string };
}

export function parseDatasetsArgs(args: string[]): DatasetsArgs {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: { version: { type: 'string', short: 'v' }, artifact: { type: 'string' }, output: { type: 'string', short: 'o' } },
    });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${DATASETS_USAGE}`);
  }
  const { positionals, values } = parsed;
  if (positionals.length > 1) throw new UsageError(`give at most one dataset name\n${DATASETS_USAGE}`);
  const name = positionals[0];
  if ((values.artifact === undefined) !== (values.output === undefined)) {
    throw new UsageError(`--artifact and --output go together\n${DATASETS_USAGE}`);
  }
  if (values.artifact !== undefined && values.version === undefined) throw new UsageError(`--artifact needs a dataset name and --version\n${DATASETS_USAGE}`);
  if (values.version === undefined) return { name };
  if (!name) throw new UsageError(`--version needs a dataset name\n${DATASETS_USAGE}`);
  const version = Number(values.version);
  if (!Number.isInteger(version) || version < 1) throw new UsageError(`--version must be a positive integer, got '${values.version}'`);
  if (values.artifact === undefined || values.output === undefined) return { name, version };
  return { name, version, download: datasetDownload(values.artifact, values.output) };
}

function datasetDownload(artifact: string, output: string): NonNullable<DatasetsArgs['download']> {
  if (!Object.prototype.hasOwnProperty.call(DATASET_ARTIFACTS, artifact)) {
    throw new UsageError(`--artifact must be one of ${Object.keys(DATASET_ARTIFACTS).join(', ')}, got '${artifact}'`);
  }
  const allowed: readonly string[] = DATASET_ARTIFACTS[artifact as DatasetArtifact];
  const ext = extname(output).toLowerCase();
  if (!allowed.includes(ext)) throw new UsageError(`--output for the ${artifact} must end in ${allowed.join(' or ')}, got '${output}'`);
  return { artifact: artifact as DatasetArtifact, output };
}

/** The path that serves a version's artifact (quarantine as NDJSON when the output asks for it). */
export function datasetArtifactPath(name: string, version: number, download: NonNullable<DatasetsArgs['download']>): string {
  const base = `/datasets/${encodeURIComponent(name)}/versions/${version}`;
  if (download.artifact === 'quarantine') return `${base}/quarantine${extname(download.output).toLowerCase() === '.ndjson' ? '?format=ndjson' : ''}`;
  return `${base}/${download.artifact}`;
}

/** `wrote q.parquet: quarantined rows of penguins v1, 1.2 KB, sha256 …`. */
export function formatDownloaded(what: string, d: Downloaded): string {
  return `wrote ${d.output}: ${what}, ${formatBytes(d.bytes)}, sha256 ${d.sha256}`;
}

/** `2026-11-26T10:37:34.374Z` → `2026-11-26 10:37` (UTC). */
export function formatTime(iso: string): string {
  return iso.length >= 16 ? `${iso.slice(0, 10)} ${iso.slice(11, 16)}` : iso;
}

export function formatDatasetList(list: DatasetSummary[]): string[] {
  return formatTable(
    list.map((d) => ({
      name: d.name,
      versions: d.versions,
      latest: d.latest ? `v${d.latest.version}` : '-',
      status: d.latest?.status ?? '-',
      rows: d.latest?.rows ?? '',
      quarantined: d.latest?.quarantined ?? '',
    })),
    ['name', 'versions', 'latest', 'status', 'rows', 'quarantined'],
    { right: ['versions', 'rows', 'quarantined'] },
  );
}

export function formatDataset(d: DatasetDetail): string[] {
  const schema = d.schemaHash ? `schema declared (${d.schemaHash.slice(0, 12)})` : 'no declared schema (inferred per version)';
  const lines = [`dataset ${d.name}: ${schema}, ${d.versions.length} version${d.versions.length === 1 ? '' : 's'}`];
  if (d.description) lines.push(d.description);
  lines.push(
    ...formatTable(
      d.versions.map((v) => ({
        version: v.version,
        status: v.status,
        rows: v.rows,
        accepted: v.accepted,
        quarantined: v.quarantined,
        changes: v.schemaChanges.length === 0 ? '-' : truncate(v.schemaChanges.map((c) => [c.kind, c.column].filter(Boolean).join(' ')).join(', '), 40),
        checks: v.failedChecks.length === 0 ? '-' : truncate(v.failedChecks.map((c) => c.check).join(', '), 40),
        created: formatTime(v.createdAt),
      })),
      ['version', 'status', 'rows', 'accepted', 'quarantined', 'changes', 'checks', 'created'],
      { right: ['version', 'rows', 'accepted', 'quarantined'], headers: { changes: 'SCHEMA CHANGES', checks: 'FAILED CHECKS' } },
    ),
  );
  if (d.versions.length > 0) lines.push(`quality report of a version: mlp datasets ${d.name} --version <N>`);
  return lines;
}

/** `Adelie 151, Gentoo 123, Chinstrap 68` (three at most). */
export function formatTopValues(top: ColumnReport['topValues']): string {
  return (top ?? [])
    .slice(0, 3)
    .map((t) => `${truncate(t.value, 16)} ${t.count}`)
    .join(', ');
}

/** One version's quality report: a line per column, the checks and the quarantine reasons. */
export function formatReport(dataset: string, version: Pick<DatasetVersionView, 'version' | 'status'>, report: QualityReport): string[] {
  const lines = [`${dataset} v${version.version}: ${version.status}, ${report.rows} rows: ${report.accepted} accepted, ${report.quarantined} quarantined`];
  lines.push(
    ...formatTable(
      report.columns.map((c) => ({
        name: c.name,
        type: c.type,
        count: c.count,
        missing: formatPercent(c.missingFraction),
        // `~`: an estimate (large tables); without it the count is exact.
        distinct: c.distinctApproximate ? `~${c.distinct}` : c.distinct,
        min: formatNumber(c.min),
        max: formatNumber(c.max),
        mean: formatNumber(c.mean),
        std: formatNumber(c.std),
        top: formatTopValues(c.topValues),
      })),
      ['name', 'type', 'count', 'missing', 'distinct', 'min', 'max', 'mean', 'std', 'top'],
      { right: ['count', 'missing', 'distinct', 'min', 'max', 'mean', 'std'], headers: { top: 'TOP VALUES' } },
    ),
  );
  lines.push('checks:');
  if (report.checks.length === 0) lines.push('  (none declared)');
  for (const c of report.checks) lines.push(`  ${c.passed ? 'pass' : 'FAIL'}  ${c.message}`);
  const reasons = Object.entries(report.reasons).filter(([, n]) => (n ?? 0) > 0) as [string, number][];
  if (reasons.length === 0) lines.push('quarantine reasons: none');
  else {
    lines.push('quarantine reasons:');
    const width = Math.max(...reasons.map(([code]) => code.length));
    for (const [code, n] of reasons.sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))) lines.push(`  ${code.padEnd(width)}  ${n}`);
  }
  return lines;
}

/**
 * A few lines on one version for the `npm start` demo: row counts with the
 * quarantine reasons, the checks, and the missing share and mean of some columns.
 */
export function formatQualitySummary(report: QualityReport, columns: string[]): string[] {
  const reasons = formatReasons(report.reasons as Record<string, number>);
  const failed = report.checks.filter((c) => !c.passed);
  const lines = [
    `${report.rows} rows: ${report.accepted} accepted, ${report.quarantined} quarantined${reasons ? ` (${reasons})` : ''}`,
    failed.length === 0 ? `checks: all ${report.checks.length} passed` : `checks: ${failed.length} of ${report.checks.length} failed: ${failed.map((c) => c.message).join('; ')}`,
  ];
  const chosen = columns.map((name) => report.columns.find((c) => c.name === name)).filter((c): c is ColumnReport => c !== undefined);
  const width = Math.max(0, ...chosen.map((c) => c.name.length));
  const typeWidth = Math.max(0, ...chosen.map((c) => c.type.length));
  for (const c of chosen) {
    const mean = c.mean !== undefined ? `  mean ${formatNumber(c.mean)}` : c.topValues?.length ? `  top ${formatTopValues(c.topValues)}` : '';
    lines.push(`${c.name.padEnd(width)}  ${c.type.padEnd(typeWidth)}  missing ${formatPercent(c.missingFraction)}${mean}`);
  }
  return lines;
}

/** `mlp datasets [name] [--version N]`. */
export async function datasets(args: string[], json: boolean): Promise<void> {
  const a = parseDatasetsArgs(args);
  if (!a.name) {
    const { datasets: list } = await call<{ datasets: DatasetSummary[] }>('ingestion', 'GET', '/datasets');
    if (json) return printJson(list);
    for (const line of formatDatasetList(list)) console.log(line);
    return;
  }
  const name = encodeURIComponent(a.name);
  if (a.download && a.version !== undefined) {
    const { artifact, output } = a.download;
    const what = { report: 'quality report', quarantine: 'quarantined rows', data: 'accepted rows' }[artifact];
    const d = await download('ingestion', datasetArtifactPath(a.name, a.version, a.download), output, {
      status: downloadStatus(json),
      label: `downloading ${what}`,
    });
    if (json) return printJson({ dataset: a.name, version: a.version, artifact, output: d.output, bytes: d.bytes, sha256: d.sha256 });
    console.log(formatDownloaded(`${what} of ${a.name} v${a.version}`, d));
    return;
  }
  if (a.version === undefined) {
    const detail = await call<DatasetDetail>('ingestion', 'GET', `/datasets/${name}`);
    if (json) return printJson(detail);
    for (const line of formatDataset(detail)) console.log(line);
    return;
  }
  const [version, report] = await Promise.all([
    call<DatasetVersionView>('ingestion', 'GET', `/datasets/${name}/versions/${a.version}`),
    call<QualityReport>('ingestion', 'GET', `/datasets/${name}/versions/${a.version}/report`),
  ]);
  if (json) return printJson(report);
  for (const line of formatReport(a.name, version, report)) console.log(line);
}
