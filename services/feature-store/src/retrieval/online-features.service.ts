import { Inject, Injectable } from '@nestjs/common';
import { NotFoundError, type OnlineFeaturesRequest, type OnlineFeaturesResponse } from '@mlp/contracts';
import { ONLINE_STORE } from '../online/online-store.token';
import type { OnlineStore } from '../online';
import { featureNames } from '../views/feature-view';
import { FeatureViewsService } from '../views/feature-views.service';

/** Online lookups: many entities per call, each value with its event time and a status. */
@Injectable()
export class OnlineFeaturesService {
  constructor(
    @Inject(ONLINE_STORE) private readonly online: OnlineStore,
    private readonly views: FeatureViewsService,
  ) {}

  async get(request: OnlineFeaturesRequest, now = new Date()): Promise<OnlineFeaturesResponse> {
    // Group requested features by view: `view:feature` or the whole view.
    const byView = new Map<string, string[] | null>();
    for (const ref of request.features) {
      const [view, feature] = ref.split(':');
      const { view: v } = this.views.require(view);
      if (!v.online) throw new NotFoundError(`feature view '${view}' is not served online (online: false)`, { code: 'VIEW_NOT_ONLINE' });
      const names = featureNames(v);
      if (feature && !names.includes(feature)) throw new NotFoundError(`feature view '${view}' has no feature '${feature}'`, { code: 'FEATURE_NOT_FOUND' });
      const current = byView.get(view);
      if (!feature) byView.set(view, null);
      else if (current !== null) byView.set(view, [...(current ?? []), feature]);
    }
    const count = Object.values(request.entities)[0].length;
    const entities = Array.from({ length: count }, (_, i) => Object.fromEntries(Object.entries(request.entities).map(([k, vals]) => [k, vals[i]])));
    const results: OnlineFeaturesResponse['results'] = entities.map((entity) => ({ entity, features: {} }));
    await Promise.all(
      [...byView].map(async ([viewName, features]) => {
        const { view } = this.views.require(viewName);
        const names = features ?? featureNames(view);
        for (const key of view.entity.joinKeys) {
          if (!(key in request.entities)) throw new NotFoundError(`view '${viewName}' needs join key '${key}' in entities`, { code: 'JOIN_KEY_MISSING' });
        }
        const keys = entities.map((e) => this.online.entityKey(view.entity.joinKeys, e));
        const found = await this.online.read(viewName, keys, names);
        keys.forEach((key, i) => {
          const row = found.get(key) ?? null;
          const expired = row !== null && view.ttlSeconds !== null && now.getTime() - Date.parse(row.eventTimestamp) > view.ttlSeconds * 1000;
          for (const name of names) {
            results[i].features[`${viewName}:${name}`] = row
              ? { value: expired ? null : (row.values[name] ?? null), eventTimestamp: row.eventTimestamp, status: expired ? 'expired' : 'present' }
              : { value: null, eventTimestamp: null, status: 'missing' };
          }
        });
      }),
    );
    return { results };
  }
}
