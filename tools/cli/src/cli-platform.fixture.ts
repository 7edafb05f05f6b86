import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envKey, serviceNames } from '@mlp/contracts';
import { freePort, repoRoot } from '@mlp/testing';
import { startEmbedded, type EmbeddedPlatform } from './embedded';

export type MlpRun = { status: number | null; stdout: string; stderr: string };

/** `mlp …` as a child process (asynchronously: the platform answers from this process). */
export function mlp(args: string[], env: NodeJS.ProcessEnv): Promise<MlpRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(repoRoot, 'tools/cli/bin/mlp.js'), ...args], { cwd: repoRoot, env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/**
 * The environment of a CLI on another machine: its own MLP_HOME (empty, not
 * the platform's) and no embedded ports, only MLP_<SERVICE>_URL pointing at
 * the platform. Anything it writes must come over HTTP.
 */
export function remoteCliEnv(env: NodeJS.ProcessEnv, home: string): NodeJS.ProcessEnv {
  const remote: NodeJS.ProcessEnv = { ...env, MLP_HOME: home, ARTIFACTS_URL: '', EVENTSTORE_URL: '' };
  for (const service of serviceNames) {
    remote[`MLP_${envKey(service)}_URL`] = `http://127.0.0.1:${env[`MLP_${envKey(service)}_PORT`]}`;
    remote[`MLP_${envKey(service)}_PORT`] = '1'; // nothing listens there: only the URL reaches the platform
  }
  return remote;
}

export interface CliPlatform {
  home: string;
  /** The environment a CLI child process needs to reach this platform. */
  env: NodeJS.ProcessEnv;
  platform: EmbeddedPlatform;
  close(): Promise<void>;
}

/**
 * The embedded platform in this process on free ports, data in a temp home.
 * The feature store reads its online store URL from process.env: it is set
 * to the temp home for the platform's lifetime and restored on close.
 * `extraEnv` goes to the platform and the CLI (e.g. MLP_AUTH, MLP_ADMIN_KEY).
 */
export async function startCliPlatform(prefix: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<CliPlatform> {
  const home = mkdtempSync(join(tmpdir(), `mlp-cli-${prefix}-`));
  const env: NodeJS.ProcessEnv = { MLP_HOME: home, LOG_LEVEL: 'silent', EVENTSTORE_URL: '', ARTIFACTS_URL: '', MLP_TRANSPORT: '', MLP_PROGRESS: '0' };
  for (const service of serviceNames) {
    env[`MLP_${envKey(service)}_PORT`] = String(await freePort());
    env[`MLP_${envKey(service)}_RPC_PORT`] = String(await freePort());
    env[`MLP_${envKey(service)}_URL`] = ''; // an inherited override would point the CLI elsewhere
  }
  Object.assign(env, extraEnv);
  const previousOnlineStore = process.env.MLP_ONLINE_STORE_URL;
  process.env.MLP_ONLINE_STORE_URL = `sqlite://${join(home, 'online.db')}`;
  const platform = await startEmbedded({ ...process.env, ...env });
  return {
    home,
    env,
    platform,
    async close() {
      await platform.close();
      if (previousOnlineStore === undefined) delete process.env.MLP_ONLINE_STORE_URL;
      else process.env.MLP_ONLINE_STORE_URL = previousOnlineStore;
      rmSync(home, { recursive: true, force: true });
    },
  };
}
