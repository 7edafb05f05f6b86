import { resolve } from 'node:path';
import { z } from 'zod';
import { defaultPorts, envKey, serviceNames, type ServiceName } from '@mlp/contracts';
import { messagingConfigShape, portNumber, type EnvKeyOf } from '@mlp/messaging';

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
