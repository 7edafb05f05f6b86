import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { ident, openDuck, pathLiteral, type Duck } from '@mlp/duckdb';
import { DRIFT_METHODS, DriftInputError, driftReport, type DriftColumn, type DriftMethod, type DriftReport, type FeatureOptions } from '@mlp/ml/drift';
import { call, CliError, UsageError } from '../api';
import { download, downloadStatus } from '../download';
import { printJson, printTable } from '../output';

export const DRIFT_USAGE = `usage: mlp drift --reference <dataset[:version]|file> --current <dataset[:version]|file>
                 [--columns a,b] [--method column=method[:threshold]]... [--share 0.5] [--json]
  files: .csv, .tsv, .parquet (read with DuckDB); dataset[:version] downloads the version's accepted rows
  (the latest accepted version without :version) from the ingestion service.
  methods: ${DRIFT_METHODS.join(', ')}; default per column as Evidently chooses (KS / chi-squared / Z-test
  for a reference of <= 1000 rows, normed Wasserstein / Jensen-Shannon above).`;

const FILE_EXTENSIONS = ['.csv', '.tsv', '.parquet'];

export type DriftSource = { kind: 'file'; path: string } | { kind: 'dataset'; dataset: string; version?: number };

export interface DriftArgs {
  reference: DriftSource;
  current: DriftSource;
  columns?: string[];
  features: Record<string, FeatureOptions>;
  driftShareThreshold?: number;
}

export function parseDriftSource(text: string, flag: string): DriftSource {
  if (FILE_EXTENSIONS.includes(extname(text).toLowerCase())) return { kind: 'file', path: text };
  const m = /^([A-Za-z0-9][A-Za-z0-9_.-]*)(?::(\d+))?$/.exec(text);
  if (!m) throw new UsageError(`${flag} must be dataset[:version] or a ${FILE_EXTENSIONS.join('/')} file, got '${text}'`);
  return m[2] === undefined ? { kind: 'dataset', dataset: m[1] } : { kind: 'dataset', dataset: m[1], version: Number(m[2]) };
}

export function parseDriftArgs(args: string[]): DriftArgs {
  let values: { reference?: string; current?: string; columns?: string; method?: string[]; share?: string };
  try {
    ({ values } = parseArgs({
      args,
      options: {
        reference: { type: 'string' },
        current: { type: 'string' },
        columns: { type: 'string' },
        method: { type: 'string', multiple: true },
        share: { type: 'string' },
        model: { type: 'string' },
      },
    }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\n${DRIFT_USAGE}`);
  }
  if (!values.reference || !values.current) throw new UsageError(`--reference and --current are required\n${DRIFT_USAGE}`);
  const features: Record<string, FeatureOptions> = {};
  for (const spec of values.method ?? []) {
    const m = /^([^=]+)=([a-z]+)(?::([0-9.eE+-]+))?$/.exec(spec);
    if (!m) throw new UsageError(`--method must be column=method[:threshold], got '${spec}'`);
    if (!(DRIFT_METHODS as readonly string[]).includes(m[2])) throw new UsageError(`unknown method '${m[2]}' in --method ${spec}; known: ${DRIFT_METHODS.join(', ')}`);
    const threshold = m[3] === undefined ? undefined : Number(m[3]);
    if (threshold !== undefined && !Number.isFinite(threshold)) throw new UsageError(`--method threshold must be a number, got '${m[3]}'`);
    features[m[1]] = threshold === undefined ? { method: m[2] as DriftMethod } : { method: m[2] as DriftMethod, threshold };
  }
  let share: number | undefined;
  if (values.share !== undefined) {
    share = Number(values.share);
    if (!(share > 0 && share <= 1)) throw new UsageError(`--share must be in (0, 1], got '${values.share}'`);
  }
  const columns = values.columns?.split(',').map((c) => c.trim()).filter(Boolean);
  if (columns !== undefined && columns.length === 0) throw new UsageError('--columns lists no column');
  return {
    reference: parseDriftSource(values.reference, '--reference'),
    current: parseDriftSource(values.current, '--current'),
    columns,
    features,
    driftShareThreshold: share,
  };
}

const NUMERIC_TYPES = /^(DOUBLE|FLOAT|REAL|DECIMAL.*|TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT)$/;

function readExpression(path: string): string {
  return extname(path).toLowerCase() === '.parquet' ? `read_parquet(${pathLiteral(path)})` : `read_csv_auto(${pathLiteral(path)})`;
}

/**
 * Reads a CSV/TSV/Parquet file with DuckDB into typed columns: numeric SQL types into
 * Float64Array (NULL as NaN), everything else as text (NULL as null), chunk by chunk.
 */
export async function readColumns(duck: Duck, path: string, wanted?: readonly string[]): Promise<{ columns: Record<string, DriftColumn>; rows: number }> {
  const source = readExpression(path);
  let described: { column_name: string; column_type: string }[];
  try {
    described = await duck.all<{ column_name: string; column_type: string }>(`DESCRIBE SELECT * FROM ${source}`);
  } catch (err) {
    throw new CliError(`cannot read ${path}: ${(err as Error).message.split('\n')[0]}`);
  }
  const names = described.map((d) => d.column_name);
  for (const w of wanted ?? []) if (!names.includes(w)) throw new CliError(`column '${w}' is not in ${path} (columns: ${names.join(', ')})`);
  const selected = described.filter((d) => !wanted || wanted.includes(d.column_name));
  const numeric = selected.map((d) => NUMERIC_TYPES.test(d.column_type));
  const { n } = await duck.one<{ n: number | string }>(`SELECT count(*)::DOUBLE AS n FROM ${source}`).then((r) => ({ n: Number(r.n) }));
  const out: DriftColumn[] = numeric.map((isNum) => (isNum ? new Float64Array(n) : new Array<string | null>(n)));
  const select = selected.map((d, i) => `${numeric[i] ? `CAST(${ident(d.column_name)} AS DOUBLE)` : `CAST(${ident(d.column_name)} AS VARCHAR)`} AS c${i}`).join(', ');
  let row = 0;
  for await (const chunk of duck.chunks(`SELECT ${select} FROM ${source}`)) {
    for (let c = 0; c < selected.length; c++) {
      const values = chunk.getColumnValues(c);
      const target = out[c];
      if (numeric[c]) {
        const t = target as Float64Array;
        for (let i = 0; i < values.length; i++) t[row + i] = values[i] === null ? NaN : (values[i] as number);
      } else {
        const t = target as (string | null)[];
        for (let i = 0; i < values.length; i++) t[row + i] = values[i] === null ? null : String(values[i]);
      }
    }
    row += chunk.rowCount;
  }
  return { columns: Object.fromEntries(selected.map((d, i) => [d.column_name, out[i]])), rows: row };
}

interface DatasetVersions {
  versions: { version: number; status: string }[];
}

/** A dataset version's accepted rows as a local Parquet file (the latest accepted version when none is given). */
async function fetchDataset(source: DriftSource & { kind: 'dataset' }, dir: string, json: boolean): Promise<string> {
  let version = source.version;
  if (version === undefined) {
    const detail = await call<DatasetVersions>('ingestion', 'GET', `/datasets/${encodeURIComponent(source.dataset)}`);
    const accepted = detail.versions.filter((v) => v.status === 'accepted').map((v) => v.version);
    if (accepted.length === 0) throw new CliError(`dataset '${source.dataset}' has no accepted version`);
    version = Math.max(...accepted);
  }
  const output = join(dir, `${source.dataset}-v${version}.parquet`);
  await download('ingestion', `/datasets/${encodeURIComponent(source.dataset)}/versions/${version}/data`, output, {
    status: downloadStatus(json),
    label: `downloading ${source.dataset} v${version}`,
  });
  return output;
}

/** `mlp drift`: a one-off drift report of two files or dataset versions, with the same code as the monitors (@mlp/ml driftReport). */
export async function drift(args: string[], json: boolean): Promise<number> {
  const a = parseDriftArgs(args);
  const dir = await mkdtemp(join(tmpdir(), 'mlp-drift-'));
  const duck = await openDuck(join(dir, 'duck'), { threads: 2 });
  let report: DriftReport;
  try {
    const path = async (s: DriftSource) => (s.kind === 'file' ? s.path : fetchDataset(s, dir, json));
    const [refPath, curPath] = [await path(a.reference), await path(a.current)];
    const reference = await readColumns(duck, refPath, a.columns);
    const current = await readColumns(duck, curPath, a.columns ?? Object.keys(reference.columns));
    if (reference.rows === 0 || current.rows === 0) throw new CliError(`${reference.rows === 0 ? refPath : curPath} has no rows`);
    try {
      report = driftReport(reference.columns, current.columns, { columns: a.columns, features: a.features, driftShareThreshold: a.driftShareThreshold });
    } catch (err) {
      if (err instanceof DriftInputError) throw new UsageError(err.message);
      throw err;
    }
  } finally {
    duck.close();
    await rm(dir, { recursive: true, force: true });
  }
  if (json) {
    printJson(driftJson(report));
  } else {
    printTable(
      report.features.map((f) => ({
        column: f.name,
        method: f.method,
        statistic: fmt(f.statistic),
        'p-value': f.pValue === null ? '-' : fmt(f.pValue),
        threshold: f.threshold,
        drift: f.drifted ? 'DRIFT' : 'ok',
      })),
      ['column', 'method', 'statistic', 'p-value', 'threshold', 'drift'],
    );
    const drifted = report.features.filter((f) => f.drifted).length;
    console.log(`\n${drifted} of ${report.features.length} columns drifted (share ${report.driftShare.toFixed(2)}): dataset drift ${report.datasetDrift ? 'DETECTED' : 'not detected'}`);
    for (const f of report.features) {
      if (f.approximation?.maxError !== undefined) console.log(`${f.name}: ${f.method} from a histogram of the current rows, within ±${f.approximation.maxError.toExponential(1)} of the exact value`);
    }
  }
  return 0;
}

/**
 * Exactly `{"features":[{"name","method","statistic","pValue","threshold","drifted"}],"driftShare","datasetDrift"}`.
 * JSON has no infinity or NaN: a non-finite statistic (chi² is +inf when the current data has a value the
 * reference never had) or p-value is written as null; `drifted` still says what it means.
 */
export function driftJson(report: DriftReport): { features: (Omit<DriftReport['features'][number], 'statistic'> & { statistic: number | null })[]; driftShare: number; datasetDrift: boolean } {
  const finite = (x: number | null): number | null => (x === null || !Number.isFinite(x) ? null : x);
  return {
    features: report.features.map((f) => ({
      name: f.name,
      method: f.method,
      statistic: finite(f.statistic),
      pValue: finite(f.pValue),
      threshold: f.threshold,
      drifted: f.drifted,
    })),
    driftShare: report.driftShare,
    datasetDrift: report.datasetDrift,
  };
}

function fmt(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x !== 0 && Math.abs(x) < 1e-4) return x.toExponential(3);
  return x.toFixed(4);
}
