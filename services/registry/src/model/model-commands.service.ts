import { Inject, Injectable } from '@nestjs/common';
import type { z } from 'zod';
import type { ArtifactStore } from '@mlp/artifacts';
import {
  type approveModelVersionSchema,
  type archiveModelVersionSchema,
  type assignAliasSchema,
  type CommandMetadata,
  type createRegisteredModelSchema,
  type deleteRegisteredModelSchema,
  type describeRegisteredModelSchema,
  type EventData,
  type ModelVersionView,
  type RegisteredModelView,
  type RegisterModelVersionDto,
  type removeAliasSchema,
  type rollbackAliasSchema,
  type SetRegistrationPolicyDto,
  type tagModelVersionSchema,
  type TagRegisteredModelDto,
} from '@mlp/contracts';
import type { EventStore } from '@mlp/eventstore';
import { ARTIFACT_STORE, EVENT_STORE } from '@mlp/service-kit';
import { versionDetailsFromRun } from '../registration/run-details';
import { RegistryService } from './registry.service';

type Dto<S extends z.ZodType> = z.output<S>;

/** What an alias command did: the alias, where it points now, where it pointed before, and the model's revision. */
export interface AliasChange {
  name: string;
  alias: string;
  version: number | null;
  previousVersion: number | null;
  kind: 'assigned' | 'moved' | 'rolled-back' | 'removed' | 'unchanged';
  reason: string;
  actor: string;
  revision: number;
}

/** The registry's commands for HTTP, NATS and the MLflow API alike: DTO in, read model out. */
@Injectable()
export class ModelCommandsService {
  constructor(
    readonly registry: RegistryService,
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(ARTIFACT_STORE) private readonly artifacts: ArtifactStore,
  ) {}

  async create(dto: Dto<typeof createRegisteredModelSchema>, meta: CommandMetadata): Promise<RegisteredModelView> {
    await this.registry.execute({ type: 'CreateRegisteredModel', ...dto }, meta);
    return this.registry.getModel(dto.name);
  }

  async describe(dto: Dto<typeof describeRegisteredModelSchema>, meta: CommandMetadata): Promise<RegisteredModelView> {
    await this.registry.execute({ type: 'DescribeRegisteredModel', ...dto }, meta);
    return this.registry.getModel(dto.name);
  }

  async tag(dto: TagRegisteredModelDto, meta: CommandMetadata): Promise<RegisteredModelView> {
    await this.registry.execute({ type: 'TagRegisteredModel', name: dto.name, set: dto.set, remove: dto.remove }, meta);
    return this.registry.getModel(dto.name);
  }

  async delete(dto: Dto<typeof deleteRegisteredModelSchema>, meta: CommandMetadata): Promise<{ name: string; status: 'deleted'; revision: number }> {
    const result = await this.registry.execute({ type: 'DeleteRegisteredModel', name: dto.name, reason: dto.reason ?? '', actor: meta.actor }, meta, { expectedRevision: dto.expectedRevision });
    return { name: dto.name, status: 'deleted', revision: result.revision };
  }

  async setPolicy(dto: SetRegistrationPolicyDto, meta: CommandMetadata): Promise<RegisteredModelView> {
    await this.registry.execute({ type: 'SetRegistrationPolicy', ...dto }, meta);
    return this.registry.getModel(dto.name);
  }

  /** Registers a completed run by hand (the model is created when it does not exist). */
  async register(dto: RegisterModelVersionDto, meta: CommandMetadata): Promise<ModelVersionView> {
    const details = await versionDetailsFromRun(this.store, this.artifacts, dto.runId);
    const result = await this.registry.execute(
      {
        type: 'RegisterModelVersion',
        name: dto.name,
        source: 'manual',
        defaults: this.registry.defaults,
        details: { ...details, description: dto.description ?? '', tags: dto.tags ?? {} },
      },
      meta,
    );
    const registered = result.events.find((e) => e.type === 'ModelVersionRegistered')?.data as EventData<'ModelVersionRegistered'>;
    return this.registry.getVersion(dto.name, registered.version);
  }

  async tagVersion(dto: Dto<typeof tagModelVersionSchema>, meta: CommandMetadata): Promise<ModelVersionView> {
    await this.registry.execute({ type: 'TagModelVersion', ...dto }, meta);
    return this.registry.getVersion(dto.name, dto.version);
  }

  async approve(dto: Dto<typeof approveModelVersionSchema>, meta: CommandMetadata): Promise<ModelVersionView> {
    await this.registry.execute({ type: 'ApproveModelVersion', name: dto.name, version: dto.version, alias: dto.alias, approvedBy: meta.actor, reason: dto.reason ?? '' }, meta);
    return this.registry.getVersion(dto.name, dto.version);
  }

  async archive(dto: Dto<typeof archiveModelVersionSchema>, meta: CommandMetadata): Promise<ModelVersionView> {
    await this.registry.execute({ type: 'ArchiveModelVersion', name: dto.name, version: dto.version, reason: dto.reason ?? '', actor: meta.actor }, meta, { expectedRevision: dto.expectedRevision });
    return this.registry.getVersion(dto.name, dto.version);
  }

  async assignAlias(dto: Dto<typeof assignAliasSchema>, meta: CommandMetadata): Promise<AliasChange> {
    const result = await this.registry.execute(
      { type: 'AssignModelAlias', name: dto.name, alias: dto.alias, version: dto.version, reason: dto.reason ?? '', actor: meta.actor, defaults: this.registry.defaults },
      meta,
      { expectedRevision: dto.expectedRevision },
    );
    return this.aliasChange(dto.name, dto.alias, result.events[0]?.data as EventData<'ModelAliasAssigned'> | undefined, result.revision);
  }

  async removeAlias(dto: Dto<typeof removeAliasSchema>, meta: CommandMetadata): Promise<AliasChange> {
    const result = await this.registry.execute({ type: 'RemoveModelAlias', name: dto.name, alias: dto.alias, reason: dto.reason ?? '', actor: meta.actor }, meta, {
      expectedRevision: dto.expectedRevision,
    });
    const d = result.events[0].data as EventData<'ModelAliasRemoved'>;
    return { name: dto.name, alias: dto.alias, version: null, previousVersion: d.version, kind: 'removed', reason: d.reason, actor: d.actor, revision: result.revision };
  }

  async rollback(dto: Dto<typeof rollbackAliasSchema>, meta: CommandMetadata): Promise<AliasChange> {
    const result = await this.registry.execute({ type: 'RollbackModelAlias', name: dto.name, alias: dto.alias, reason: dto.reason ?? '', actor: meta.actor }, meta, {
      expectedRevision: dto.expectedRevision,
    });
    return this.aliasChange(dto.name, dto.alias, result.events[0].data as EventData<'ModelAliasAssigned'>, result.revision);
  }

  private aliasChange(name: string, alias: string, d: EventData<'ModelAliasAssigned'> | undefined, revision: number): AliasChange {
    if (!d) {
      const version = this.registry.getModel(name).aliases?.[alias] ?? null;
      return { name, alias, version, previousVersion: version, kind: 'unchanged', reason: '', actor: '', revision };
    }
    return { name, alias, version: d.version, previousVersion: d.previousVersion, kind: d.kind, reason: d.reason, actor: d.actor, revision };
  }
}
