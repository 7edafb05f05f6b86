import { categories, type RecordedEvent } from '@mlp/contracts';
import type { VerifiableProjection } from '@mlp/eventstore';
import { evolve, initialState, type FeatureViewEvent, type FeatureViewState } from './feature-view';

/** Every feature view's state (versions and materializations), from `featureview-*` streams. */
export class FeatureViewsProjection implements VerifiableProjection {
  readonly name = 'feature-store.views';
  readonly version = 1;
  readonly filter = { category: categories.featureView };
  private readonly views = new Map<string, FeatureViewState>();

  canHandle(event: RecordedEvent): boolean {
    return event.type === 'FeatureViewDefined' || event.type === 'FeatureViewMaterialized';
  }

  handle(event: RecordedEvent): void {
    const name = (event.data as { name: string }).name;
    this.views.set(name, evolve(this.views.get(name) ?? initialState(), { type: event.type, data: event.data } as FeatureViewEvent));
  }

  reset(): void {
    this.views.clear();
  }

  /** Every view's versions and materializations as plain data (mlp replay projections compares it with a rebuild). */
  snapshot(): unknown {
    return { views: this.views };
  }

  get(name: string): FeatureViewState | undefined {
    return this.views.get(name);
  }

  all(): [string, FeatureViewState][] {
    return [...this.views.entries()].sort(([a], [b]) => a.localeCompare(b));
  }

  /** Views whose latest version reads `dataset` without pinning a version. */
  followers(dataset: string): string[] {
    return this.all()
      .filter(([, s]) => s.status === 'Defined' && s.versions[s.versions.length - 1].source.dataset === dataset && !s.versions[s.versions.length - 1].source.version)
      .map(([n]) => n);
  }
}
