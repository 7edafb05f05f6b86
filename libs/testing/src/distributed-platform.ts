import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { envKey, type ServiceName } from '@mlp/contracts';
import { freePort } from './free-port';
import { startNatsServer, type NatsServerAuth, type NatsServerHandle } from './nats-server';
import { spawnTs, waitForHttp, type SpawnedProcess } from './processes';
import { startS3Server, type RunningS3Server } from './s3-server';

export interface DistributedPlatformOptions {
  /** Names the temp dir and the S3 bucket (`s3://<prefix>`). */
  prefix: string;
  /** Settings for every process on top of the distributed defaults. */
  env?: NodeJS.ProcessEnv;
  /** NATS auth: the server demands it, and every service gets it (MLP_NATS_TOKEN, or MLP_NATS_USER/MLP_NATS_PASSWORD). */
  natsAuth?: NatsServerAuth;
}

export interface CallResult {
  status: number;
  headers: Headers;
  /** The JSON body, the text when it is not JSON, or undefined when empty. */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- each spec reads its own shape
}

export interface DistributedPlatform {
  nats: NatsServerHandle;
  s3: RunningS3Server;
  home: string;
  /** The env every service process gets (NATS transport, JetStream events, S3 artifacts, auth on). */
  env: NodeJS.ProcessEnv;
  /** The bootstrap admin key (MLP_ADMIN_KEY) every process accepts. */
  adminKey: string;
  ports: Record<string, number>;
  processes: Record<string, SpawnedProcess>;
  url(name: string, path: string): string;
  /**
   * Starts `service` as its own process under `name` and waits until it is
   * ready. A name started before keeps its HTTP port (a restart).
   */
  start(name: string, service: ServiceName, extra?: NodeJS.ProcessEnv): Promise<SpawnedProcess>;
  /** fetch with the admin key (or `init.headers` as given when they carry a key). */
  fetch(name: string, path: string, init?: RequestInit): Promise<Response>;
  /** A JSON (or `contentType`) request with a key; the body parsed. */
  call(name: string, method: string, path: string, body?: unknown, options?: { key?: string; contentType?: string }): Promise<CallResult>;
  /** Kills every process (SIGKILL), stops NATS and S3, removes the temp dir. */
  stop(): Promise<void>;
}

/**
 * The distributed mode for e2e specs: a real nats-server (commands, queries,
 * JetStream events) and s3rver (artifacts) started here, and each service
 * started as its own OS process with auth on (a random bootstrap admin key).
 */
export async function startDistributedPlatform(options: DistributedPlatformOptions): Promise<DistributedPlatform> {
  const [natsStarted, s3Started] = await Promise.allSettled([startNatsServer({ auth: options.natsAuth }), startS3Server()]);
  if (natsStarted.status === 'rejected' || s3Started.status === 'rejected') {
    if (natsStarted.status === 'fulfilled') await natsStarted.value.stop();
    if (s3Started.status === 'fulfilled') await s3Started.value.stop();
    throw natsStarted.status === 'rejected' ? natsStarted.reason : (s3Started as PromiseRejectedResult).reason;
  }
  const nats = natsStarted.value;
  const s3 = s3Started.value;
  const home = mkdtempSync(join(tmpdir(), `mlp-${options.prefix}-`));
  const adminKey = randomBytes(24).toString('hex');
  const env: NodeJS.ProcessEnv = {
    MLP_HOME: home,
    MLP_TRANSPORT: 'nats',
    NATS_URL: nats.url,
    EVENTSTORE_URL: nats.url,
    ARTIFACTS_URL: `s3://${options.prefix}`,
    S3_ENDPOINT: s3.endpoint,
    S3_ACCESS_KEY: s3.accessKey,
    S3_SECRET_KEY: s3.secretKey,
    LOG_LEVEL: 'warn',
    MLP_ADMIN_KEY: adminKey,
    ...natsAuthEnv(options.natsAuth),
    ...options.env,
  };
  const ports: Record<string, number> = {};
  const processes: Record<string, SpawnedProcess> = {};
  const url = (name: string, path: string) => `http://127.0.0.1:${ports[name]}${path}`;
  const withKey = (init: RequestInit = {}, key = adminKey): RequestInit => {
    const headers = new Headers(init.headers);
    if (!headers.has('x-api-key') && !headers.has('authorization')) headers.set('x-api-key', key);
    return { ...init, headers };
  };

  return {
    nats,
    s3,
    home,
    env,
    adminKey,
    ports,
    processes,
    url,
    async start(name, service, extra = {}) {
      ports[name] ??= await freePort();
      const child = spawnTs(`services/${service}/src/main.ts`, [], { ...env, [`MLP_${envKey(service)}_PORT`]: String(ports[name]), ...extra });
      processes[name] = child;
      await waitForHttp(url(name, '/health/ready'), { process: child, timeoutMs: 90_000 });
      return child;
    },
    fetch: (name, path, init) => globalThis.fetch(url(name, path), withKey(init)),
    async call(name, method, path, body, { key = adminKey, contentType = 'application/json' } = {}) {
      const res = await globalThis.fetch(url(name, path), withKey({
        method,
        headers: body === undefined ? {} : { 'content-type': contentType },
        body: body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? (body as string) : JSON.stringify(body),
      }, key));
      const text = await res.text();
      let parsed: unknown = undefined;
      if (text) {
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = text;
        }
      }
      return { status: res.status, headers: res.headers, body: parsed };
    },
    async stop() {
      await Promise.all(Object.values(processes).map((p) => p.kill('SIGKILL')));
      await Promise.all([nats.stop(), s3.stop()]);
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** The MLP_NATS_* variables a service reads for `auth`. */
export function natsAuthEnv(auth?: NatsServerAuth): NodeJS.ProcessEnv {
  if (!auth) return {};
  return 'token' in auth ? { MLP_NATS_TOKEN: auth.token } : { MLP_NATS_USER: auth.user, MLP_NATS_PASSWORD: auth.pass };
}

/** The services of the ingest → train → serve → monitor loop, each as its own process (serving without gRPC). */
export async function startLoopServices(platform: DistributedPlatform): Promise<void> {
  await Promise.all([
    platform.start('ingestion', 'ingestion'),
    platform.start('training', 'training'),
    platform.start('registry', 'registry'),
    platform.start('serving', 'serving', { MLP_SERVING_GRPC_PORT: '-1' }),
    platform.start('monitoring', 'monitoring'),
  ]);
}
