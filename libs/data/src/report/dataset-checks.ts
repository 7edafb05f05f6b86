import { DatasetSchema } from '../schema/dataset-schema';
import { CheckResult, QualityReport } from './quality-report';

/**
 * Evaluates a schema's data quality checks against a report, in a fixed order:
 *
 * 1. `missing_column`, per declared column absent from the file (in the order
 *    given): fails for required columns; passes, with a note, for the others.
 * 2. `minRows`: accepted rows ≥ checks.minRows.
 * 3. `maxQuarantinedFraction`: quarantined / rows ≤ the limit.
 * 4. `maxMissingFraction`, per declared column present in the report (schema
 *    order): missing / rows described by the column's statistics (the accepted
 *    rows) ≤ the column's limit, else the dataset's.
 *
 * A limit that is not declared is not checked. Without a schema only missing
 * columns are reported, as optional.
 */
export function evaluateChecks(
  schema: DatasetSchema | undefined,
  report: Omit<QualityReport, 'checks'>,
  missingColumns: string[] = [],
): CheckResult[] {
  const results: CheckResult[] = [];
  for (const column of missingColumns) {
    const required = schema?.columns[column]?.required === true;
    results.push({
      check: 'missing_column',
      column,
      passed: !required,
      message: required
        ? `required column "${column}" is missing from the file`
        : `optional column "${column}" is missing from the file; its values will be null`,
    });
  }
  if (!schema) return results;

  const { minRows, maxQuarantinedFraction, maxMissingFraction } = schema.checks ?? {};
  if (minRows !== undefined) {
    const passed = report.accepted >= minRows;
    results.push({
      check: 'minRows',
      passed,
      value: report.accepted,
      threshold: minRows,
      message: passed
        ? `${report.accepted} accepted rows, at least ${minRows} required`
        : `only ${report.accepted} accepted rows, at least ${minRows} required`,
    });
  }
  if (maxQuarantinedFraction !== undefined) {
    const value = fraction(report.quarantined, report.rows);
    const passed = value <= maxQuarantinedFraction;
    results.push({
      check: 'maxQuarantinedFraction',
      passed,
      value,
      threshold: maxQuarantinedFraction,
      message: `${report.quarantined} of ${report.rows} rows quarantined (${percent(value)}), ${limitWords(passed)} ${percent(maxQuarantinedFraction)}`,
    });
  }
  const missing = new Set(missingColumns);
  const reported = new Map(report.columns.map((c) => [c.name, c]));
  for (const [name, spec] of Object.entries(schema.columns)) {
    const threshold = spec.maxMissingFraction ?? maxMissingFraction;
    const column = reported.get(name);
    if (threshold === undefined || !column || missing.has(name)) continue;
    // Column statistics describe the rows they were computed on (the accepted ones).
    const described = column.count + column.missing;
    const value = fraction(column.missing, described);
    const passed = value <= threshold;
    results.push({
      check: 'maxMissingFraction',
      column: name,
      passed,
      value,
      threshold,
      message: `column "${name}": ${column.missing} of ${described} values missing (${percent(value)}), ${limitWords(passed)} ${percent(threshold)}`,
    });
  }
  return results;
}

function fraction(part: number, whole: number): number {
  return whole > 0 ? part / whole : 0;
}

function percent(f: number): string {
  return `${Number((f * 100).toFixed(2))}%`;
}

function limitWords(passed: boolean): string {
  return passed ? 'within the maximum' : 'above the maximum';
}
