import { IllegalStateError, NotFoundError, ValidationError, validateEventData } from '@mlp/contracts';
import { deciderSpec } from '@mlp/testing';
import { registeredModelDecider, type RegisteredModelCommand } from './registered-model.decide';
import type { RegisteredModelEvent, RegistrationPolicy } from './registered-model';

const spec = deciderSpec(registeredModelDecider);
const defaults: RegistrationPolicy = { registration: 'blessed-only', approvalRequiredFor: [] };
const created: RegisteredModelEvent = {
  type: 'RegisteredModelCreated',
  data: { name: 'churn', description: 'first', tags: { team: 'growth', tier: 'gold' } },
};
const hex = (c: string) => c.repeat(64);
const details = (runId: string, blessed: boolean | null = true) => ({
  runId,
  experiment: 'churn',
  blessed,
  artifacts: { model: `sha256/${hex('a')}`, preprocessing: `sha256/${hex('b')}` },
  metrics: { accuracy: 0.9 },
});
const registered = (version: number, runId = `run-${version}`): RegisteredModelEvent => ({
  type: 'ModelVersionRegistered',
  data: validateEventData('ModelVersionRegistered', { ...details(runId), name: 'churn', version, source: 'manual' }),
});
const assigned = (alias: string, version: number, previousVersion: number | null, kind: 'assigned' | 'moved' | 'rolled-back' = previousVersion === null ? 'assigned' : 'moved'): RegisteredModelEvent => ({
  type: 'ModelAliasAssigned',
  data: { name: 'churn', alias, version, previousVersion, kind, reason: '', actor: 'ana' },
});
const policy = (approvalRequiredFor: string[], registration: 'blessed-only' | 'every-run' | 'manual' = 'blessed-only'): RegisteredModelEvent => ({
  type: 'RegistrationPolicySet',
  data: { name: 'churn', registration, approvalRequiredFor },
});
const assign = (alias: string, version: number, actor = 'ana', reason = 'better'): RegisteredModelCommand => ({ type: 'AssignModelAlias', name: 'churn', alias, version, actor, reason, defaults });
const rollback = (alias = 'production'): RegisteredModelCommand => ({ type: 'RollbackModelAlias', name: 'churn', alias, actor: 'ana', reason: 'bad canary' });

describe('RegisteredModel decider: the model', () => {
  it('creates a model with defaults, once', () => {
    spec.given([]).when({ type: 'CreateRegisteredModel', name: 'churn' }).then([{ type: 'RegisteredModelCreated', data: { name: 'churn', description: '', tags: {} } }]);
    spec.given([created]).when({ type: 'CreateRegisteredModel', name: 'churn' }).then(IllegalStateError, /already exists/);
  });

  it('describes and tags only what changes; a missing model is 404', () => {
    spec.given([created]).when({ type: 'DescribeRegisteredModel', name: 'churn', description: 'second' }).then([{ type: 'RegisteredModelDescribed', data: { name: 'churn', description: 'second' } }]);
    spec.given([created]).when({ type: 'DescribeRegisteredModel', name: 'churn', description: 'first' }).then([]);
    spec
      .given([created])
      .when({ type: 'TagRegisteredModel', name: 'churn', set: { team: 'growth', owner: 'ana' }, remove: ['tier', 'absent'] })
      .then([{ type: 'RegisteredModelTagged', data: { name: 'churn', set: { owner: 'ana' }, removed: ['tier'] } }]);
    spec.given([]).when({ type: 'DescribeRegisteredModel', name: 'x', description: 'd' }).then(NotFoundError);
    spec.given([]).when({ type: 'TagRegisteredModel', name: 'x', set: { a: 'b' }, remove: [] }).then(NotFoundError);
  });

  it('deletes softly, and refuses while any alias points into the model', () => {
    spec
      .given([created, registered(1), assigned('staging', 1, null)])
      .when({ type: 'DeleteRegisteredModel', name: 'churn', reason: 'gone', actor: 'ana' })
      .then(IllegalStateError, /cannot be deleted while aliases point into it: staging → v1/);
    spec
      .given([created, registered(1), assigned('staging', 1, null), { type: 'ModelAliasRemoved', data: { name: 'churn', alias: 'staging', version: 1, reason: '', actor: 'ana' } }])
      .when({ type: 'DeleteRegisteredModel', name: 'churn', reason: 'gone', actor: 'ana' })
      .then([{ type: 'RegisteredModelDeleted', data: { name: 'churn', reason: 'gone', actor: 'ana' } }]);
    const deleted: RegisteredModelEvent = { type: 'RegisteredModelDeleted', data: { name: 'churn', reason: '', actor: 'ana' } };
    spec.given([created, deleted]).when({ type: 'DeleteRegisteredModel', name: 'churn', reason: '', actor: 'ana' }).then([]);
    spec.given([created, registered(1), deleted]).when(assign('staging', 1)).then(IllegalStateError, /was deleted/);
    spec.given([created, deleted]).when({ type: 'CreateRegisteredModel', name: 'churn' }).then(IllegalStateError, /names are not reused/);
  });

  it('sets a registration policy (approval aliases sorted, deduplicated), and nothing when unchanged', () => {
    spec
      .given([created])
      .when({ type: 'SetRegistrationPolicy', name: 'churn', registration: 'every-run', approvalRequiredFor: ['staging', 'production', 'staging'] })
      .then([policy(['production', 'staging'], 'every-run')]);
    spec.given([created, policy(['production'], 'every-run')]).when({ type: 'SetRegistrationPolicy', name: 'churn', registration: 'every-run', approvalRequiredFor: ['production'] }).then([]);
  });
});

describe('RegisteredModel decider: versions', () => {
  const manual = (runId: string): RegisteredModelCommand => ({ type: 'RegisterModelVersion', name: 'churn', source: 'manual', defaults, details: details(runId, false) });
  const auto = (runId: string, blessed: boolean): RegisterModelVersionCommand => ({ type: 'RegisterModelVersion', name: 'churn', source: 'auto', defaults, details: details(runId, blessed) });
  type RegisterModelVersionCommand = Extract<RegisteredModelCommand, { type: 'RegisterModelVersion' }>;

  it('registers by hand, creating the model when it does not exist, numbering versions from 1', () => {
    spec.given([]).when(manual('r1')).thenState((s) => {
      expect(s).toMatchObject({ status: 'Active', name: 'churn', latestVersion: 1, runs: { r1: 1 } });
    });
    spec.given([created, registered(1), registered(2)]).when(manual('r3')).thenState((s) => expect(s).toMatchObject({ latestVersion: 3, runs: { r3: 3 } }));
  });

  it('refuses a run registered before by hand, and ignores it from the process manager (idempotent)', () => {
    spec.given([created, registered(1, 'r1')]).when(manual('r1')).then(IllegalStateError, /already registered as version 1/);
    spec.given([created, registered(1, 'r1')]).when(auto('r1', true)).then([]);
  });

  it('registers from the process manager under the policy: blessed-only by default, every-run, or manual (never)', () => {
    spec.given([]).when(auto('r1', false)).then([]);
    spec.given([]).when(auto('r1', true)).thenState((s) => expect(s).toMatchObject({ latestVersion: 1 }));
    spec.given([created, policy([], 'every-run')]).when(auto('r1', false)).thenState((s) => expect(s).toMatchObject({ latestVersion: 1 }));
    spec.given([created, policy([], 'manual')]).when(auto('r1', true)).then([]);
    spec.given([created, { type: 'RegisteredModelDeleted', data: { name: 'churn', reason: '', actor: 'a' } }]).when(auto('r1', true)).then([]);
  });

  it('validates the registered data (field-level)', () => {
    spec
      .given([created])
      .when({ type: 'RegisterModelVersion', name: 'churn', source: 'manual', defaults, details: { ...details('r1'), weightsSha256: 'nope' } })
      .then(ValidationError, /weightsSha256/);
  });

  it('tags, approves and archives versions; unknown versions are 404', () => {
    spec.given([created, registered(1)]).when({ type: 'TagModelVersion', name: 'churn', version: 1, set: { stage: 'qa' }, remove: [] }).then([
      { type: 'ModelVersionTagged', data: { name: 'churn', version: 1, set: { stage: 'qa' }, removed: [] } },
    ]);
    spec.given([created, registered(1)]).when({ type: 'TagModelVersion', name: 'churn', version: 9, set: { a: 'b' }, remove: [] }).then(NotFoundError, /no version 9/);
    spec.given([created, registered(1)]).when({ type: 'ApproveModelVersion', name: 'churn', version: 1, alias: 'production', approvedBy: 'bo', reason: 'ok' }).then([
      { type: 'ModelVersionApproved', data: { name: 'churn', version: 1, alias: 'production', approvedBy: 'bo', reason: 'ok' } },
    ]);
    spec.given([created, registered(1)]).when({ type: 'ArchiveModelVersion', name: 'churn', version: 1, reason: 'old', actor: 'ana' }).then([
      { type: 'ModelVersionArchived', data: { name: 'churn', version: 1, reason: 'old', actor: 'ana' } },
    ]);
  });

  it('refuses to archive a version that holds an alias', () => {
    spec.given([created, registered(1), assigned('production', 1, null)]).when({ type: 'ArchiveModelVersion', name: 'churn', version: 1, reason: '', actor: 'ana' }).then(IllegalStateError, /holds production/);
  });
});

describe('RegisteredModel decider: aliases', () => {
  const archived: RegisteredModelEvent = { type: 'ModelVersionArchived', data: { name: 'churn', version: 1, reason: '', actor: 'ana' } };
  const approved = (by: string, version = 1, alias = 'production'): RegisteredModelEvent => ({ type: 'ModelVersionApproved', data: { name: 'churn', version, alias, approvedBy: by, reason: '' } });

  it('assigns, then moves with the previous version, actor and reason; the same version again is no change', () => {
    spec.given([created, registered(1)]).when(assign('production', 1)).then([assigned('production', 1, null, 'assigned')].map((e) => ({ ...e, data: { ...e.data, reason: 'better' } }) as RegisteredModelEvent));
    spec.given([created, registered(1), registered(2), assigned('production', 1, null)]).when(assign('production', 2, 'bo', 'v2 wins')).then([
      { type: 'ModelAliasAssigned', data: { name: 'churn', alias: 'production', version: 2, previousVersion: 1, kind: 'moved', reason: 'v2 wins', actor: 'bo' } },
    ]);
    spec.given([created, registered(1), assigned('production', 1, null)]).when(assign('production', 1)).then([]);
  });

  it('refuses an alias for an archived version, and for a version that does not exist', () => {
    spec.given([created, registered(1), archived]).when(assign('staging', 1)).then(IllegalStateError, /archived and cannot receive an alias/);
    spec.given([created, registered(1)]).when(assign('staging', 7)).then(NotFoundError, /no version 7/);
  });

  it('requires an approval by another actor for the aliases the policy names', () => {
    const history = [created, registered(1), policy(['production'])];
    spec.given(history).when(assign('production', 1, 'ana')).then(IllegalStateError, /needs an approval of version 1 by an actor other than ana/);
    // Approved by the requester only: does not count.
    spec.given([...history, approved('ana')]).when(assign('production', 1, 'ana')).then(IllegalStateError, /the only approval is by ana, who is asking/);
    // Approved for another alias or another version: does not count either.
    spec.given([...history, registered(2), approved('bo', 2), approved('bo', 1, 'staging')]).when(assign('production', 1, 'ana')).then(IllegalStateError, /needs an approval/);
    spec.given([...history, approved('bo')]).when(assign('production', 1, 'ana')).thenState((s) => expect(s).toMatchObject({ aliases: { production: 1 } }));
    // Aliases outside the policy need none.
    spec.given(history).when(assign('staging', 1, 'ana')).thenState((s) => expect(s).toMatchObject({ aliases: { staging: 1 } }));
    // The registry's default policy applies to a model without its own.
    spec.given([created, registered(1)]).when({ ...assign('production', 1, 'ana'), defaults: { registration: 'blessed-only', approvalRequiredFor: ['production'] } } as RegisteredModelCommand).then(IllegalStateError, /needs an approval/);
  });

  it('removes an alias (404 when not set)', () => {
    spec.given([created, registered(1), assigned('staging', 1, null)]).when({ type: 'RemoveModelAlias', name: 'churn', alias: 'staging', reason: 'done', actor: 'ana' }).then([
      { type: 'ModelAliasRemoved', data: { name: 'churn', alias: 'staging', version: 1, reason: 'done', actor: 'ana' } },
    ]);
    spec.given([created]).when({ type: 'RemoveModelAlias', name: 'churn', alias: 'staging', reason: '', actor: 'ana' }).then(NotFoundError, /no alias 'staging'/);
  });

  it('rolls back to the previous holder, recorded as a rollback with its reason', () => {
    spec.given([created, registered(1), registered(2), assigned('production', 1, null), assigned('production', 2, 1)]).when(rollback()).then([
      { type: 'ModelAliasAssigned', data: { name: 'churn', alias: 'production', version: 1, previousVersion: 2, kind: 'rolled-back', reason: 'bad canary', actor: 'ana' } },
    ]);
  });

  it('rolls back step by step through the history (v1 → v2 → v3, then v2, then v1), and then refuses', () => {
    const history = [created, registered(1), registered(2), registered(3), assigned('production', 1, null), assigned('production', 2, 1), assigned('production', 3, 2)];
    spec.given(history).when(rollback()).thenState((s) => expect(s).toMatchObject({ aliases: { production: 2 } }));
    const once = [...history, assigned('production', 2, 3, 'rolled-back')];
    spec.given(once).when(rollback()).thenState((s) => expect(s).toMatchObject({ aliases: { production: 1 } }));
    spec.given([...once, assigned('production', 1, 2, 'rolled-back')]).when(rollback()).then(IllegalStateError, /only ever been held by version 1/);
  });

  it('brings a removed alias back to its last holder', () => {
    spec
      .given([created, registered(1), assigned('production', 1, null), { type: 'ModelAliasRemoved', data: { name: 'churn', alias: 'production', version: 1, reason: '', actor: 'ana' } }])
      .when(rollback())
      .then([{ type: 'ModelAliasAssigned', data: { name: 'churn', alias: 'production', version: 1, previousVersion: null, kind: 'rolled-back', reason: 'bad canary', actor: 'ana' } }]);
  });

  it('refuses a rollback with no history, clearly', () => {
    spec.given([created, registered(1)]).when(rollback()).then(IllegalStateError, /cannot roll back alias 'production' of 'churn': it has never been assigned/);
    spec.given([created, registered(1), assigned('production', 1, null)]).when(rollback()).then(IllegalStateError, /no previous version to go back to/);
  });

  it('refuses a rollback onto an archived version', () => {
    spec
      .given([created, registered(1), registered(2), assigned('production', 1, null), assigned('production', 2, 1), archived])
      .when(rollback())
      .then(IllegalStateError, /to version 1: it is archived/);
  });
});
