import { IllegalStateError, NotFoundError, validateEventData, type EventInput, type RegistrationMode } from '@mlp/contracts';
import type { Decider } from '@mlp/eventstore';
import { evolve, initialState, type ModelState, type RegisteredModelEvent, type RegisteredModelState, type RegistrationPolicy } from './registered-model';

type VersionDetails = Omit<EventInput<'ModelVersionRegistered'>, 'name' | 'version' | 'source'>;

/** Commands on one registered model (stream `model-<name>`). Actors and reasons come in with the command; time with its metadata. */
export type RegisteredModelCommand =
  | { type: 'CreateRegisteredModel'; name: string; description?: string; tags?: Record<string, string> }
  | { type: 'DescribeRegisteredModel'; name: string; description: string }
  | { type: 'TagRegisteredModel'; name: string; set: Record<string, string>; remove: string[] }
  | { type: 'DeleteRegisteredModel'; name: string; reason: string; actor: string }
  | { type: 'SetRegistrationPolicy'; name: string; registration: RegistrationMode; approvalRequiredFor: string[] }
  | {
      type: 'RegisterModelVersion';
      name: string;
      /** auto: the process manager, under the model's registration policy; manual: by hand, from a run id. */
      source: 'auto' | 'manual';
      /** The registry's default policy, for a model without its own. */
      defaults: RegistrationPolicy;
      details: VersionDetails;
    }
  | { type: 'TagModelVersion'; name: string; version: number; set: Record<string, string>; remove: string[] }
  | { type: 'ApproveModelVersion'; name: string; version: number; alias: string; approvedBy: string; reason: string }
  | { type: 'ArchiveModelVersion'; name: string; version: number; reason: string; actor: string }
  | { type: 'AssignModelAlias'; name: string; alias: string; version: number; reason: string; actor: string; defaults: RegistrationPolicy }
  | { type: 'RemoveModelAlias'; name: string; alias: string; reason: string; actor: string }
  | { type: 'RollbackModelAlias'; name: string; alias: string; reason: string; actor: string };

type Cmd<T extends RegisteredModelCommand['type']> = Extract<RegisteredModelCommand, { type: T }>;

function assertExists(name: string, state: RegisteredModelState): ModelState {
  if (state.status === 'Empty') throw new NotFoundError(`registered model '${name}' does not exist`, { code: 'MODEL_NOT_FOUND', details: { name } });
  return state;
}

function assertActive(name: string, state: RegisteredModelState): ModelState {
  const model = assertExists(name, state);
  if (model.status === 'Deleted') throw new IllegalStateError(`registered model '${name}' was deleted`, { code: 'MODEL_DELETED', details: { name } });
  return model;
}

function assertVersion(model: ModelState, version: number) {
  const v = model.versions[version];
  if (!v) throw new NotFoundError(`registered model '${model.name}' has no version ${version}`, { code: 'VERSION_NOT_FOUND', details: { name: model.name, version } });
  return v;
}

export const effectivePolicy = (model: ModelState, defaults: RegistrationPolicy): RegistrationPolicy => model.policy ?? defaults;

export function createRegisteredModel(command: Cmd<'CreateRegisteredModel'>, state: RegisteredModelState): RegisteredModelEvent[] {
  if (state.status !== 'Empty') {
    const deleted = state.status === 'Deleted' ? ' (deleted; names are not reused)' : '';
    throw new IllegalStateError(`registered model '${command.name}' already exists${deleted}`, { code: 'MODEL_EXISTS', details: { name: command.name } });
  }
  return [{ type: 'RegisteredModelCreated', data: { name: command.name, description: command.description ?? '', tags: command.tags ?? {} } }];
}

export function describeRegisteredModel(command: Cmd<'DescribeRegisteredModel'>, state: RegisteredModelState): RegisteredModelEvent[] {
  const model = assertActive(command.name, state);
  if (model.description === command.description) return [];
  return [{ type: 'RegisteredModelDescribed', data: { name: command.name, description: command.description } }];
}

export function tagRegisteredModel(command: Cmd<'TagRegisteredModel'>, state: RegisteredModelState): RegisteredModelEvent[] {
  const model = assertActive(command.name, state);
  const set = Object.fromEntries(Object.entries(command.set).filter(([k, v]) => model.tags[k] !== v));
  const removed = command.remove.filter((k) => k in model.tags && !(k in command.set));
  if (Object.keys(set).length === 0 && removed.length === 0) return [];
  return [{ type: 'RegisteredModelTagged', data: { name: command.name, set, removed } }];
}

/** Soft delete, refused while any alias points into the model (remove them first: serving may be using them). */
export function deleteRegisteredModel(command: Cmd<'DeleteRegisteredModel'>, state: RegisteredModelState): RegisteredModelEvent[] {
  const model = assertExists(command.name, state);
  if (model.status === 'Deleted') return [];
  const aliased = Object.entries(model.aliases).sort(([a], [b]) => a.localeCompare(b));
  if (aliased.length > 0) {
    throw new IllegalStateError(
      `registered model '${command.name}' cannot be deleted while aliases point into it: ${aliased.map(([a, v]) => `${a} → v${v}`).join(', ')}; remove them first`,
      { code: 'MODEL_ALIASED', details: { name: command.name, aliases: Object.fromEntries(aliased) } },
    );
  }
  return [{ type: 'RegisteredModelDeleted', data: { name: command.name, reason: command.reason, actor: command.actor } }];
}

export function setRegistrationPolicy(command: Cmd<'SetRegistrationPolicy'>, state: RegisteredModelState): RegisteredModelEvent[] {
  const model = assertActive(command.name, state);
  const approvalRequiredFor = [...new Set(command.approvalRequiredFor)].sort();
  if (model.policy && model.policy.registration === command.registration && model.policy.approvalRequiredFor.join() === approvalRequiredFor.join()) return [];
  return [{ type: 'RegistrationPolicySet', data: { name: command.name, registration: command.registration, approvalRequiredFor } }];
}

/**
 * A new version from a run. Manual registration creates the model when it does not exist, and refuses a run
 * registered before. The process manager (auto) registers under the policy and is idempotent: a run already
 * registered, a policy that does not take this run, or a deleted model give no event.
 */
export function registerModelVersion(command: Cmd<'RegisterModelVersion'>, state: RegisteredModelState): RegisteredModelEvent[] {
  const auto = command.source === 'auto';
  if (state.status === 'Deleted') {
    if (auto) return [];
    throw new IllegalStateError(`registered model '${command.name}' was deleted`, { code: 'MODEL_DELETED', details: { name: command.name } });
  }
  const existing = state.status === 'Active' ? state.runs[command.details.runId] : undefined;
  if (existing !== undefined) {
    if (auto) return [];
    throw new IllegalStateError(`run ${command.details.runId} is already registered as version ${existing} of '${command.name}'`, {
      code: 'RUN_ALREADY_REGISTERED',
      details: { name: command.name, runId: command.details.runId, version: existing },
    });
  }
  if (auto) {
    const policy = state.status === 'Active' ? effectivePolicy(state, command.defaults) : command.defaults;
    if (policy.registration === 'manual') return [];
    if (policy.registration === 'blessed-only' && command.details.blessed !== true) return [];
  }
  const events: RegisteredModelEvent[] = [];
  if (state.status === 'Empty') {
    events.push({ type: 'RegisteredModelCreated', data: { name: command.name, description: auto ? `registered from experiment '${command.details.experiment ?? ''}'` : '', tags: {} } });
  }
  const version = (state.status === 'Active' ? state.latestVersion : 0) + 1;
  events.push({ type: 'ModelVersionRegistered', data: validateEventData('ModelVersionRegistered', { ...command.details, name: command.name, version, source: command.source }) });
  return events;
}

export function tagModelVersion(command: Cmd<'TagModelVersion'>, state: RegisteredModelState): RegisteredModelEvent[] {
  const v = assertVersion(assertActive(command.name, state), command.version);
  const set = Object.fromEntries(Object.entries(command.set).filter(([k, val]) => v.tags[k] !== val));
  const removed = command.remove.filter((k) => k in v.tags && !(k in command.set));
  if (Object.keys(set).length === 0 && removed.length === 0) return [];
  return [{ type: 'ModelVersionTagged', data: { name: command.name, version: command.version, set, removed } }];
}

export function approveModelVersion(command: Cmd<'ApproveModelVersion'>, state: RegisteredModelState): RegisteredModelEvent[] {
  const model = assertActive(command.name, state);
  const v = assertVersion(model, command.version);
  if (v.status === 'archived') {
    throw new IllegalStateError(`version ${command.version} of '${command.name}' is archived and cannot be approved`, { code: 'VERSION_ARCHIVED', details: { name: command.name, version: command.version } });
  }
  if (v.approvals.some((a) => a.alias === command.alias && a.approvedBy === command.approvedBy)) return [];
  return [{ type: 'ModelVersionApproved', data: { name: command.name, version: command.version, alias: command.alias, approvedBy: command.approvedBy, reason: command.reason } }];
}

/** An archived version can receive no alias; archiving one that holds an alias is refused. */
export function archiveModelVersion(command: Cmd<'ArchiveModelVersion'>, state: RegisteredModelState): RegisteredModelEvent[] {
  const model = assertActive(command.name, state);
  const v = assertVersion(model, command.version);
  if (v.status === 'archived') return [];
  const holding = Object.entries(model.aliases).filter(([, version]) => version === command.version).map(([a]) => a).sort();
  if (holding.length > 0) {
    throw new IllegalStateError(`version ${command.version} of '${command.name}' holds ${holding.join(', ')}: move or remove the alias before archiving it`, {
      code: 'VERSION_ALIASED',
      details: { name: command.name, version: command.version, aliases: holding },
    });
  }
  return [{ type: 'ModelVersionArchived', data: { name: command.name, version: command.version, reason: command.reason, actor: command.actor } }];
}

export function assignModelAlias(command: Cmd<'AssignModelAlias'>, state: RegisteredModelState): RegisteredModelEvent[] {
  const model = assertActive(command.name, state);
  const v = assertVersion(model, command.version);
  if (v.status === 'archived') {
    throw new IllegalStateError(`version ${command.version} of '${command.name}' is archived and cannot receive an alias`, {
      code: 'VERSION_ARCHIVED',
      details: { name: command.name, version: command.version, alias: command.alias },
    });
  }
  const current = model.aliases[command.alias];
  if (current === command.version) return [];
  const policy = effectivePolicy(model, command.defaults);
  if (policy.approvalRequiredFor.includes(command.alias)) {
    const approvals = v.approvals.filter((a) => a.alias === command.alias);
    if (!approvals.some((a) => a.approvedBy !== command.actor)) {
      const own = approvals.length > 0 ? ` (the only approval is by ${command.actor}, who is asking: it does not count)` : '';
      throw new IllegalStateError(
        `alias '${command.alias}' of '${command.name}' needs an approval of version ${command.version} by an actor other than ${command.actor}${own}: ` +
          `run \`mlp approve ${command.name} ${command.version} --alias ${command.alias}\` as someone else first`,
        { code: 'APPROVAL_REQUIRED', details: { name: command.name, version: command.version, alias: command.alias, requester: command.actor } },
      );
    }
  }
  return [
    {
      type: 'ModelAliasAssigned',
      data: {
        name: command.name,
        alias: command.alias,
        version: command.version,
        previousVersion: current ?? null,
        kind: current === undefined ? 'assigned' : 'moved',
        reason: command.reason,
        actor: command.actor,
      },
    },
  ];
}

export function removeModelAlias(command: Cmd<'RemoveModelAlias'>, state: RegisteredModelState): RegisteredModelEvent[] {
  const model = assertActive(command.name, state);
  const current = model.aliases[command.alias];
  if (current === undefined) {
    throw new NotFoundError(`registered model '${command.name}' has no alias '${command.alias}'`, { code: 'ALIAS_NOT_FOUND', details: { name: command.name, alias: command.alias } });
  }
  return [{ type: 'ModelAliasRemoved', data: { name: command.name, alias: command.alias, version: current, reason: command.reason, actor: command.actor } }];
}

/** Back to the most recent earlier holder (other than the current one); refused when there is none. */
export function rollbackModelAlias(command: Cmd<'RollbackModelAlias'>, state: RegisteredModelState): RegisteredModelEvent[] {
  const model = assertActive(command.name, state);
  const current = model.aliases[command.alias];
  const stack = [...(model.previous[command.alias] ?? [])];
  let target: number | undefined;
  while (stack.length > 0 && target === undefined) {
    const candidate = stack.pop()!;
    if (candidate !== current) target = candidate;
  }
  if (target === undefined) {
    const now = current === undefined ? 'has never been assigned' : `has only ever been held by version ${current}`;
    throw new IllegalStateError(`cannot roll back alias '${command.alias}' of '${command.name}': it ${now}, so there is no previous version to go back to`, {
      code: 'NO_ALIAS_HISTORY',
      details: { name: command.name, alias: command.alias },
    });
  }
  if (model.versions[target]?.status === 'archived') {
    throw new IllegalStateError(`cannot roll back alias '${command.alias}' of '${command.name}' to version ${target}: it is archived`, {
      code: 'VERSION_ARCHIVED',
      details: { name: command.name, alias: command.alias, version: target },
    });
  }
  return [
    {
      type: 'ModelAliasAssigned',
      data: { name: command.name, alias: command.alias, version: target, previousVersion: current ?? null, kind: 'rolled-back', reason: command.reason, actor: command.actor },
    },
  ];
}

export function decide(command: RegisteredModelCommand, state: RegisteredModelState): RegisteredModelEvent[] {
  switch (command.type) {
    case 'CreateRegisteredModel':
      return createRegisteredModel(command, state);
    case 'DescribeRegisteredModel':
      return describeRegisteredModel(command, state);
    case 'TagRegisteredModel':
      return tagRegisteredModel(command, state);
    case 'DeleteRegisteredModel':
      return deleteRegisteredModel(command, state);
    case 'SetRegistrationPolicy':
      return setRegistrationPolicy(command, state);
    case 'RegisterModelVersion':
      return registerModelVersion(command, state);
    case 'TagModelVersion':
      return tagModelVersion(command, state);
    case 'ApproveModelVersion':
      return approveModelVersion(command, state);
    case 'ArchiveModelVersion':
      return archiveModelVersion(command, state);
    case 'AssignModelAlias':
      return assignModelAlias(command, state);
    case 'RemoveModelAlias':
      return removeModelAlias(command, state);
    case 'RollbackModelAlias':
      return rollbackModelAlias(command, state);
    default: {
      const unreachable: never = command;
      return unreachable;
    }
  }
}

export const registeredModelDecider: Decider<RegisteredModelCommand, RegisteredModelState, RegisteredModelEvent> = {
  decide,
  evolve,
  initialState,
};
