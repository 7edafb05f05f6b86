import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDuck, pathLiteral } from '@mlp/duckdb';
import { featureDrift } from '@mlp/ml';
import { repoRoot } from '@mlp/testing';

/**
 * `mlp drift` as a child process on real CSV and Parquet files read by DuckDB: the KS
 * numbers of a numeric column are scipy's (from the committed fixtures), the other
 * columns agree with the library on the same values.
 */
type Run = { status: number | null; stdout: string; stderr: string };
function mlp(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'tools/cli/bin/mlp.js'), ...args], { cwd: repoRoot, env: { ...process.env, LOG_LEVEL: 'warn' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

interface FixtureCase {
  id: string;
  reference: number[];
  current: number[];
  methods: Record<string, { statistic: number; pValue: number | null }>;
}
const fixtures = JSON.parse(readFileSync(join(repoRoot, 'tools/drift-reference/fixtures.json'), 'utf8')) as { cases: FixtureCase[] };
const ks = fixtures.cases.find((c) => c.id === 'ks-small-normal') as FixtureCase;

const plans = ['basic', 'pro', 'team'];
const refPlan = ks.reference.map((_, i) => plans[i % 3]);
const curPlan = ks.current.map((_, i) => plans[i % 5 === 0 ? 2 : i % 2]);
const refFlag = ks.reference.map((_, i) => (i % 4 === 0 ? 1 : 0));
const curFlag = ks.current.map((_, i) => (i % 2 === 0 ? 1 : 0));

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mlp-drift-cli-'));
  const csv = (amount: number[], plan: string[], flag: number[]) =>
    ['amount,plan,flag', ...amount.map((a, i) => `${a},${plan[i]},${flag[i]}`)].join('\n') + '\n';
  writeFileSync(join(dir, 'reference.csv'), csv(ks.reference, refPlan, refFlag));
  writeFileSync(join(dir, 'current.csv'), csv(ks.current, curPlan, curFlag));
  const duck = await openDuck(join(dir, 'duck'));
  try {
    await duck.run(`COPY (SELECT * FROM read_csv_auto(${pathLiteral(join(dir, 'current.csv'))})) TO ${pathLiteral(join(dir, 'current.parquet'))} (FORMAT parquet)`);
  } finally {
    duck.close();
  }
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const close = (actual: number, expected: number) => expect(Math.abs(actual - expected) / Math.abs(expected)).toBeLessThan(1e-6);

describe('mlp drift', () => {
  it('--json prints exactly the report shape, with scipy KS numbers and the library on the other columns', async () => {
    const r = await mlp(['drift', '--reference', join(dir, 'reference.csv'), '--current', join(dir, 'current.parquet'), '--json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(Object.keys(report)).toEqual(['features', 'driftShare', 'datasetDrift']);
    for (const f of report.features) expect(Object.keys(f)).toEqual(['name', 'method', 'statistic', 'pValue', 'threshold', 'drifted']);
    expect(report.features.map((f: { name: string; method: string }) => [f.name, f.method])).toEqual([
      ['amount', 'ks'],
      ['plan', 'chisquare'],
      ['flag', 'ztest'],
    ]);
    const [amount, plan, flag] = report.features;
    close(amount.statistic, ks.methods.ks.statistic);
    close(amount.pValue, ks.methods.ks.pValue as number);
    expect(amount.drifted).toBe(amount.pValue <= 0.05);
    const libPlan = featureDrift('plan', refPlan, curPlan);
    expect(plan).toEqual({ name: 'plan', method: 'chisquare', statistic: libPlan.statistic, pValue: libPlan.pValue, threshold: 0.05, drifted: libPlan.drifted });
    const libFlag = featureDrift('flag', Float64Array.from(refFlag), Float64Array.from(curFlag));
    expect(flag).toMatchObject({ statistic: libFlag.statistic, pValue: libFlag.pValue, drifted: libFlag.drifted });
    const drifted = report.features.filter((f: { drifted: boolean }) => f.drifted).length;
    expect(report.driftShare).toBe(drifted / 3);
    expect(report.datasetDrift).toBe(drifted / 3 >= 0.5);
  }, 60_000);

  it('--columns and --method pick the columns and override a method and threshold', async () => {
    const r = await mlp(['drift', '--reference', join(dir, 'reference.csv'), '--current', join(dir, 'current.csv'), '--columns', 'amount', '--method', 'amount=psi:0.2', '--json']);
    expect(r.status).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.features).toHaveLength(1);
    expect(report.features[0]).toMatchObject({ name: 'amount', method: 'psi', threshold: 0.2, pValue: null });
    close(report.features[0].statistic, ks.methods.psi.statistic);
  }, 60_000);

  it('distance methods print the distance as statistic and a null pValue, under the issue\'s method names', async () => {
    const runs = [
      { amount: 'wasserstein', plan: 'jensenshannon', flag: 'kl' },
      { amount: 'anderson', plan: 'hellinger', flag: 'psi' },
    ];
    for (const methods of runs) {
      const args = Object.entries(methods).flatMap(([c, m]) => ['--method', `${c}=${m}`]);
      const r = await mlp(['drift', '--reference', join(dir, 'reference.csv'), '--current', join(dir, 'current.csv'), ...args, '--json']);
      expect(r.status).toBe(0);
      const report = JSON.parse(r.stdout);
      for (const f of report.features) expect(Object.keys(f)).toEqual(['name', 'method', 'statistic', 'pValue', 'threshold', 'drifted']);
      const lib = {
        amount: featureDrift('amount', Float64Array.from(ks.reference), Float64Array.from(ks.current), { method: methods.amount as never }),
        plan: featureDrift('plan', refPlan, curPlan, { method: methods.plan as never }),
        flag: featureDrift('flag', Float64Array.from(refFlag), Float64Array.from(curFlag), { method: methods.flag as never }),
      };
      for (const f of report.features as { name: keyof typeof lib; method: string; statistic: number; pValue: number | null }[]) {
        expect(f.method).toBe(methods[f.name]);
        expect(f.pValue).toBe(methods[f.name] === 'anderson' ? lib[f.name].pValue : null);
        close(f.statistic, lib[f.name].statistic);
      }
      close(report.features[0].statistic, ks.methods[methods.amount].statistic);
    }
  }, 120_000);

  it('prints a table by default, and refuses bad input with a message and no stack', async () => {
    const table = await mlp(['drift', '--reference', join(dir, 'reference.csv'), '--current', join(dir, 'current.csv')]);
    expect(table.status).toBe(0);
    expect(table.stdout).toMatch(/column\s+method\s+statistic\s+p-value\s+threshold\s+drift/i);
    expect(table.stdout).toMatch(/of 3 columns drifted .*dataset drift/);
    const unknown = await mlp(['drift', '--reference', join(dir, 'reference.csv'), '--current', join(dir, 'current.csv'), '--method', 'amount=magic']);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown method 'magic'/);
    const missing = await mlp(['drift', '--reference', join(dir, 'reference.csv'), '--current', join(dir, 'current.csv'), '--columns', 'nope']);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/column 'nope' is not in/);
    expect(missing.stderr).not.toMatch(/\n\s+at /);
    const categoricalKs = await mlp(['drift', '--reference', join(dir, 'reference.csv'), '--current', join(dir, 'current.csv'), '--method', 'plan=ks']);
    expect(categoricalKs.status).toBe(2);
    expect(categoricalKs.stderr).toMatch(/needs a numeric column/);
  }, 60_000);
});
