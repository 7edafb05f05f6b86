import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envKey, serviceNames, type ProjectionsReport } from '@mlp/contracts';
import { ProjectionCatalog } from '@mlp/service-kit';
import { freePort, runMlp, overrideEnv } from '@mlp/testing';
import { runDemo } from './commands/demo';
import { startEmbedded, type EmbeddedPlatform } from './embedded';

interface ReplayJson {
  equal: boolean;
  services: ProjectionsReport[];
}

/**
 * The whole pipeline (the demo: ingest → features → train → register → serve → monitor → retrain)
 * on the embedded platform in this process, then `mlp replay projections`: every read model of the
 * six services equals its rebuild from the log; a read model corrupted in place is reported.
 */
describe('mlp replay projections', () => {
  jest.setTimeout(600_000);
  let home: string;
  let env: NodeJS.ProcessEnv;
  let platform: EmbeddedPlatform;
  let restore: () => void;

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'mlp-replay-projections-'));
    env = { MLP_HOME: home, LOG_LEVEL: 'silent', EVENTSTORE_URL: '', ARTIFACTS_URL: '', MLP_TRANSPORT: '', MLP_AUTH: 'off' };
    for (const service of serviceNames) {
      env[`MLP_${envKey(service)}_PORT`] = String(await freePort());
      env[`MLP_${envKey(service)}_RPC_PORT`] = String(await freePort());
    }
    // The demo's client calls read the ports from process.env, like the CLI.
    restore = overrideEnv(env as Record<string, string>);
    platform = await startEmbedded({ ...process.env, ...env });
    await runDemo(home, false, () => undefined);
  });

  afterAll(async () => {
    await platform?.close();
    restore?.();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('finds every read model of the six services equal to its rebuild from an empty start', async () => {
    const run = await runMlp(['replay', 'projections', '--json'], env);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const report = JSON.parse(run.stdout) as ReplayJson;
    expect(report.equal).toBe(true);
    expect(report.services.map((s) => s.service)).toEqual([...serviceNames]);
    const names = report.services.flatMap((s) => s.projections.map((p) => p.name));
    expect(names).toEqual(
      expect.arrayContaining([
        'ingestion.datasets',
        'ingestion.jobs',
        'feature-store.views',
        'feature-store.model-dependents',
        'training.runs',
        'registry.models',
        'registry.lineage',
        'serving.models',
        'serving.deployments',
        'monitoring.alerts',
        'monitoring.monitors',
        'monitoring.policies',
        'monitoring.history',
      ]),
    );
    for (const p of report.services.flatMap((s) => s.projections)) {
      expect({ name: p.name, equal: p.equal, same: p.liveHash === p.rebuiltHash }).toEqual({ name: p.name, equal: true, same: true });
    }
    // The pipeline really ran: the rebuilds handled events in every service.
    for (const s of report.services) expect({ service: s.service, events: s.projections.reduce((n, p) => n + p.events, 0) > 0 }).toEqual({ service: s.service, events: true });

    const table = await runMlp(['replay', 'projections', '--service', 'registry'], env);
    expect(table.status).toBe(0);
    expect(table.stdout).toMatch(/registry\s+registry\.lineage\s+\d+\s+\d+\s+\d+\s+yes/);
    expect(table.stdout).toContain('all 2 read models equal their rebuild from the log');
  });

  it('reports a live read model corrupted in place, with the differing path, and exits 3', async () => {
    const training = platform.services.find((s) => s.service === 'training')!;
    const live = training.app.get(ProjectionCatalog).live('training.runs')!;
    const runs = (live.projection as unknown as { runs: Map<string, { status: string }> }).runs;
    const [runId, run] = [...runs.entries()].sort(([a], [b]) => a.localeCompare(b))[0];
    const status = run.status;
    const path = /^[A-Za-z_$][\w$]*$/.test(runId) ? `runs.${runId}.status` : `runs[${JSON.stringify(runId)}].status`;
    run.status = 'tampered';
    try {
      const json = await runMlp(['replay', 'projections', '--service', 'training', '--json'], env);
      expect(json.status).toBe(3);
      const report = JSON.parse(json.stdout) as ReplayJson;
      expect(report.equal).toBe(false);
      const check = report.services[0].projections.find((p) => p.name === 'training.runs')!;
      expect(check.equal).toBe(false);
      expect(check.diff).toEqual([{ path, live: '"tampered"', rebuilt: JSON.stringify(status) }]);

      const text = await runMlp(['replay', 'projections', '--service', 'training'], env);
      expect(text.status).toBe(3);
      expect(text.stdout).toContain('training training.runs: live read model differs from its rebuild at');
      expect(text.stdout).toContain(`${path}: live "tampered", rebuilt ${JSON.stringify(status)}`);
    } finally {
      run.status = status;
    }
    // Restored, it equals its rebuild again (checked in process: one CLI start less).
    const after = await training.app.get(ProjectionCatalog).verify();
    expect(after.find((p) => p.name === 'training.runs')).toMatchObject({ equal: true });
  });

  /** A path as the diff names it: `a.b`, `a["x-y"]`, `a[0]`. */
  const member = (path: string, key: string | number) =>
    typeof key === 'number' ? `${path}[${key}]` : /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`;
  const sortedKeys = <K extends string>(map: Map<K, unknown>) => [...map.keys()].sort((a, b) => a.localeCompare(b));

  /**
   * One entry of the read model set to `tampered` in place: how to find it in
   * the live read model, its path in the diff, and how to put it back.
   */
  const tamperings: { service: 'serving' | 'feature-store'; name: string; what: string; tamper(projection: unknown): { path: string; was: unknown; restore(): void } }[] = [
    {
      service: 'serving',
      name: 'serving.models',
      what: 'the version an alias holds (what routes follow)',
      tamper(projection) {
        const models = (projection as { served: { models: Map<string, { aliases: Map<string, number> }> } }).served.models;
        const name = sortedKeys(models).find((n) => models.get(n)!.aliases.size > 0)!;
        const aliases = models.get(name)!.aliases;
        const alias = sortedKeys(aliases)[0];
        const was = aliases.get(alias)!;
        aliases.set(alias, 9999);
        return { path: member(member(member('models', name), 'aliases'), alias), was, restore: () => aliases.set(alias, was) };
      },
    },
    {
      service: 'serving',
      name: 'serving.deployments',
      what: "a model's rollout state",
      tamper(projection) {
        const states = (projection as { states: Map<string, { state: { status: string } }> }).states;
        const model = sortedKeys(states)[0];
        const entry = states.get(model)!;
        const was = entry.state.status;
        entry.state = { ...entry.state, status: 'tampered' };
        return { path: member(member(member('deployments', model), 'state'), 'status'), was, restore: () => (entry.state = { ...entry.state, status: was }) };
      },
    },
    {
      service: 'feature-store',
      name: 'feature-store.views',
      what: "a materialization's row count (materializations are recorded on the view's stream and folded into this read model)",
      tamper(projection) {
        const views = (projection as { views: Map<string, { status: string; materializations?: { rows: number }[] }> }).views;
        const name = sortedKeys(views).find((n) => (views.get(n)!.materializations?.length ?? 0) > 0)!;
        const materialization = views.get(name)!.materializations![0];
        const was = materialization.rows;
        materialization.rows = -1;
        return { path: member(member(member('views', name), 'materializations'), 0) + '.rows', was, restore: () => (materialization.rows = was) };
      },
    },
  ];

  it.each(tamperings.map((t) => [t.name, t] as const))('reports %s tampered in place (%#), with the differing path, and exits 3', async (_name, t) => {
    const app = platform.services.find((s) => s.service === t.service)!.app;
    const live = app.get(ProjectionCatalog).live(t.name)!;
    expect(live).toBeDefined();
    const { path, was, restore } = t.tamper(live.projection);
    const tampered = path.endsWith('.rows') ? '-1' : path.endsWith('.status') ? '"tampered"' : '9999';
    try {
      const json = await runMlp(['replay', 'projections', '--service', t.service, '--json'], env);
      expect(json.status).toBe(3);
      const report = JSON.parse(json.stdout) as ReplayJson;
      const checks = report.services[0].projections;
      // Only the tampered read model differs, at exactly that path.
      expect(checks.filter((p) => !p.equal).map((p) => p.name)).toEqual([t.name]);
      expect(checks.find((p) => p.name === t.name)!.diff).toEqual([{ path, live: tampered, rebuilt: JSON.stringify(was) }]);
      console.log(`${t.name}: ${t.what} tampered → reported at ${path} (live ${tampered}, rebuilt ${JSON.stringify(was)})`);
    } finally {
      restore();
    }
    expect((await app.get(ProjectionCatalog).verify()).find((p) => p.name === t.name)).toMatchObject({ equal: true });
  });
});
