import { categories, type RecordedEvent } from '@mlp/contracts';
import type { VerifiableProjection } from '@mlp/eventstore';

/**
 * Which model versions in use (holding an alias such as production or canary)
 * were trained on which feature view versions, from the registry's events:
 * a breaking change to such a view version is refused unless forced.
 */
export class ModelDependentsProjection implements VerifiableProjection {
  readonly name = 'feature-store.model-dependents';
  readonly version = 1;
  readonly filter = { category: categories.model };
  /** `model@version` → feature view versions (`view@v`) in its lineage. */
  private readonly lineage = new Map<string, string[]>();
  /** `model` → alias → version. */
  private readonly aliases = new Map<string, Map<string, number>>();

  canHandle(event: RecordedEvent): boolean {
    return event.type === 'ModelVersionRegistered' || event.type === 'ModelAliasAssigned' || event.type === 'ModelAliasRemoved';
  }

  handle(event: RecordedEvent): void {
    const d = event.data as { name: string; version: number; alias?: string; lineage?: { featureViews?: string[] } };
    if (event.type === 'ModelVersionRegistered') this.lineage.set(`${d.name}@${d.version}`, d.lineage?.featureViews ?? []);
    else if (event.type === 'ModelAliasAssigned') {
      const m = this.aliases.get(d.name) ?? new Map<string, number>();
      m.set(d.alias!, d.version);
      this.aliases.set(d.name, m);
    } else this.aliases.get(d.name)?.delete(d.alias!);
  }

  reset(): void {
    this.lineage.clear();
    this.aliases.clear();
  }

  /** Lineage and aliases as plain data (mlp replay projections compares it with a rebuild). */
  snapshot(): unknown {
    return { lineage: this.lineage, aliases: this.aliases };
  }

  /** Aliased model versions that depend on `view@version`, as `model@version (alias)`. */
  dependents(view: string, version: number): string[] {
    const out: string[] = [];
    for (const [model, aliases] of this.aliases) {
      for (const [alias, v] of aliases) {
        if ((this.lineage.get(`${model}@${v}`) ?? []).includes(`${view}@${version}`)) out.push(`${model}@${v} (${alias})`);
      }
    }
    return out.sort();
  }
}
