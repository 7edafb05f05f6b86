import { z } from 'zod';
import { defaultPorts, envKey, serviceNames, type ServiceName } from '@mlp/contracts';

/** `feature-store` → `FEATURE_STORE`, at the type level (mirrors `envKey`). */
type SnakeCase<S extends string> = S extends `${infer A}-${infer B}` ? `${A}_${SnakeCase<B>}` : S;
export type EnvKeyOf<S extends ServiceName> = Uppercase<SnakeCase<S>>;

/** `MLP_<ENVKEY>_RPC_PORT`: where a service's TCP transport listens in embedded mode. */
export type RpcPortVar = `MLP_${EnvKeyOf<ServiceName>}_RPC_PORT`;

export function rpcPortVar(service: ServiceName): RpcPortVar {
  return `MLP_${envKey(service)}_RPC_PORT` as RpcPortVar;
}

/** A TCP port from an env string or a number; the error names the bad value. */
export const portNumber = z.unknown().transform((value, ctx) => {
  const n =
    typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (Number.isInteger(n) && n >= 0 && n <= 65535) return n;
  ctx.addIssue({ code: 'custom', message: `expected a port number, got ${JSON.stringify(value)}` });
  return z.NEVER;
});

/** A positive integer (milliseconds, counts) from an env string or a number. */
export const positiveInt = z.unknown().transform((value, ctx) => {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (Number.isInteger(n) && n > 0) return n;
  ctx.addIssue({ code: 'custom', message: `expected a positive integer, got ${JSON.stringify(value)}` });
  return z.NEVER;
});

export const transportKinds = ['tcp', 'nats'] as const;
export type TransportKind = (typeof transportKinds)[number];

export const DEFAULT_RPC_TIMEOUT_MS = 10_000;

const rpcPortShape = Object.fromEntries(
  serviceNames.map((s) => [rpcPortVar(s), portNumber.default(defaultPorts[s].rpc)]),
) as Record<RpcPortVar, z.ZodDefault<typeof portNumber>>;

/** The env variables the transport reads; service-kit's config schema includes them. */
export const messagingConfigShape = {
  MLP_TRANSPORT: z.enum(transportKinds).default('tcp'),
  /** One URL or a comma-separated list (cluster). */
  NATS_URL: z.string().min(1).default('nats://127.0.0.1:4222'),
  MLP_RPC_TIMEOUT_MS: positiveInt.default(DEFAULT_RPC_TIMEOUT_MS),
  /** NATS credentials, one kind at most (see natsAuth): a token, a user and password, or a `.creds` file path. */
  MLP_NATS_TOKEN: z.string().min(1).optional(),
  MLP_NATS_USER: z.string().min(1).optional(),
  MLP_NATS_PASSWORD: z.string().min(1).optional(),
  MLP_NATS_CREDS: z.string().min(1).optional(),
  ...rpcPortShape,
};
export const messagingConfigSchema = z.object(messagingConfigShape);

/** Parsed messaging settings; any missing key falls back to its default. */
export type MessagingConfig = Partial<z.output<typeof messagingConfigSchema>>;

/** The TCP port `service` serves RPC on. */
export function rpcPort(service: ServiceName, config: MessagingConfig): number {
  return config[rpcPortVar(service)] ?? defaultPorts[service].rpc;
}

export function natsServers(config: MessagingConfig): string[] {
  return (config.NATS_URL ?? 'nats://127.0.0.1:4222')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
