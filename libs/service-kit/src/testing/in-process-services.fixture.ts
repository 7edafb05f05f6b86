import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FsArtifactStore } from '@mlp/artifacts';
import { envKey, serviceNames, type ServiceName } from '@mlp/contracts';
import { SqliteEventStore } from '@mlp/eventstore';
import { MessagingModule, MLP_CLIENT, type MlpClient } from '@mlp/messaging';
import { freePort, startNatsServer, type NatsServerHandle } from '@mlp/testing';
import { baseConfigSchema, type BaseConfig } from '../config/service-config';
import { loadConfig } from '../config/load-config';
import { startService, type ServiceDefinition, type StartedService } from '../platform/start-service';

export interface InProcessServices {
  dir: string;
  config: BaseConfig;
  store: SqliteEventStore;
  artifacts: FsArtifactStore;
  /** Started services, in the order given. */
  services: StartedService[];
  close(): Promise<void>;
}

/**
 * Services in this process on free ports (embedded mode: TCP transport),
 * sharing a SQLite event store and a file artifact store in a temp dir.
 * `env` is the services' environment; `processEnv` is set on process.env
 * for their lifetime (services that read their own settings from there) and
 * restored on close.
 */
export async function startInProcessServices(
  definitions: ServiceDefinition[],
  options: { prefix: string; env?: NodeJS.ProcessEnv; processEnv?: (dir: string) => Record<string, string> },
): Promise<InProcessServices> {
  const dir = mkdtempSync(join(tmpdir(), `mlp-${options.prefix}-`));
  const full: NodeJS.ProcessEnv = { MLP_HOME: dir, LOG_LEVEL: 'silent', ...options.env };
  for (const s of serviceNames) {
    full[`MLP_${envKey(s)}_PORT`] = String(await freePort());
    full[`MLP_${envKey(s)}_RPC_PORT`] = String(await freePort());
  }
  const overrides = options.processEnv?.(dir) ?? {};
  const saved = Object.fromEntries(Object.keys(overrides).map((k) => [k, process.env[k]]));
  Object.assign(process.env, overrides);
  const config = loadConfig(baseConfigSchema, full);
  const store = new SqliteEventStore(join(dir, 'events.db'), { pollIntervalMs: 20 });
  const artifacts = new FsArtifactStore({ root: join(dir, 'artifacts') });
  const runtime = { eventStore: store, artifacts, config };
  const services: StartedService[] = [];
  for (const d of definitions) services.push(await startService(d, { runtime, env: full }));
  return {
    dir,
    config,
    store,
    artifacts,
    services,
    async close() {
      for (const s of [...services].reverse()) await s.close();
      await store.close();
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface InProcessServicesOverNats extends InProcessServices {
  nats: NatsServerHandle;
  /** Sends commands and queries over NATS as another service (`caller`) would. */
  client: MlpClient;
}

/**
 * The same services on a real nats-server started here (commands and queries
 * over NATS, auth off), with an MlpClient of another service to call them;
 * close() stops the client, the services and the server.
 */
export async function startInProcessServicesOverNats(
  definitions: ServiceDefinition[],
  options: { prefix: string; caller: ServiceName; env?: NodeJS.ProcessEnv; processEnv?: (dir: string) => Record<string, string> },
): Promise<InProcessServicesOverNats> {
  const nats = await startNatsServer();
  let p: InProcessServices | undefined;
  let context: INestApplicationContext | undefined;
  try {
    const messaging = { MLP_TRANSPORT: 'nats', NATS_URL: nats.url } as const;
    p = await startInProcessServices(definitions, { ...options, env: { ...messaging, MLP_AUTH: 'off', ...options.env } });
    context = await NestFactory.createApplicationContext(MessagingModule.forService(options.caller, messaging), { logger: false });
    const inner = p;
    const ctx = context;
    return {
      ...p,
      nats,
      client: context.get<MlpClient>(MLP_CLIENT),
      async close() {
        await ctx.close();
        await inner.close();
        await nats.stop();
      },
    };
  } catch (err) {
    await context?.close();
    await p?.close();
    await nats.stop();
    throw err;
  }
}
