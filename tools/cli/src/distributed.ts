import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { serviceNames, type ServiceName } from '@mlp/contracts';
import { serviceUrl } from './api';
import { startLocalNats, startLocalS3, type LocalNats, type LocalS3 } from './local-infra';

const repoRoot = join(__dirname, '..', '..', '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The bucket of the s3rver `mlp up --distributed` starts (and the default with S3_ENDPOINT). */
export const DEFAULT_BUCKET = 'mlp';

/** Where events, messages and artifacts live, and which of them this command has to start. */
export interface DistributedPlan {
  home: string;
  /** undefined: start a nats-server here. */
  natsUrl?: string;
  /** undefined: JetStream on the NATS server. */
  eventStoreUrl?: string;
  /** `start-s3rver`: start one here (or fall back to files when s3rver is not installed). */
  artifacts: { url: string } | 'start-s3rver';
  /** The bootstrap admin key: MLP_ADMIN_KEY, else generated (then printed once). */
  adminKey: string;
  generatedKey: boolean;
}

/**
 * What `mlp up --distributed` uses, from the environment: NATS_URL (else a
 * nats-server started here), EVENTSTORE_URL (else JetStream on that server),
 * S3_ENDPOINT with ARTIFACTS_URL (default s3://mlp) or an explicit
 * ARTIFACTS_URL (else an s3rver started here), MLP_ADMIN_KEY (else generated).
 * Empty variables count as unset.
 */
export function planDistributed(env: NodeJS.ProcessEnv, newKey: () => string = () => randomBytes(24).toString('hex')): DistributedPlan {
  const get = (name: string) => env[name]?.trim() || undefined;
  const artifactsUrl = get('ARTIFACTS_URL');
  return {
    home: resolve(get('MLP_HOME') ?? '.mlp'),
    natsUrl: get('NATS_URL'),
    eventStoreUrl: get('EVENTSTORE_URL'),
    artifacts: get('S3_ENDPOINT') ? { url: artifactsUrl ?? `s3://${DEFAULT_BUCKET}` } : artifactsUrl ? { url: artifactsUrl } : 'start-s3rver',
    adminKey: get('MLP_ADMIN_KEY') ?? newKey(),
    generatedKey: !get('MLP_ADMIN_KEY'),
  };
}

export interface ServiceProcess {
  service: ServiceName;
  url: string;
  pid: number;
  log: string;
}

export interface DistributedPlatform {
  services: ServiceProcess[];
  home: string;
  logs: string;
  eventStoreUrl: string;
  natsUrl: string;
  artifactsUrl: string;
  /** How the infrastructure came to be, one line each (started here, given, or the file fallback). */
  infrastructure: string[];
  /** pid of the nats-server started here. */
  natsPid?: number;
  adminKey: string;
  generatedKey: boolean;
  /** Stops the services (SIGTERM, then SIGKILL after 15 s), then the nats-server and s3rver started here. */
  close(): Promise<void>;
}

/**
 * `mlp up --distributed`: each service as its own OS process (NATS
 * transport, JetStream events and KV, S3 artifacts, auth on), its output in
 * MLP_HOME/logs/<service>.log, ready when every /health/ready answers 200.
 * Missing infrastructure is started here (see {@link planDistributed}).
 */
export async function startDistributed(env: NodeJS.ProcessEnv = process.env, options: { readyTimeoutMs?: number } = {}): Promise<DistributedPlatform> {
  const plan = planDistributed(env);
  const logs = join(plan.home, 'logs');
  mkdirSync(logs, { recursive: true });
  const stops: (() => Promise<void>)[] = [];
  const children: ChildProcess[] = [];
  const infrastructure: string[] = [];
  let nats: LocalNats | undefined;
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    process.removeListener('exit', killOnExit);
    await Promise.all(children.map((c) => stopChild(c)));
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  // The last resort when the CLI exits without close(): no process it started is left behind.
  const killOnExit = () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    if (nats && nats.process.exitCode === null) nats.process.kill('SIGKILL');
  };
  process.on('exit', killOnExit);
  // A Ctrl-C while starting: what started so far stops too (the services are detached, the terminal's signal misses them).
  const interrupted = (signal: NodeJS.Signals) => void close().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  const startedUp = () => {
    process.removeListener('SIGINT', interrupted);
    process.removeListener('SIGTERM', interrupted);
  };

  try {
    let natsUrl = plan.natsUrl;
    const natsEnv: NodeJS.ProcessEnv = {};
    if (natsUrl) infrastructure.push(`NATS: ${natsUrl} (NATS_URL)`);
    else {
      nats = await startLocalNats(plan.home);
      stops.push(nats.stop);
      natsUrl = nats.url;
      natsEnv.MLP_NATS_TOKEN = nats.token;
      infrastructure.push(`NATS: ${natsUrl} (nats-server -js started here, pid ${nats.pid}, token auth; JetStream store removed on exit)`);
    }
    const eventStoreUrl = plan.eventStoreUrl ?? natsUrl;
    infrastructure.push(`events: ${eventStoreUrl}${plan.eventStoreUrl ? ' (EVENTSTORE_URL)' : ' (JetStream)'}`);

    const artifactsEnv: NodeJS.ProcessEnv = {};
    let artifactsUrl: string;
    if (plan.artifacts !== 'start-s3rver') {
      artifactsUrl = plan.artifacts.url;
      infrastructure.push(`artifacts: ${artifactsUrl}${env.S3_ENDPOINT ? ` on ${env.S3_ENDPOINT} (S3_ENDPOINT)` : ' (ARTIFACTS_URL)'}`);
    } else {
      const s3: LocalS3 | undefined = await startLocalS3(plan.home, DEFAULT_BUCKET);
      if (s3) {
        stops.push(s3.stop);
        artifactsUrl = `s3://${s3.bucket}`;
        Object.assign(artifactsEnv, { S3_ENDPOINT: s3.endpoint, S3_ACCESS_KEY: s3.accessKey, S3_SECRET_KEY: s3.secretKey });
        infrastructure.push(`artifacts: ${artifactsUrl} on ${s3.endpoint} (s3rver started here; objects removed on exit)`);
      } else {
        artifactsUrl = `file://${join(plan.home, 'artifacts')}`;
        infrastructure.push(
          `artifacts: ${artifactsUrl} — s3rver is not installed (a devDependency), so the services share files under MLP_HOME; ` +
            'set S3_ENDPOINT, S3_ACCESS_KEY and S3_SECRET_KEY (and ARTIFACTS_URL=s3://bucket) for S3 or MinIO',
        );
      }
    }

    const childEnv: NodeJS.ProcessEnv = {
      ...env,
      MLP_HOME: plan.home,
      MLP_TRANSPORT: 'nats',
      NATS_URL: natsUrl,
      EVENTSTORE_URL: eventStoreUrl,
      ARTIFACTS_URL: artifactsUrl,
      MLP_ADMIN_KEY: plan.adminKey,
      // Everything runs on loopback here, the demo's alert receiver too (distributed mode allows no webhook host by default).
      MLP_WEBHOOK_ALLOW: env.MLP_WEBHOOK_ALLOW || '127.0.0.0/8,::1',
      ...natsEnv,
      ...artifactsEnv,
    };
    const services = serviceNames.map((service) => {
      const log = join(logs, `${service}.log`);
      const fd = openSync(log, 'a');
      try {
        const child = spawn(process.execPath, ['-r', join(repoRoot, 'tools/scripts/register.js'), join(__dirname, 'service-process.ts'), service], {
          cwd: repoRoot,
          env: childEnv,
          stdio: ['ignore', fd, fd, 'ipc'],
          detached: true, // Ctrl-C reaches the CLI only; it stops the services before the broker
        });
        children.push(child);
        return { service, url: serviceUrl(service, childEnv), pid: child.pid ?? -1, log, child };
      } finally {
        closeSync(fd);
      }
    });
    await Promise.all(services.map((s) => waitReady(s, options.readyTimeoutMs ?? 180_000)));
    startedUp();
    return {
      services: services.map(({ child: _child, ...s }) => s),
      home: plan.home,
      logs,
      eventStoreUrl,
      natsUrl,
      artifactsUrl,
      infrastructure,
      natsPid: nats?.pid,
      adminKey: plan.adminKey,
      generatedKey: plan.generatedKey,
      close,
    };
  } catch (err) {
    startedUp();
    await close();
    throw err;
  }
}

/** Polls `/health/ready` until 200; fails with the end of the service's log when it exits or takes too long. */
async function waitReady(s: { service: ServiceName; url: string; log: string; child: ChildProcess }, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const tail = () => readFileSync(s.log, 'utf8').slice(-3000);
  for (;;) {
    if (s.child.exitCode !== null || s.child.signalCode !== null) {
      throw new Error(`${s.service} exited (${s.child.exitCode ?? s.child.signalCode}) before it was ready; the end of ${s.log}:\n${tail()}`);
    }
    try {
      if ((await fetch(`${s.url}/health/ready`, { signal: AbortSignal.timeout(5_000) })).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${s.service} not ready at ${s.url}/health/ready within ${timeoutMs / 1000} s; the end of ${s.log}:\n${tail()}`);
    await sleep(200);
  }
}

/** SIGTERM (the service closes and exits), SIGKILL when it has not exited 15 s later. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([exited, new Promise((r) => (timer = setTimeout(r, 15_000)))]);
  clearTimeout(timer);
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await exited;
  }
}
