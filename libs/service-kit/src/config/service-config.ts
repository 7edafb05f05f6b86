import { resolve } from 'node:path';
import { z } from 'zod';
import { defaultPorts, envKey, serviceNames, type ServiceName } from '@mlp/contracts';
import { messagingConfigShape, portNumber, positiveInt, type EnvKeyOf } from '@mlp/messaging';
import { runtimeEnvShape } from './runtime-env';

export { duckdbMemoryLimit, parseMemorySize, runtimeEnvShape } from './runtime-env';

/** `MLP_<ENVKEY>_PORT`: a service's HTTP port. */
export type HttpPortVar = `MLP_${EnvKeyOf<ServiceName>}_PORT`;

export function httpPortVar(service: ServiceName): HttpPortVar {
  return `MLP_${envKey(service)}_PORT` as HttpPortVar;
}

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

const httpPortShape = Object.fromEntries(
  serviceNames.map((s) => [httpPortVar(s), portNumber.default(defaultPorts[s].http)]),
) as Record<HttpPortVar, z.ZodDefault<typeof portNumber>>;

/** `MLP_AUTH`: `auto` is on with MLP_TRANSPORT=nats or a bind host that is not loopback. */
export const authModes = ['on', 'off', 'auto'] as const;
export type AuthMode = (typeof authModes)[number];

/** An IPv4/IPv6 address or a host name, e.g. `127.0.0.1`, `0.0.0.0`, `::1`, `my-host`. */
const bindHost = z
  .string()
  .regex(/^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$/, 'an IP address or a host name');

export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/** HTTP exposure: where to listen, who may call, how large a body may be. */
export const httpSecurityShape = {
  /** Interface the HTTP servers listen on; loopback by default. The TCP transport always stays on loopback. */
  MLP_BIND_HOST: bindHost.default('127.0.0.1'),
  MLP_AUTH: z.enum(authModes).default('auto'),
  /** A bootstrap admin key, hashed at start: the first key that can create the others. */
  MLP_ADMIN_KEY: z.string().trim().min(24, 'at least 24 characters (e.g. the output of `openssl rand -hex 32`)').optional(),
  /** Largest JSON or text (YAML) request body; streamed uploads have their own limits. */
  MLP_MAX_BODY_BYTES: positiveInt.default(DEFAULT_MAX_BODY_BYTES),
};

/** What every service reads from the environment (before derived defaults). */
export const baseConfigShape = {
  /** Embedded data dir. */
  MLP_HOME: z.string().min(1).default('.mlp'),
  /** Defaults to `sqlite://<MLP_HOME>/events.db`. */
  EVENTSTORE_URL: z.string().min(1).optional(),
  /** Defaults to `file://<MLP_HOME>/artifacts`. */
  ARTIFACTS_URL: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(logLevels).default('info'),
  ...messagingConfigShape,
  ...httpPortShape,
  ...runtimeEnvShape,
  ...httpSecurityShape,
};

type WithDerivedDefaults<T> = Omit<T, 'EVENTSTORE_URL' | 'ARTIFACTS_URL'> & { EVENTSTORE_URL: string; ARTIFACTS_URL: string };

/**
 * The env schema of a service: the base variables plus `extra` (a zod shape of
 * the service's own variables), with the defaults that depend on MLP_HOME.
 */
export function serviceConfigSchema<E extends z.ZodRawShape = Record<never, never>>(extra?: E) {
  type Parsed = z.output<z.ZodObject<typeof baseConfigShape & E>>;
  return z.object({ ...baseConfigShape, ...(extra as E) }).transform((parsed) => {
    const config = parsed as unknown as { MLP_HOME: string; EVENTSTORE_URL?: string; ARTIFACTS_URL?: string };
    return {
      ...config,
      EVENTSTORE_URL: config.EVENTSTORE_URL ?? `sqlite://${resolve(config.MLP_HOME, 'events.db')}`,
      ARTIFACTS_URL: config.ARTIFACTS_URL ?? `file://${resolve(config.MLP_HOME, 'artifacts')}`,
    } as unknown as WithDerivedDefaults<Parsed>;
  });
}

export const baseConfigSchema = serviceConfigSchema();
export type BaseConfig = z.output<typeof baseConfigSchema>;
