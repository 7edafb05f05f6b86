import { stringify } from 'yaml';

/** One aggregate of a feature view (`column` left out for `count`). */
export interface ViewFeature {
  name: string;
  agg: string;
  column?: string;
  window: string;
}

/**
 * A feature-view spec as `PUT /feature-views` takes it (YAML): the `customer`
 * entity (key `customer_id`) and one view of it over `dataset`, timed by its
 * `ts` column.
 */
export function customerViewYaml(view: { name: string; dataset: string; features: readonly ViewFeature[]; ttl?: string; online?: boolean }): string {
  const { name, dataset, features, ttl, online } = view;
  return stringify({
    entities: [{ name: 'customer', joinKeys: ['customer_id'] }],
    featureViews: [{ name, entity: 'customer', source: { dataset }, timestamp: 'ts', ...(ttl ? { ttl } : {}), ...(online !== undefined ? { online } : {}), features }],
  });
}

/** `spend` over the `txns` dataset (txn_id, customer_id, amount, ts): a 7-day sum and a 30-day standard deviation of `amount`. */
export const txnsSpendViewYaml = (options: { online?: boolean } = {}): string =>
  customerViewYaml({
    name: 'spend',
    dataset: 'txns',
    ...options,
    features: [
      { name: 'amount_sum_7d', agg: 'sum', column: 'amount', window: '7d' },
      { name: 'amount_std_30d', agg: 'std', column: 'amount', window: '30d' },
    ],
  });
