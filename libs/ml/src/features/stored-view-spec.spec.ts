import { InfrastructureError } from '@mlp/contracts';
import { parseFeatureViewsYaml } from './feature-view-spec';
import { storedFeatureViewSpec } from './stored-view-spec';

const yaml = `entities:
  - {name: customer, joinKeys: [customer_id]}
featureViews:
  - name: spend
    entity: customer
    source: {dataset: transactions}
    timestamp: ts
    ttl: 90d
    online: true
    features:
      - {name: amount, column: amount}
      - {name: amount_sum_7d, agg: sum, column: amount, window: 7d}
      - {name: amount_log, expr: log1p, column: amount}
`;

/** What FeatureViewDefined stores: the parsed definition as JSON. */
const stored = () => JSON.parse(JSON.stringify(parseFeatureViewsYaml(yaml).featureViews[0])) as Record<string, unknown> & { features: Record<string, unknown>[] };

function storedError(value: unknown): InfrastructureError {
  try {
    storedFeatureViewSpec(value, "definition of feature view 'spend' v1");
  } catch (err) {
    return err as InfrastructureError;
  }
  throw new Error('expected the stored definition to be refused');
}

describe('storedFeatureViewSpec', () => {
  it('reads back what was stored, unchanged', () => {
    const view = storedFeatureViewSpec(stored());
    expect(view).toEqual(stored());
    expect(view.features[1]).toMatchObject({ kind: 'aggregation', window: '7d', windowSeconds: 604_800 });
    expect(view.ttlSeconds).toBe(90 * 86_400);
  });

  it('refuses a stored definition with a wrong field, naming it', () => {
    const bad = stored();
    bad.features[1] = { ...bad.features[1], window: 'seven days' };
    const err = storedError(bad);
    expect(err).toBeInstanceOf(InfrastructureError);
    expect(err.code).toBe('STORED_DATA_INVALID');
    expect(err.message).toMatch(/^stored definition of feature view 'spend' v1 is invalid: features\.1\.window: /);

    const unknownKey = stored();
    unknownKey.features[0] = { ...unknownKey.features[0], colum: 'x' };
    expect(storedError(unknownKey).message).toMatch(/features\.0/);
    expect(storedError({ ...stored(), features: 'amount' }).code).toBe('STORED_DATA_INVALID');
    expect(storedError(null).code).toBe('STORED_DATA_INVALID');
  });

  it('refuses derived fields that disagree with the definition', () => {
    const bad = stored();
    bad.features[1] = { ...bad.features[1], windowSeconds: 60 };
    expect(storedError(bad).message).toMatch(/derived fields .* do not match/);
    expect(storedError({ ...stored(), ttlSeconds: 5 }).code).toBe('STORED_DATA_INVALID');
    const kind = stored();
    kind.features[2] = { ...kind.features[2], kind: 'aggregation' };
    expect(storedError(kind).code).toBe('STORED_DATA_INVALID');
  });
});
