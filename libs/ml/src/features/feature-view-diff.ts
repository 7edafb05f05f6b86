import { createHash } from 'node:crypto';
import { canonicalJson } from '@mlp/data';
import { formatDuration } from './duration';
import { FeatureSpec, FeatureViewSpec, SourceRef } from './feature-view-spec';

/**
 * What a definition means, without spelling: durations in seconds (`7d` and
 * `1w` are the same window), features sorted by name (their order in the
 * file only orders output columns). `canonicalJson` then sorts keys.
 */
export function canonicalView(view: FeatureViewSpec): unknown {
  return {
    name: view.name,
    entity: view.entity,
    source: view.source,
    timestamp: view.timestamp,
    ttlSeconds: view.ttlSeconds,
    online: view.online,
    features: [...view.features].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map(canonicalFeature),
  };
}

function canonicalFeature(feature: FeatureSpec): unknown {
  if (feature.kind !== 'aggregation') return feature;
  const { window: _written, ...rest } = feature;
  return rest;
}

/** sha256 (hex) of the canonical JSON (`canonicalJson` of @mlp/data): equal for definitions that mean the same. */
export function viewHash(view: FeatureViewSpec): string {
  return createHash('sha256').update(canonicalJson(canonicalView(view))).digest('hex');
}

export type FeatureViewChange =
  | { type: 'feature_added'; feature: string; breaking: false; message: string }
  | { type: 'feature_removed'; feature: string; breaking: true; message: string }
  | { type: 'feature_changed'; feature: string; from: FeatureSpec; to: FeatureSpec; breaking: true; message: string }
  | { type: 'entity_changed'; from: string; to: string; breaking: true; message: string }
  | { type: 'source_changed'; from: SourceRef; to: SourceRef; breaking: true; message: string }
  | { type: 'timestamp_changed'; from: string; to: string; breaking: true; message: string }
  | { type: 'ttl_changed'; from: number | null; to: number | null; breaking: false; message: string }
  | { type: 'online_changed'; from: boolean; to: boolean; breaking: false; message: string };

/**
 * Changes from one definition of a view to the next, plain JSON (fit for an
 * event). Features are matched by name; reordering is not a change. Breaking:
 * removing or changing a feature, changing entity, source (dataset or pinned
 * version) or timestamp. Not breaking: adding a feature, changing ttl or online.
 */
export function diffViews(previous: FeatureViewSpec, next: FeatureViewSpec): FeatureViewChange[] {
  const changes: FeatureViewChange[] = [];
  if (previous.entity !== next.entity) {
    changes.push({ type: 'entity_changed', from: previous.entity, to: next.entity, breaking: true, message: `entity ${previous.entity} → ${next.entity}` });
  }
  if (!same(previous.source, next.source)) {
    changes.push({
      type: 'source_changed',
      from: previous.source,
      to: next.source,
      breaking: true,
      message: `source ${describeSource(previous.source)} → ${describeSource(next.source)}`,
    });
  }
  if (previous.timestamp !== next.timestamp) {
    changes.push({ type: 'timestamp_changed', from: previous.timestamp, to: next.timestamp, breaking: true, message: `timestamp ${previous.timestamp} → ${next.timestamp}` });
  }
  const fromTtl = previous.ttlSeconds ?? null;
  const toTtl = next.ttlSeconds ?? null;
  if (fromTtl !== toTtl) {
    changes.push({ type: 'ttl_changed', from: fromTtl, to: toTtl, breaking: false, message: `ttl ${describeTtl(fromTtl)} → ${describeTtl(toTtl)}` });
  }
  if (previous.online !== next.online) {
    changes.push({ type: 'online_changed', from: previous.online, to: next.online, breaking: false, message: `online ${previous.online} → ${next.online}` });
  }
  const before = new Map(previous.features.map((f) => [f.name, f]));
  const after = new Map(next.features.map((f) => [f.name, f]));
  for (const [name, feature] of before) {
    const now = after.get(name);
    if (!now) changes.push({ type: 'feature_removed', feature: name, breaking: true, message: `feature ${name} removed` });
    else if (!same(canonicalFeature(feature), canonicalFeature(now))) {
      changes.push({ type: 'feature_changed', feature: name, from: feature, to: now, breaking: true, message: `feature ${name} changed` });
    }
  }
  for (const name of after.keys()) {
    if (!before.has(name)) changes.push({ type: 'feature_added', feature: name, breaking: false, message: `feature ${name} added` });
  }
  return changes;
}

/** A new definition with one of these changes needs a new view version (old feature values no longer mean the same). */
export function isBreaking(changes: readonly Pick<FeatureViewChange, 'type'>[]): boolean {
  return changes.some((c) => breakingChangeTypes[c.type]);
}

/** The classification, by change type (so changes read back from an event classify the same). */
export const breakingChangeTypes: Record<FeatureViewChange['type'], boolean> = {
  feature_added: false,
  feature_removed: true,
  feature_changed: true,
  entity_changed: true,
  source_changed: true,
  timestamp_changed: true,
  ttl_changed: false,
  online_changed: false,
};

function same(a: unknown, b: unknown): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

function describeSource(source: SourceRef): string {
  return source.version === undefined ? `${source.dataset} (latest)` : `${source.dataset} v${source.version}`;
}

function describeTtl(seconds: number | null): string {
  return seconds === null ? 'none' : formatDuration(seconds);
}
