import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { freePort, repoRoot, waitForHttp } from '@mlp/testing';

/** A service built to plain JavaScript boots with `node dist/...` alone. */
describe('built service', () => {
  jest.setTimeout(90_000);

  it('builds the registry to dist/ and serves it with plain node', async () => {
    const build = spawnSync(process.execPath, [join(repoRoot, 'tools/scripts/build.mjs'), 'services/registry'], { cwd: repoRoot, encoding: 'utf8' });
    expect(build.status).toBe(0);
    const [http, rpc] = [await freePort(), await freePort()];
    const child = spawn(process.execPath, [join(repoRoot, 'dist/services/registry/src/main.js')], {
      cwd: repoRoot,
      env: { ...process.env, EVENTSTORE_URL: 'memory://', MLP_REGISTRY_PORT: String(http), MLP_REGISTRY_RPC_PORT: String(rpc), LOG_LEVEL: 'warn' },
      stdio: 'ignore',
    });
    try {
      await waitForHttp(`http://127.0.0.1:${http}/health/ready`, { timeoutMs: 30_000 });
      const res = await fetch(`http://127.0.0.1:${http}/models`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'built' }),
      });
      expect(res.status).toBe(201);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
