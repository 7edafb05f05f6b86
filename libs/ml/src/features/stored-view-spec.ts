import { InfrastructureError, parseStored } from '@mlp/contracts';
import { canonicalJson, isRecord } from '@mlp/data';
import { featureViewSpecSchema, type FeatureViewSpec } from './feature-view-spec';

/**
 * A stored definition (the parsed FeatureViewSpec that FeatureViewDefined
 * records) in the form its schema reads: without the fields parsing
 * derives (`ttlSeconds`, each feature's `kind` and `windowSeconds`).
 */
function asWritten(stored: unknown): unknown {
  if (!isRecord(stored)) return stored;
  const { ttlSeconds: _ttlSeconds, ...view } = stored;
  if (!Array.isArray(view.features)) return view;
  const features = view.features.map((f: unknown) => {
    if (!isRecord(f)) return f;
    const { kind: _kind, windowSeconds: _windowSeconds, ...written } = f;
    return written;
  });
  return { ...view, features };
}

/**
 * A feature view definition read back from an event, re-validated with
 * `featureViewSpecSchema` (the schema `mlp features apply` is checked with),
 * and its derived fields checked against what parsing derives now. A stored
 * definition that does not pass is an InfrastructureError
 * (STORED_DATA_INVALID) naming the bad fields: it is never used as is.
 */
export function storedFeatureViewSpec(stored: unknown, what = 'feature view definition'): FeatureViewSpec {
  const view = parseStored(featureViewSpecSchema, asWritten(stored), what);
  if (canonicalJson(view) !== canonicalJson(stored)) {
    throw new InfrastructureError(`stored ${what} is invalid: its derived fields (kind, windowSeconds, ttlSeconds) do not match its definition`, {
      code: 'STORED_DATA_INVALID',
      details: [{ path: '', message: 'derived fields differ from the definition' }],
    });
  }
  return view;
}
