import { categories, type ModelSignature, type RecordedEvent } from '@mlp/contracts';
import type { VerifiableProjection } from '@mlp/eventstore';
import { isServed, type ServingConfig } from '../serving-config';

/** What serving needs of a registered version to load it. */
export interface VersionInfo {
  name: string;
  version: number;
  runId: string;
  /** model, weights, preprocessing, … → content-addressed key; may be empty for versions registered without them. */
  artifacts: Record<string, string>;
  weightsSha256: string | null;
  signature: ModelSignature | null;
  /** Backend the version was trained on ('' when the registry did not record it). */
  backend: string;
  /** `view@version` of the feature views the version was trained on. */
  featureViews: string[];
}

interface ModelState {
  versions: Map<number, VersionInfo>;
  aliases: Map<string, number>;
}

/** `name@alias` → the version it must answer with. */
export type Desired = Map<string, { name: string; alias: string; version: number }>;

export const aliasKey = (name: string, alias: string) => `${name}@${alias}`;

/**
 * The registry's view as serving needs it, evolved from the model events
 * (category `model`): registered versions with their artifacts and
 * signature, and which version each alias holds. Pure: rebuilt from the log
 * on every start, so a restarted instance serves what the log says.
 * `ServedModelsProjection` verifies it against a rebuild.
 */
export class ServedModels {
  private readonly models = new Map<string, ModelState>();

  static readonly handled = new Set(['ModelVersionRegistered', 'ModelAliasAssigned', 'ModelAliasRemoved', 'RegisteredModelDeleted']);

  /** Applies one event; returns true when the alias table changed. */
  apply(event: RecordedEvent): boolean {
    switch (event.type) {
      case 'ModelVersionRegistered': {
        const d = event.data as {
          name: string;
          version: number;
          runId: string;
          artifacts?: Record<string, string>;
          weightsSha256?: string | null;
          signature?: ModelSignature;
          backend?: string;
          lineage?: { featureViews?: string[] };
        };
        this.model(d.name).versions.set(d.version, {
          name: d.name,
          version: d.version,
          runId: d.runId,
          artifacts: { ...(d.artifacts ?? {}) },
          weightsSha256: d.weightsSha256 ?? null,
          signature: d.signature && d.signature.inputs.length > 0 ? d.signature : null,
          backend: d.backend ?? '',
          featureViews: [...(d.lineage?.featureViews ?? [])],
        });
        return false;
      }
      case 'ModelAliasAssigned': {
        const d = event.data as { name: string; alias: string; version: number };
        const aliases = this.model(d.name).aliases;
        if (aliases.get(d.alias) === d.version) return false;
        aliases.set(d.alias, d.version);
        return true;
      }
      case 'ModelAliasRemoved': {
        const d = event.data as { name: string; alias: string };
        return this.model(d.name).aliases.delete(d.alias);
      }
      case 'RegisteredModelDeleted': {
        const d = event.data as { name: string };
        const had = (this.models.get(d.name)?.aliases.size ?? 0) > 0;
        this.models.delete(d.name);
        return had;
      }
      default:
        return false;
    }
  }

  /** Every model's registered versions (what a load reads) and alias table, as plain data. */
  snapshot(): unknown {
    return { models: this.models };
  }

  clear(): void {
    this.models.clear();
  }

  aliasVersion(name: string, alias: string): number | undefined {
    return this.models.get(name)?.aliases.get(alias);
  }

  version(name: string, version: number): VersionInfo | undefined {
    return this.models.get(name)?.versions.get(version);
  }

  /** Every served alias with its version, under the configured list. */
  desired(served: ServingConfig['served']): Desired {
    const out: Desired = new Map();
    for (const [name, m] of this.models) {
      for (const [alias, version] of m.aliases) {
        if (isServed(served, name, alias)) out.set(aliasKey(name, alias), { name, alias, version });
      }
    }
    return out;
  }

  private model(name: string): ModelState {
    let m = this.models.get(name);
    if (!m) this.models.set(name, (m = { versions: new Map(), aliases: new Map() }));
    return m;
  }
}

/**
 * The read model `serving.models`: the ServedModels every serving instance
 * routes by, rebuilt from the `model` category. `mlp replay projections`
 * compares the live instance's table with a fresh one of these.
 */
export class ServedModelsProjection implements VerifiableProjection {
  readonly name = 'serving.models';
  readonly version = 1;
  readonly filter = { category: categories.model };

  constructor(readonly served = new ServedModels()) {}

  canHandle(event: RecordedEvent): boolean {
    return ServedModels.handled.has(event.type);
  }

  handle(event: RecordedEvent): void {
    this.served.apply(event);
  }

  reset(): void {
    this.served.clear();
  }

  snapshot(): unknown {
    return this.served.snapshot();
  }
}
