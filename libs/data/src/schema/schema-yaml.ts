import { Document, Scalar, isMap, isScalar, isSeq, visit } from 'yaml';
import { ColumnSpec, DatasetSchema } from './dataset-schema';
import { ObservedColumn } from './observed-column';
import { validateDatasetSchema } from './schema-validation';
import { parseValidatedYaml } from './yaml-document';

/**
 * Parses a dataset schema YAML document. Every error names the place:
 * `schema.yaml:7:14 columns.amount.min: expected number, received "ten"`; the
 * ValidationError details carry one FieldIssue per problem (dotted path, and
 * a message that ends with the line and column).
 */
export function parseSchemaYaml(text: string, source = 'schema.yaml'): DatasetSchema {
  return parseValidatedYaml(text, source, (value) => {
    const result = validateDatasetSchema(value);
    return result.ok ? { ok: true, value: result.schema } : { ok: false, issues: result.issues };
  });
}

const specKeyOrder: (keyof ColumnSpec)[] = ['type', 'required', 'nullable', 'unique', 'min', 'max', 'values', 'pattern', 'allowNonFinite', 'maxMissingFraction', 'description'];

/**
 * Writes a schema as editable YAML: one flow mapping per column, defaults
 * left out. `observed` facts (range, missing, distinct, frequent values) go
 * into a comment after each column and are not constraints.
 */
export function schemaToYaml(schema: DatasetSchema, observed: Record<string, ObservedColumn> = {}): string {
  const columns: Record<string, Record<string, unknown>> = {};
  for (const [name, spec] of Object.entries(schema.columns)) {
    const out: Record<string, unknown> = {};
    for (const key of specKeyOrder) {
      const value = spec[key];
      if (value === undefined) continue;
      if ((key === 'required' || key === 'unique') && value === false) continue;
      out[key] = value;
    }
    columns[name] = out;
  }
  const top: Record<string, unknown> = { dataset: schema.dataset };
  if (schema.primaryKey !== undefined) top.primaryKey = schema.primaryKey;
  top.columns = columns;
  const checks = Object.fromEntries(Object.entries(schema.checks ?? {}).filter(([, v]) => v !== undefined));
  if (Object.keys(checks).length > 0) top.checks = checks;

  const doc = new Document(top);
  doc.commentBefore = [
    ` Dataset schema for "${schema.dataset}".`,
    ' Constraints are enforced on ingestion. Comments after a column show what was',
    ' observed in the sample: facts, not constraints. Edit freely.',
  ].join('\n');
  const primaryKey = doc.get('primaryKey', true);
  if (isSeq(primaryKey)) primaryKey.flow = true;
  const columnsNode = doc.get('columns', true);
  if (isMap(columnsNode)) {
    for (const pair of columnsNode.items) {
      if (!isMap(pair.value)) continue;
      pair.value.flow = true;
      const facts = isScalar(pair.key) ? observed[String(pair.key.value)] : undefined;
      if (facts) pair.value.comment = ` ${describeObserved(facts)}`;
    }
  }
  // Keep every column on one line: multi-line strings are written double-quoted.
  visit(doc, {
    Scalar(_key, node: Scalar) {
      if (typeof node.value === 'string' && /[\n\r]/.test(node.value)) node.type = Scalar.QUOTE_DOUBLE;
    },
  });
  return doc.toString({ lineWidth: 0, flowCollectionPadding: false });
}

/** One comment line: `observed: 0.5 to 99, 3/200 missing (1.5%), 57 distinct, top "a", "b"`. */
export function describeObserved(facts: ObservedColumn): string {
  const parts: string[] = [];
  if (facts.min !== undefined || facts.max !== undefined) parts.push(`${fmt(facts.min)} to ${fmt(facts.max)}`);
  parts.push(facts.missing === 0 ? `none missing of ${facts.rows}` : `${facts.missing}/${facts.rows} missing (${percent(facts.missing, facts.rows)})`);
  parts.push(`${facts.distinct} distinct`);
  if (facts.maxLength !== undefined) parts.push(`max length ${facts.maxLength}`);
  if (facts.sourceType) parts.push(`source ${facts.sourceType}`);
  if (facts.sample && facts.sample.length > 0) {
    parts.push(`top ${facts.sample.slice(0, 5).map((v) => JSON.stringify(v.length > 24 ? `${v.slice(0, 23)}…` : v)).join(', ')}`);
  }
  return `observed: ${parts.join(', ')}`.replace(/[\r\n]/g, ' ');
}

function fmt(value: number | string | undefined): string {
  if (value === undefined) return '?';
  if (typeof value === 'string') return value;
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
}

function percent(part: number, whole: number): string {
  return whole > 0 ? `${Number(((100 * part) / whole).toFixed(1))}%` : '0%';
}
