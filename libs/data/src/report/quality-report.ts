import { ColumnType, QuarantineReasonCode } from '../schema/dataset-schema';

/** Statistics of one column of an ingested version. */
export interface ColumnReport {
  name: string;
  type: ColumnType;
  /** Rows examined: every row of the file, accepted or quarantined. */
  count: number;
  /** Null or empty values among them. */
  missing: number;
  /** missing / count. */
  missingFraction: number;
  /** Distinct non-null values: exact unless `distinctApproximate` is true. */
  distinct: number;
  /**
   * Present (true) when `distinct` is an estimate (HyperLogLog, a few percent
   * off), on large tables for columns that are neither declared unique nor
   * counted value by value. Absent means exact.
   */
  distinctApproximate?: true;
  /** Float columns: NaN and ±Infinity values (allowed by `allowNonFinite`); they are left out of every other figure. */
  nonFinite?: number;
  /** Numbers for int/float, ISO strings for date/datetime. */
  min?: number | string;
  max?: number | string;
  mean?: number;
  /** Standard deviation. */
  std?: number;
  quantiles?: { p01: number; p25: number; p50: number; p75: number; p99: number };
  /** Present (true) when the quantiles are a t-digest estimate (large tables); absent means exact. */
  quantilesApproximate?: true;
  /** edges.length === counts.length + 1; bin i is [edges[i], edges[i+1]). */
  histogram?: { edges: number[]; counts: number[] };
  /** Most frequent non-null values, most frequent first. */
  topValues?: { value: string; count: number }[];
}

/** Outcome of one data quality check. */
export interface CheckResult {
  /** `minRows`, `maxMissingFraction`, `maxQuarantinedFraction` or `missing_column`. */
  check: string;
  passed: boolean;
  /** Human readable, with the numbers. */
  message: string;
  column?: string;
  /** The measured value (rows, or a fraction). */
  value?: number;
  threshold?: number;
}

/** Quality report of one ingestion: row accounting, column statistics and checks. */
export interface QualityReport {
  dataset: string;
  version?: number;
  /** Rows read from the source. */
  rows: number;
  accepted: number;
  quarantined: number;
  /** Quarantined rows per reason (a row with two reasons counts under both). */
  reasons: Partial<Record<QuarantineReasonCode, number>>;
  columns: ColumnReport[];
  checks: CheckResult[];
}

/** A report small enough to travel in an event. */
export interface ReportSummary {
  rows: number;
  accepted: number;
  quarantined: number;
  reasons: Partial<Record<QuarantineReasonCode, number>>;
  /** Messages of the failed checks. */
  failedChecks: string[];
  columns: { name: string; type: ColumnType; missingFraction: number; distinct: number; distinctApproximate?: true; mean?: number }[];
}

/** Drops histograms, quantiles and value lists; keeps counts, failed checks and per-column headline numbers. */
export function summarizeReport(report: QualityReport): ReportSummary {
  return {
    rows: report.rows,
    accepted: report.accepted,
    quarantined: report.quarantined,
    reasons: { ...report.reasons },
    failedChecks: report.checks.filter((c) => !c.passed).map((c) => c.message),
    columns: report.columns.map((c) => ({
      name: c.name,
      type: c.type,
      missingFraction: c.missingFraction,
      distinct: c.distinct,
      ...(c.distinctApproximate ? { distinctApproximate: true as const } : {}),
      ...(c.mean !== undefined ? { mean: c.mean } : {}),
    })),
  };
}
