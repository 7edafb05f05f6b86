import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValidationError } from '@mlp/contracts';
import { startService } from '@mlp/service-kit';
import { freePort } from '@mlp/testing';
import { trainingService } from './index';

/** Starting the training service with bad settings fails at once with INVALID_CONFIG naming each variable. */
describe('training service start-up with bad settings', () => {
  let home: string;
  let env: NodeJS.ProcessEnv;

  beforeEach(async () => {
    home = mkdtempSync(join(tmpdir(), 'mlp-train-config-'));
    env = { MLP_HOME: home, LOG_LEVEL: 'silent', MLP_TRAINING_PORT: String(await freePort()), MLP_TRAINING_RPC_PORT: String(await freePort()) };
  });
  afterEach(() => rmSync(home, { recursive: true, force: true }));

  async function startError(start: () => Promise<unknown>): Promise<ValidationError> {
    let started: { close(): Promise<void> } | undefined;
    try {
      started = (await start()) as { close(): Promise<void> };
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      return err as ValidationError;
    }
    await started?.close();
    throw new Error('expected the training service not to start');
  }

  it('refuses a DuckDB memory limit that is not a size', async () => {
    const err = await startError(() => startService(trainingService, { env: { ...env, MLP_DUCKDB_MEMORY_LIMIT: 'lots' } }));
    expect(err.code).toBe('INVALID_CONFIG');
    expect(err.message).toContain('MLP_DUCKDB_MEMORY_LIMIT: expected a size with a unit, e.g. 1GB, 512MB or 2GiB, got "lots"');
    expect(err.details.map((d) => d.path)).toEqual(['MLP_DUCKDB_MEMORY_LIMIT']);
  });

  it("refuses bad values of training's own settings, read from process.env, naming every variable", async () => {
    const bad = { MLP_TRAINING_WORKERS: '-1', MLP_TRIAL_ACK_WAIT_MS: 'soon', MLP_DUCKDB_MEMORY_LIMIT: '1KB' };
    const saved = Object.fromEntries(Object.keys(bad).map((k) => [k, process.env[k]]));
    Object.assign(process.env, bad);
    try {
      // The base settings (env) are fine; the training module reads its own from process.env.
      const err = await startError(() => startService(trainingService, { env }));
      expect(err.code).toBe('INVALID_CONFIG');
      expect(err.details.map((d) => d.path).sort()).toEqual(['MLP_DUCKDB_MEMORY_LIMIT', 'MLP_TRAINING_WORKERS', 'MLP_TRIAL_ACK_WAIT_MS']);
      expect(err.message).toMatch(/MLP_DUCKDB_MEMORY_LIMIT: expected at least 32MB .*got "1KB"/);
      expect(err.message).toMatch(/MLP_TRIAL_ACK_WAIT_MS: .*got "soon"/);
      // A coordinator-only instance on the in-process queue would never run a trial.
      Object.assign(process.env, { MLP_TRAINING_WORKERS: '0', MLP_TRIAL_ACK_WAIT_MS: '1000', MLP_DUCKDB_MEMORY_LIMIT: '1GB' });
      const coordinatorOnly = await startError(() => startService(trainingService, { env }));
      expect(coordinatorOnly.code).toBe('INVALID_CONFIG');
      expect(coordinatorOnly.details).toEqual([{ path: 'MLP_TRAINING_WORKERS', message: expect.stringMatching(/needs a shared trial queue \(MLP_TRIAL_QUEUE=jetstream\)/) }]);
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
