import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envKey, serviceNames, type RegisteredModelView, type ServiceName } from '@mlp/contracts';
import { eventually, freePort, repoRoot, spawnTs, waitForHttp, type SpawnedProcess } from '@mlp/testing';

/** `mlp up --no-demo` (what `npm start -- --no-demo` runs): one process, six apps, no infrastructure. */
describe('embedded platform (mlp up)', () => {
  jest.setTimeout(90_000);
  let home: string;
  let env: NodeJS.ProcessEnv;
  let platform: SpawnedProcess;
  const ports = {} as Record<ServiceName, number>;
  const url = (service: ServiceName, path: string) => `http://127.0.0.1:${ports[service]}${path}`;

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'mlp-embedded-'));
    env = { MLP_HOME: home, LOG_LEVEL: 'warn', EVENTSTORE_URL: '', ARTIFACTS_URL: '', MLP_TRANSPORT: '' };
    for (const service of serviceNames) {
      ports[service] = await freePort();
      env[`MLP_${envKey(service)}_PORT`] = String(ports[service]);
      env[`MLP_${envKey(service)}_RPC_PORT`] = String(await freePort());
    }
    platform = spawnTs('tools/cli/src/main.ts', ['up', '--no-demo'], env);
    await Promise.all(serviceNames.map((s) => waitForHttp(url(s, '/health/ready'), { process: platform, timeoutMs: 60_000 })));
  });

  afterAll(async () => {
    await platform?.kill('SIGKILL');
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('answers ready on all six ports with SQLite events and files under MLP_HOME', async () => {
    for (const service of serviceNames) {
      const body = (await (await fetch(url(service, '/health/ready'))).json()) as { status: string };
      expect(body.status).toBe('ok');
    }
    expect(existsSync(join(home, 'events.db'))).toBe(true);
  });

  it('prints the dashboard URL, and the page is there', async () => {
    const printed = await eventually(async () => /dashboard: (http:\/\/\S+)/.exec(platform.output())?.[1], 30_000, 'the dashboard line');
    expect(printed).toBe(url('monitoring', '/'));
    const page = await fetch(printed);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('/dashboard/app.js');
  });

  it('runs the slice over the TCP transport and the CLI sees it', async () => {
    const res = await fetch(url('registry', '/models'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'embedded-model', description: 'via http' }),
    });
    expect(res.status).toBe(201);
    const monitor = await eventually(async () => {
      const r = await fetch(url('monitoring', '/monitors/embedded-model'));
      return r.ok && ((await r.json()) as { model: string; registeredModel: RegisteredModelView });
    });
    expect(monitor.model).toBe('embedded-model');
    expect(monitor.registeredModel.description).toBe('via http');

    const cli = (...args: string[]) =>
      spawnSync(process.execPath, [join(repoRoot, 'tools/cli/bin/mlp.js'), ...args], { cwd: repoRoot, env: { ...process.env, ...env }, encoding: 'utf8' });
    const created = cli('models', 'create', 'cli-model', '--tag', 'team=ml', '--json');
    expect(created.status).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ name: 'cli-model', tags: { team: 'ml' } });
    const listed = cli('models', '--json');
    expect((JSON.parse(listed.stdout) as RegisteredModelView[]).map((m) => m.name)).toEqual(['cli-model', 'embedded-model']);
    const invalid = cli('models', 'create', 'bad name');
    expect(invalid.status).toBe(1);
    expect(invalid.stderr).toContain('name: use letters, digits, _ and -');
  });

  it('tells the user how to start the platform when nothing runs', () => {
    const r = spawnSync(process.execPath, [join(repoRoot, 'tools/cli/bin/mlp.js'), 'models'], {
      cwd: repoRoot,
      env: { ...process.env, MLP_REGISTRY_URL: 'http://127.0.0.1:1' },
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('npm start');
  });

  it('stops cleanly on SIGTERM', async () => {
    expect(await platform.kill('SIGTERM')).toBe(0);
  });
});
