import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '@mlp/testing';

const run = promisify(execFile);
const dir = join(repoRoot, 'deploy', 'prometheus');

/** deploy/prometheus checked by promtool (Debian's `prometheus` package, installed by .ci/run). */
describe('deploy/prometheus', () => {
  jest.setTimeout(60_000);
  const promtool = (...args: string[]) => run('promtool', args, { cwd: dir });

  it('the scrape config is valid and loads its rule files', async () => {
    const { stdout } = await promtool('check', 'config', 'prometheus.yml');
    expect(stdout).toMatch(/SUCCESS: 1 rule files found/);
    expect(stdout).toMatch(/SUCCESS: prometheus\.yml is valid prometheus config file syntax/);
  });

  it('the alerting rules are valid', async () => {
    const { stdout } = await promtool('check', 'rules', 'rules/mlp-alerts.yml');
    expect(stdout).toMatch(/SUCCESS: 10 rules found/);
  });

  it('the rules fire as their unit tests expect (service down, 5xx rate, a stalled process manager)', async () => {
    const { stdout } = await promtool('test', 'rules', 'rules/mlp-alerts.test.yml');
    expect(stdout).toMatch(/SUCCESS/);
  });

  it('a broken rule is refused (the check is real)', async () => {
    const bad = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = execFile('promtool', ['check', 'rules', '/dev/stdin'], (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }));
      child.stdin!.end('groups:\n  - name: x\n    rules:\n      - alert: Broken\n        expr: sum(rate(x[5m]) >\n');
    });
    expect(bad.code).not.toBe(0);
    expect(bad.out).toMatch(/FAILED|error/i);
  });
});
