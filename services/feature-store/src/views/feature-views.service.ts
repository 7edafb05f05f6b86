import { Inject, Injectable, Optional, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { NotFoundError, parseStored, streams, ValidationError, type CommandMetadata } from '@mlp/contracts';
import { datasetSchemaSchema, type ColumnType } from '@mlp/data';
import { handleCommand, ProjectionRunner, type EventStore } from '@mlp/eventstore';
import { checkViewAgainstSchema, diffViews, isBreaking, parseFeatureViewsYaml, viewHash, type FeatureRepo, type FeatureViewSpec } from '@mlp/ml';
import { EVENT_STORE, ProjectionCatalog, resolveDatasetVersion } from '@mlp/service-kit';
import { featureViewDecider } from './feature-view.decide';
import { featureNames, initialState, latestVersion, viewSpec, type FeatureViewState } from './feature-view';
import { FeatureViewsProjection } from './feature-views.projection';
import { ModelDependentsProjection } from './model-dependents.projection';

export interface AppliedView {
  name: string;
  version: number;
  changed: boolean;
  breaking: boolean;
  diff: Record<string, unknown>[];
}

/** Applies feature view definitions (versioned, diffed, breaking changes guarded) and serves their state. */
@Injectable()
export class FeatureViewsService implements OnModuleInit, OnApplicationShutdown {
  readonly projection = new FeatureViewsProjection();
  private readonly dependents = new ModelDependentsProjection();
  private readonly runner: ProjectionRunner<FeatureViewsProjection>;
  private readonly dependentsRunner: ProjectionRunner<ModelDependentsProjection>;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Optional() @Inject(ProjectionCatalog) catalog?: ProjectionCatalog,
  ) {
    this.runner = new ProjectionRunner(store, this.projection);
    this.dependentsRunner = new ProjectionRunner(store, this.dependents);
    catalog?.register(this.runner, () => new FeatureViewsProjection());
    catalog?.register(this.dependentsRunner, () => new ModelDependentsProjection());
  }

  async onModuleInit(): Promise<void> {
    await Promise.all([this.runner.start(), this.dependentsRunner.start()]);
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.runner.stop(), this.dependentsRunner.stop()]);
  }

  waitFor(position: number): Promise<void> {
    return position > 0 ? this.runner.waitFor(position) : Promise.resolve();
  }

  state(name: string): FeatureViewState {
    return this.projection.get(name) ?? initialState();
  }

  require(name: string) {
    const state = this.state(name);
    const view = latestVersion(state);
    if (!view || state.status !== 'Defined') throw new NotFoundError(`feature view '${name}' does not exist`, { code: 'VIEW_NOT_FOUND' });
    return { state, view };
  }

  list() {
    return this.projection.all().flatMap(([name, s]) => {
      const v = latestVersion(s);
      if (!v || s.status !== 'Defined') return [];
      const m = [...s.materializations].reverse().find((x) => x.version === v.version);
      return [{ name, version: v.version, entity: v.entity, source: v.source, online: v.online, ttlSeconds: v.ttlSeconds, features: featureNames(v), materialization: m ?? null }];
    });
  }

  /** Parses the YAML (errors name line and field) and applies every view in it. */
  async applyYaml(text: string, meta: CommandMetadata, force = false): Promise<AppliedView[]> {
    return this.apply(parseFeatureViewsYaml(text), meta, force);
  }

  async apply(repo: FeatureRepo, meta: CommandMetadata, force = false): Promise<AppliedView[]> {
    const entities = new Map(repo.entities.map((e) => [e.name, e]));
    // Check every view against its source dataset's schema before writing anything.
    const problems: { path: string; message: string }[] = [];
    const columnsOf = new Map<string, Record<string, ColumnType>>();
    for (const view of repo.featureViews) {
      const key = `${view.source.dataset}@${view.source.version ?? 'latest'}`;
      if (!columnsOf.has(key)) {
        try {
          const version = await resolveDatasetVersion(this.store, view.source.dataset, view.source.version);
          const schema = parseStored(datasetSchemaSchema, version.schema, `schema of dataset '${version.dataset}' v${version.version}`);
          columnsOf.set(key, Object.fromEntries(Object.entries(schema.columns).map(([c, spec]) => [c, spec.type])));
        } catch (err) {
          problems.push({ path: `featureViews.${view.name}.source`, message: (err as Error).message });
          continue;
        }
      }
      for (const issue of checkViewAgainstSchema(view, columnsOf.get(key)!, entities.get(view.entity))) {
        problems.push({ path: issue.path.startsWith('featureViews.') ? issue.path : `featureViews.${view.name}.${issue.path}`, message: issue.message });
      }
    }
    if (problems.length > 0) {
      throw new ValidationError(`feature views do not fit their sources: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, problems);
    }
    const applied: AppliedView[] = [];
    for (const view of repo.featureViews) applied.push(await this.applyOne(view, entities.get(view.entity)!, meta, force));
    return applied;
  }

  private async applyOne(view: FeatureViewSpec, entity: { name: string; joinKeys: string[] }, meta: CommandMetadata, force: boolean): Promise<AppliedView> {
    const current = latestVersion(this.state(view.name));
    const changes = current ? diffViews(viewSpec(current), view) : [];
    const breaking = current ? isBreaking(changes) : false;
    const result = await handleCommand(
      this.store,
      streams.featureView(view.name),
      featureViewDecider,
      {
        type: 'DefineFeatureView',
        definition: {
          name: view.name,
          entity: { name: entity.name, joinKeys: entity.joinKeys },
          timestampColumn: view.timestamp,
          source: { dataset: view.source.dataset, version: view.source.version, mode: view.source.mode ?? 'snapshot' },
          spec: { ...view },
          specHash: viewHash(view),
          ttlSeconds: view.ttlSeconds ?? null,
          online: view.online,
        },
        diff: changes,
        breaking,
        dependents: current ? this.dependents.dependents(view.name, current.version) : [],
        force,
      },
      meta,
    );
    await this.waitFor(result.position);
    const now = latestVersion(this.state(view.name))!;
    return { name: view.name, version: now.version, changed: result.events.length > 0, breaking: result.events.length > 0 && breaking, diff: result.events.length > 0 ? changes : [] };
  }
}

