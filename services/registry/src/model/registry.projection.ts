import {
  categories,
  type AliasHistoryEntry,
  type EventData,
  type ModelVersionView,
  type RecordedEvent,
  type RegisteredModelView,
  type RegistrationPolicyView,
} from '@mlp/contracts';
import type { VerifiableProjection } from '@mlp/eventstore';

const handled = new Set([
  'RegisteredModelCreated',
  'RegisteredModelDescribed',
  'RegisteredModelTagged',
  'RegisteredModelDeleted',
  'RegistrationPolicySet',
  'ModelVersionRegistered',
  'ModelVersionTagged',
  'ModelVersionApproved',
  'ModelVersionArchived',
  'ModelAliasAssigned',
  'ModelAliasRemoved',
]);

interface ModelRecord {
  view: Required<Omit<RegisteredModelView, 'policy'>> & { policy: Omit<RegistrationPolicyView, 'source'> | null };
  versions: Map<number, ModelVersionView>;
  history: Map<string, AliasHistoryEntry[]>;
}

/** Everything the registry's queries read, as plain data (what a rebuild must reproduce exactly). */
export interface RegistrySnapshot {
  models: (ModelRecord['view'] & { versions: ModelVersionView[]; history: Record<string, AliasHistoryEntry[]> })[];
}

/**
 * Registered models, their versions and every alias holding over time, rebuilt from `model-*` streams.
 * Never the source of truth: the decider folds the stream itself.
 */
export class RegistryProjection implements VerifiableProjection {
  readonly name = 'registry.models';
  readonly version = 2;
  readonly filter = { category: categories.model };
  private readonly models = new Map<string, ModelRecord>();

  canHandle(event: RecordedEvent): boolean {
    return handled.has(event.type);
  }

  handle(event: RecordedEvent): void {
    const name = (event.data as { name: string }).name;
    if (event.type === 'RegisteredModelCreated') {
      const d = event.data as EventData<'RegisteredModelCreated'>;
      this.models.set(name, {
        view: {
          name,
          description: d.description,
          tags: { ...d.tags },
          createdAt: event.occurredAt,
          updatedAt: event.occurredAt,
          revision: event.revision,
          status: 'active',
          latestVersion: null,
          versions: 0,
          aliases: {},
          policy: null,
        },
        versions: new Map(),
        history: new Map(),
      });
      return;
    }
    const model = this.models.get(name);
    if (!model) return;
    model.view.updatedAt = event.occurredAt;
    model.view.revision = event.revision;
    switch (event.type) {
      case 'RegisteredModelDescribed':
        model.view.description = (event.data as EventData<'RegisteredModelDescribed'>).description;
        break;
      case 'RegisteredModelTagged': {
        const d = event.data as EventData<'RegisteredModelTagged'>;
        model.view.tags = applyTags(model.view.tags, d.set, d.removed);
        break;
      }
      case 'RegisteredModelDeleted':
        model.view.status = 'deleted';
        break;
      case 'RegistrationPolicySet': {
        const d = event.data as EventData<'RegistrationPolicySet'>;
        model.view.policy = { registration: d.registration, approvalRequiredFor: [...d.approvalRequiredFor] };
        break;
      }
      case 'ModelVersionRegistered': {
        const d = event.data as EventData<'ModelVersionRegistered'>;
        model.versions.set(d.version, {
          name,
          version: d.version,
          runId: d.runId,
          source: d.source,
          status: 'active',
          experiment: d.experiment,
          description: d.description,
          blessed: d.blessed,
          artifacts: { ...d.artifacts },
          weightsSha256: d.weightsSha256,
          signature: d.signature,
          metrics: { ...d.metrics },
          params: { ...d.params },
          backend: d.backend,
          tags: { ...d.tags },
          aliases: [],
          approvals: [],
          lineage: { inputs: [...d.lineage.inputs], featureViews: [...d.lineage.featureViews] },
          createdAt: event.occurredAt,
          updatedAt: event.occurredAt,
          createdBy: event.actor,
        });
        model.view.latestVersion = Math.max(model.view.latestVersion ?? 0, d.version);
        model.view.versions = model.versions.size;
        break;
      }
      case 'ModelVersionTagged': {
        const d = event.data as EventData<'ModelVersionTagged'>;
        const v = model.versions.get(d.version);
        if (v) Object.assign(v, { tags: applyTags(v.tags, d.set, d.removed), updatedAt: event.occurredAt });
        break;
      }
      case 'ModelVersionApproved': {
        const d = event.data as EventData<'ModelVersionApproved'>;
        const v = model.versions.get(d.version);
        if (v) Object.assign(v, { approvals: [...v.approvals, { alias: d.alias, approvedBy: d.approvedBy, reason: d.reason, at: event.occurredAt }], updatedAt: event.occurredAt });
        break;
      }
      case 'ModelVersionArchived': {
        const d = event.data as EventData<'ModelVersionArchived'>;
        const v = model.versions.get(d.version);
        if (v) Object.assign(v, { status: 'archived', updatedAt: event.occurredAt });
        break;
      }
      case 'ModelAliasAssigned': {
        const d = event.data as EventData<'ModelAliasAssigned'>;
        this.endHolding(model, d.alias, event.occurredAt, { kind: d.kind === 'rolled-back' ? 'rolled-back' : 'moved', reason: d.reason, actor: d.actor, by: d.version });
        model.view.aliases = { ...model.view.aliases, [d.alias]: d.version };
        const entries = model.history.get(d.alias) ?? [];
        entries.push({ alias: d.alias, version: d.version, from: event.occurredAt, to: null, kind: d.kind, reason: d.reason, actor: d.actor });
        model.history.set(d.alias, entries);
        this.syncAliases(model);
        break;
      }
      case 'ModelAliasRemoved': {
        const d = event.data as EventData<'ModelAliasRemoved'>;
        this.endHolding(model, d.alias, event.occurredAt, { kind: 'removed', reason: d.reason, actor: d.actor, by: null });
        const aliases = { ...model.view.aliases };
        delete aliases[d.alias];
        model.view.aliases = aliases;
        this.syncAliases(model);
        break;
      }
    }
  }

  reset(): void {
    this.models.clear();
  }

  /** Active and deleted models by name (the service hides deleted ones). */
  getModel(name: string): ModelRecord['view'] | undefined {
    return this.models.get(name)?.view;
  }

  listModels(): ModelRecord['view'][] {
    return [...this.models.values()].map((m) => m.view).sort((a, b) => a.name.localeCompare(b.name));
  }

  versions(name: string): ModelVersionView[] {
    return [...(this.models.get(name)?.versions.values() ?? [])].sort((a, b) => a.version - b.version);
  }

  allVersions(): ModelVersionView[] {
    return this.listModels().flatMap((m) => this.versions(m.name));
  }

  getVersion(name: string, version: number): ModelVersionView | undefined {
    return this.models.get(name)?.versions.get(version);
  }

  /** Every holding of the alias, oldest first. */
  aliasHistory(name: string, alias: string): AliasHistoryEntry[] {
    return [...(this.models.get(name)?.history.get(alias) ?? [])];
  }

  /** Every alias of the model that was ever held. */
  aliasNames(name: string): string[] {
    return [...(this.models.get(name)?.history.keys() ?? [])].sort();
  }

  snapshot(): RegistrySnapshot {
    return {
      models: this.listModels().map((view) => {
        const record = this.models.get(view.name)!;
        return JSON.parse(
          JSON.stringify({ ...view, versions: this.versions(view.name), history: Object.fromEntries([...record.history.entries()].sort(([a], [b]) => a.localeCompare(b))) }),
        );
      }),
    };
  }

  private endHolding(model: ModelRecord, alias: string, at: string, ended: NonNullable<AliasHistoryEntry['ended']>): void {
    const entries = model.history.get(alias);
    const open = entries?.[entries.length - 1];
    if (open && open.to === null) {
      open.to = at;
      open.ended = ended;
    }
  }

  private syncAliases(model: ModelRecord): void {
    for (const v of model.versions.values()) v.aliases = [];
    for (const [alias, version] of Object.entries(model.view.aliases).sort(([a], [b]) => a.localeCompare(b))) model.versions.get(version)?.aliases.push(alias);
  }
}

function applyTags(tags: Record<string, string>, set: Record<string, string>, removed: string[]): Record<string, string> {
  const next = { ...tags, ...set };
  for (const key of removed) delete next[key];
  return next;
}
