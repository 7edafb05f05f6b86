import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ValidationError, type DeploymentView } from '@mlp/contracts';
import { repoRoot } from '@mlp/testing';
import { UsageError } from '../api';
import { formatDeployment, readSpec, startRequest } from './deploy';

const values = (args: string[]) =>
  parseArgs({
    args,
    allowPositionals: true,
    options: {
      version: { type: 'string' }, strategy: { type: 'string' }, weight: { type: 'string' }, alias: { type: 'string' }, auto: { type: 'boolean' },
      'min-requests': { type: 'string' }, 'max-error-rate': { type: 'string' }, 'max-p99-ms': { type: 'string' }, steps: { type: 'string' }, every: { type: 'string' },
      'sticky-header': { type: 'string' }, 'sticky-field': { type: 'string' }, reason: { type: 'string' }, spec: { type: 'string' },
    },
  }).values;

describe('mlp deploy: request bodies', () => {
  it('builds the start request from the flags', () => {
    expect(startRequest('churn', values(['--version', '3', '--strategy', 'canary', '--weight', '10', '--auto', '--min-requests', '500', '--max-error-rate', '0.01']))).toEqual({
      model: 'churn', version: 3, strategy: 'canary', weight: 10, auto: true, policy: { minRequests: 500, maxErrorRate: 0.01 },
    });
    expect(startRequest('churn', values(['--version', '2', '--strategy', 'ab', '--sticky-header', 'X-MLP-Key']))).toEqual({ model: 'churn', version: 2, strategy: 'ab', sticky: { header: 'x-mlp-key' } });
    expect(startRequest('churn', values(['--version', '2', '--strategy', 'canary', '--steps', '5,25,50', '--every', '600']))).toEqual({
      model: 'churn', version: 2, strategy: 'canary', schedule: { steps: [5, 25, 50], everySeconds: 600 },
    });
  });

  it('takes a rollout spec (the examples validate), with flags on top', () => {
    const canary = readSpec(join(repoRoot, 'examples/deployments/canary.rollout.yaml'));
    expect(startRequest('churn', values(['--version', '3', '--max-p99-ms', '80']), canary)).toEqual({
      model: 'churn',
      version: 3,
      strategy: 'canary',
      alias: 'production',
      weight: 5,
      schedule: { steps: [25, 50, 100], everySeconds: 600 },
      auto: true,
      policy: { minRequests: 500, maxErrorRate: 0.01, maxP99Ms: 80, metrics: [{ metric: 'accuracy', op: '>=', value: 0.85 }] },
      sticky: { header: 'x-mlp-key' },
      reason: 'weekly retrain',
    });
    const shadow = readSpec(join(repoRoot, 'examples/deployments/shadow.rollout.yaml'));
    expect(startRequest('churn', values(['--version', '4', '--weight', '10']), shadow)).toMatchObject({ strategy: 'shadow', weight: 10 });
    // A bad spec is reported field by field before anything is sent.
    const err = (() => {
      try {
        startRequest('churn', values(['--version', '2', '--spec', 'bad.yaml']), { strategy: 'purple', policy: { maxErrorRate: 2 }, schedule: { steps: [50, 25], everySeconds: 60 } });
      } catch (e) {
        return e as ValidationError;
      }
    })();
    expect(err).toBeInstanceOf(ValidationError);
    expect(err!.message).toMatch(/^invalid bad.yaml: /);
    expect(err!.details.map((d) => d.path).sort()).toEqual(['policy.maxErrorRate', 'schedule.steps', 'strategy']);
  });

  it('refuses flag combinations that cannot mean anything', () => {
    expect(() => startRequest('churn', values(['--strategy', 'canary']))).toThrow(UsageError);
    expect(() => startRequest('churn', values(['--version', 'two', '--strategy', 'canary']))).toThrow(/--version must be a number/);
    expect(() => startRequest('churn', values(['--version', '2', '--strategy', 'canary', '--min-requests', '5']))).toThrow(/add --auto/);
    expect(() => startRequest('churn', values(['--version', '2', '--strategy', 'canary', '--steps', '5,25']))).toThrow(/go together/);
    expect(() => startRequest('churn', values(['--version', '2', '--strategy', 'ab', '--sticky-header', 'a', '--sticky-field', 'b']))).toThrow(/not both/);
  });
});

describe('mlp deployments: output', () => {
  it('prints the split, the policy and one line per event', () => {
    const view: DeploymentView = {
      model: 'churn',
      revision: 1,
      active: {
        deploymentId: 'd1', strategy: 'canary', alias: 'production', stableVersion: 1, candidateVersion: 2, weights: { stable: 75, candidate: 25 }, mirrorPercent: 0,
        sticky: null, policy: { minRequests: 100, maxErrorRate: 0.05, maxP99Ms: 1000, metrics: [] }, schedule: null, startedAt: '2026-01-01T00:00:00.000Z',
      },
      split: [{ arm: 'stable', version: 1, weight: 75 }, { arm: 'candidate', version: 2, weight: 25 }],
      mirror: null,
      stableVersion: 1,
      lastDecision: null,
      history: [
        { type: 'DeploymentStarted', at: '2026-01-01T00:00:00.000Z', actor: 'ana', revision: 0, data: { strategy: 'canary', stableVersion: 1, candidateVersion: 2, weights: { stable: 90, candidate: 10 }, mirrorPercent: 0, reason: '' } },
        { type: 'TrafficShifted', at: '2026-01-01T00:05:00.000Z', actor: 'ana', revision: 1, data: { from: { stable: 90, candidate: 10 }, to: { stable: 75, candidate: 25 }, by: 'hand', reason: 'fine so far' } },
      ],
    };
    const { headline, history } = formatDeployment(view);
    expect(headline).toEqual([
      'churn@production: canary rollout d1 (v1 → v2), started 2026-01-01T00:00:00.000Z',
      '  split: stable v1 75% | candidate v2 25%',
      '  auto: after 100 candidate requests, promote if error rate ≤ 0.05 and p99 ≤ 1000 ms, else roll back',
    ]);
    expect(history.map((h) => h.detail)).toEqual(['canary v1 → v2, split 90/10', '90/10 → 75/25 by hand — fine so far']);
    expect(formatDeployment({ ...view, active: null, split: [{ arm: 'stable', version: 2, weight: 100 }], stableVersion: 2, history: [] }).headline).toEqual(['churn: no active rollout; v2 takes all traffic']);
  });
});
