import type { FieldIssue } from '@mlp/contracts';
import { ColumnType, dottedPath } from '@mlp/data';
import { EntitySpec, FeatureSpec, FeatureViewSpec } from './feature-view-spec';

type Requirement = { types: readonly ColumnType[]; what: string };

const numeric: Requirement = { types: ['int', 'float'], what: 'a numeric column (int or float)' };
const ordered: Requirement = { types: ['int', 'float', 'date', 'datetime'], what: 'a numeric, date or datetime column' };
const temporal: Requirement = { types: ['date', 'datetime'], what: 'a date or datetime column' };
const datetimeOnly: Requirement = { types: ['datetime'], what: 'a datetime column (the hour and minute of a date are always 0)' };

/**
 * Checks a view's column references against its source dataset's columns:
 * every referenced column exists, numeric transforms and aggregations
 * (log1p, clip, bucketize, poly, interaction, ratio, sum, mean, std) read
 * int/float columns, min/max read numbers, dates or datetimes, date parts
 * read date/datetime columns (`hour` only datetime), the timestamp column is
 * a date or datetime, and, when the entity is given, its join keys exist.
 *
 * Issues name the view and feature both in the path
 * (`featureViews.customer_stats.features.amount_log.column`) and in the message.
 */
export function checkViewAgainstSchema(view: FeatureViewSpec, columns: Record<string, ColumnType>, entity?: EntitySpec): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const dataset = view.source.dataset;
  const known = Object.keys(columns);
  const unknown = (column: string) =>
    `unknown column "${column}" in dataset ${dataset}; its columns are ${known.length > 30 ? `${known.slice(0, 30).join(', ')}, …` : known.join(', ') || '(none)'}`;

  const timestampType = columns[view.timestamp];
  const timestampPath = dottedPath(['featureViews', view.name, 'timestamp']);
  if (timestampType === undefined) issues.push({ path: timestampPath, message: `view ${view.name}: ${unknown(view.timestamp)}` });
  else if (!temporal.types.includes(timestampType)) {
    issues.push({ path: timestampPath, message: `view ${view.name}: timestamp column "${view.timestamp}" is ${timestampType}; it must be a date or datetime column` });
  }

  if (entity) {
    entity.joinKeys.forEach((key) => {
      if (columns[key] === undefined) {
        issues.push({
          path: dottedPath(['featureViews', view.name, 'entity']),
          message: `view ${view.name}: join key "${key}" of entity ${entity.name} is not a column of dataset ${dataset}`,
        });
      }
    });
  }

  for (const feature of view.features) {
    for (const { column, field, requirement } of references(feature)) {
      const path = dottedPath(['featureViews', view.name, 'features', feature.name, ...field]);
      const prefix = `feature ${feature.name} of view ${view.name}`;
      const type = columns[column];
      if (type === undefined) issues.push({ path, message: `${prefix}: ${unknown(column)}` });
      else if (requirement && !requirement.types.includes(type)) {
        issues.push({ path, message: `${prefix}: ${operation(feature)} needs ${requirement.what}; "${column}" is ${type}` });
      }
    }
  }
  return issues;
}

function operation(feature: FeatureSpec): string {
  switch (feature.kind) {
    case 'passthrough':
      return 'passthrough';
    case 'transform':
      return feature.expr;
    case 'aggregation':
      return `agg ${feature.agg}`;
  }
}

interface Reference {
  column: string;
  field: (string | number)[];
  /** Absent: any type will do. */
  requirement?: Requirement;
}

function references(feature: FeatureSpec): Reference[] {
  switch (feature.kind) {
    case 'passthrough':
      return [{ column: feature.column, field: ['column'] }];
    case 'transform':
      switch (feature.expr) {
        case 'log1p':
        case 'clip':
        case 'bucketize':
        case 'poly':
          return [{ column: feature.column, field: ['column'], requirement: numeric }];
        case 'hour':
        case 'minute':
          return [{ column: feature.column, field: ['column'], requirement: datetimeOnly }];
        case 'year':
        case 'month':
        case 'day':
        case 'weekday':
        case 'dayofyear':
        case 'is_weekend':
        case 'epoch':
          return [{ column: feature.column, field: ['column'], requirement: temporal }];
        case 'interaction':
        case 'ratio':
          return feature.columns.map((column, i) => ({ column, field: ['columns', i], requirement: numeric }));
        default:
          return assertNever(feature);
      }
    case 'aggregation': {
      if (feature.column === undefined) return [];
      const requirement = feature.agg === 'count' || feature.agg === 'distinct_count' ? undefined : feature.agg === 'min' || feature.agg === 'max' ? ordered : numeric;
      return [{ column: feature.column, field: ['column'], requirement }];
    }
  }
}

function assertNever(value: never): never {
  throw new Error(`unexpected feature ${JSON.stringify(value)}`);
}
