import type { DomainEvent, RegistrationMode } from '@mlp/contracts';

/** Every event of a `model-<name>` stream: the model, its versions and its aliases are one aggregate, so alias moves are serialized. */
export type RegisteredModelEvent = DomainEvent<
  | 'RegisteredModelCreated'
  | 'RegisteredModelDescribed'
  | 'RegisteredModelTagged'
  | 'RegisteredModelDeleted'
  | 'RegistrationPolicySet'
  | 'ModelVersionRegistered'
  | 'ModelVersionTagged'
  | 'ModelVersionApproved'
  | 'ModelVersionArchived'
  | 'ModelAliasAssigned'
  | 'ModelAliasRemoved'
>;

export interface RegistrationPolicy {
  registration: RegistrationMode;
  approvalRequiredFor: string[];
}

export interface VersionState {
  version: number;
  runId: string;
  status: 'active' | 'archived';
  tags: Record<string, string>;
  approvals: { alias: string; approvedBy: string }[];
}

export interface ModelState {
  status: 'Active' | 'Deleted';
  name: string;
  description: string;
  tags: Record<string, string>;
  /** null until a policy is set: the registry's default applies. */
  policy: RegistrationPolicy | null;
  versions: Record<number, VersionState>;
  /** run id → version: a run is registered once. */
  runs: Record<string, number>;
  latestVersion: number;
  /** alias → version holding it. */
  aliases: Record<string, number>;
  /** alias → earlier holders, most recent last: a rollback pops from here. */
  previous: Record<string, number[]>;
}

export type RegisteredModelState = { status: 'Empty' } | ModelState;

export const initialState = (): RegisteredModelState => ({ status: 'Empty' });

function withVersion(state: ModelState, version: number, change: (v: VersionState) => VersionState): ModelState {
  const current = state.versions[version];
  return current ? { ...state, versions: { ...state.versions, [version]: change(current) } } : state;
}

function applyTags(tags: Record<string, string>, set: Record<string, string>, removed: string[]): Record<string, string> {
  const next = { ...tags, ...set };
  for (const key of removed) delete next[key];
  return next;
}

export function evolve(state: RegisteredModelState, event: RegisteredModelEvent): RegisteredModelState {
  if (event.type === 'RegisteredModelCreated') {
    return {
      status: 'Active',
      name: event.data.name,
      description: event.data.description,
      tags: { ...event.data.tags },
      policy: null,
      versions: {},
      runs: {},
      latestVersion: 0,
      aliases: {},
      previous: {},
    };
  }
  if (state.status === 'Empty') return state;
  switch (event.type) {
    case 'RegisteredModelDescribed':
      return { ...state, description: event.data.description };
    case 'RegisteredModelTagged':
      return { ...state, tags: applyTags(state.tags, event.data.set, event.data.removed) };
    case 'RegisteredModelDeleted':
      return { ...state, status: 'Deleted' };
    case 'RegistrationPolicySet':
      return { ...state, policy: { registration: event.data.registration, approvalRequiredFor: [...event.data.approvalRequiredFor] } };
    case 'ModelVersionRegistered': {
      const d = event.data;
      return {
        ...state,
        versions: { ...state.versions, [d.version]: { version: d.version, runId: d.runId, status: 'active', tags: { ...d.tags }, approvals: [] } },
        runs: { ...state.runs, [d.runId]: d.version },
        latestVersion: Math.max(state.latestVersion, d.version),
      };
    }
    case 'ModelVersionTagged':
      return withVersion(state, event.data.version, (v) => ({ ...v, tags: applyTags(v.tags, event.data.set, event.data.removed) }));
    case 'ModelVersionApproved':
      return withVersion(state, event.data.version, (v) => ({ ...v, approvals: [...v.approvals, { alias: event.data.alias, approvedBy: event.data.approvedBy }] }));
    case 'ModelVersionArchived':
      return withVersion(state, event.data.version, (v) => ({ ...v, status: 'archived' }));
    case 'ModelAliasAssigned': {
      const { alias, version, previousVersion, kind } = event.data;
      const stack = [...(state.previous[alias] ?? [])];
      if (kind === 'rolled-back') {
        // The decider rolled back to the most recent earlier holder other than the one holding then.
        while (stack.length > 0 && stack.pop() !== version);
      } else if (previousVersion !== null) stack.push(previousVersion);
      return { ...state, aliases: { ...state.aliases, [alias]: version }, previous: { ...state.previous, [alias]: stack } };
    }
    case 'ModelAliasRemoved': {
      const { alias, version } = event.data;
      const aliases = { ...state.aliases };
      delete aliases[alias];
      return { ...state, aliases, previous: { ...state.previous, [alias]: [...(state.previous[alias] ?? []), version] } };
    }
    default: {
      const unreachable: never = event;
      return unreachable;
    }
  }
}
