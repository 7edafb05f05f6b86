import { IllegalStateError, NotFoundError } from '@mlp/contracts';
import { deciderSpec } from '@mlp/testing';
import { registeredModelDecider } from './registered-model.decide';
import type { RegisteredModelEvent } from './registered-model';

const spec = deciderSpec(registeredModelDecider);
const created: RegisteredModelEvent = {
  type: 'RegisteredModelCreated',
  data: { name: 'churn', description: 'first', tags: { team: 'growth', tier: 'gold' } },
};

describe('RegisteredModel decider', () => {
  it('creates a model with defaults', () => {
    spec
      .given([])
      .when({ type: 'CreateRegisteredModel', name: 'churn' })
      .then([{ type: 'RegisteredModelCreated', data: { name: 'churn', description: '', tags: {} } }]);
  });

  it('refuses to create a model twice', () => {
    spec.given([created]).when({ type: 'CreateRegisteredModel', name: 'churn' }).then(IllegalStateError, /already exists/);
  });

  it('describes an existing model, and does nothing when the text is unchanged', () => {
    spec
      .given([created])
      .when({ type: 'DescribeRegisteredModel', name: 'churn', description: 'second' })
      .then([{ type: 'RegisteredModelDescribed', data: { name: 'churn', description: 'second' } }]);
    spec.given([created]).when({ type: 'DescribeRegisteredModel', name: 'churn', description: 'first' }).then([]);
  });

  it('refuses to describe or tag a missing model', () => {
    spec.given([]).when({ type: 'DescribeRegisteredModel', name: 'x', description: 'd' }).then(NotFoundError);
    spec.given([]).when({ type: 'TagRegisteredModel', name: 'x', set: { a: 'b' }, remove: [] }).then(NotFoundError);
  });

  it('tags only what changes', () => {
    spec
      .given([created])
      .when({ type: 'TagRegisteredModel', name: 'churn', set: { team: 'growth', owner: 'ana' }, remove: ['tier', 'absent'] })
      .then([{ type: 'RegisteredModelTagged', data: { name: 'churn', set: { owner: 'ana' }, removed: ['tier'] } }]);
    spec.given([created]).when({ type: 'TagRegisteredModel', name: 'churn', set: { team: 'growth' }, remove: ['absent'] }).then([]);
  });

  it('folds tags into state', () => {
    spec
      .given([created])
      .when({ type: 'TagRegisteredModel', name: 'churn', set: { owner: 'ana' }, remove: ['tier'] })
      .thenState((state) => expect(state).toEqual({ status: 'Active', name: 'churn', description: 'first', tags: { team: 'growth', owner: 'ana' } }));
  });
});
