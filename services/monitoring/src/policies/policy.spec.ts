import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ValidationError } from '@mlp/contracts';
import { parsePolicy, parsePolicyYaml, policySha256 } from './policy';

const issue = `model: churn
window: {size: 1000}          # or {duration: 1h}
drift: {shareThreshold: 0.5, features: {amount: {method: psi, threshold: 0.2}}}
performance: {metric: roc_auc, minimum: 0.75, window: 500}
schedule: {retrain: "0 3 * * 0"}     # cron
actions:
  onDrift: [alert, retrain]
  onDegraded: [alert, rollback]
  canary: {promoteAfter: 2000, rollbackIf: {errorRate: 0.02, roc_auc_drop: 0.03}}
alerts: {webhook: http://127.0.0.1:9999/hook}
`;

const errorOf = (fn: () => unknown): ValidationError => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw err;
  }
  throw new Error('expected a ValidationError');
};

describe('monitoring policy YAML', () => {
  it("parses the issue's example with defaults filled in", () => {
    const p = parsePolicyYaml(issue);
    expect(p).toEqual({
      model: 'churn',
      window: { size: 1000 },
      drift: { shareThreshold: 0.5, features: { amount: { method: 'psi', threshold: 0.2 } } },
      performance: { metric: 'roc_auc', minimum: 0.75, window: 500 },
      schedule: { retrain: '0 3 * * 0' },
      actions: { onDrift: ['alert', 'retrain'], onDegraded: ['alert', 'rollback'], canary: { promoteAfter: 2000, rollbackIf: { errorRate: 0.02, roc_auc_drop: 0.03 }, percent: 10 } },
      alerts: { webhook: 'http://127.0.0.1:9999/hook', dedupe: '1h' },
    });
    expect(parsePolicyYaml(issue.replace('{size: 1000}', '{duration: 1h}')).window).toEqual({ duration: '1h' });
  });

  it('the example under examples/monitoring is the same policy', () => {
    const example = readFileSync(join(__dirname, '../../../../examples/monitoring/churn.policy.yaml'), 'utf8');
    expect(policySha256(parsePolicyYaml(example))).toBe(policySha256(parsePolicyYaml(issue)));
  });

  it('the hash ignores key order and formatting', () => {
    const reordered = parsePolicy({ alerts: { webhook: 'http://127.0.0.1:9999/hook' }, ...JSON.parse(JSON.stringify(parsePolicyYaml(issue))) });
    expect(policySha256(reordered)).toBe(policySha256(parsePolicyYaml(issue)));
  });

  it('names every bad field with its line and column', () => {
    const bad = issue
      .replace('method: psi', 'method: psy')
      .replace('"0 3 * * 0"', '"0 3 * * 9"')
      .replace('metric: roc_auc', 'metric: auroc')
      .replace('[alert, retrain]', '[alert, page]')
      .replace('roc_auc_drop', 'rocauc_drop')
      .replace('{size: 1000}', '{size: -5}');
    const err = errorOf(() => parsePolicyYaml(bad));
    expect(err.details.map((d) => d.path).sort()).toEqual(['actions.onDrift.1', 'drift.features.amount.method', 'window.size']);
    expect(err.message).toMatch(/policy\.yaml:3:\d+ drift\.features\.amount\.method: /);
    // Cross-field checks run once the shape is right.
    const semantic = errorOf(() => parsePolicyYaml(issue.replace('"0 3 * * 0"', '"0 3 * * 9"').replace('metric: roc_auc', 'metric: auroc').replace('roc_auc_drop', 'rocauc_drop')));
    expect(semantic.details.map((d) => d.path).sort()).toEqual(['actions.canary.rollbackIf.rocauc_drop', 'performance.metric', 'schedule.retrain']);
    expect(semantic.details.find((d) => d.path === 'schedule.retrain')?.message).toMatch(/not a valid cron expression/);
  });

  it('refuses unknown keys, the alert action without a webhook, onDegraded without performance', () => {
    expect(errorOf(() => parsePolicyYaml('model: churn\nwindw: {size: 5}\n')).details[0].message).toMatch(/unrecognized key/i);
    const err = errorOf(() => parsePolicy({ model: 'churn', actions: { onDrift: ['alert'], onDegraded: ['rollback'] } }));
    expect(err.details.map((d) => d.path).sort()).toEqual(['actions.onDegraded', 'alerts.webhook']);
    expect(errorOf(() => parsePolicy({ model: 'churn', alerts: { webhook: 'ftp://x/hook' } })).details[0].path).toBe('alerts.webhook');
    expect(errorOf(() => parsePolicyYaml('model: [')).message).toMatch(/YAML syntax error/);
  });
});
