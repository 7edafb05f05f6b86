import { freePort } from '@mlp/testing';

export interface ServingProcessEnv {
  /** The env to spawn `services/serving/src/main.ts` with. */
  env: NodeJS.ProcessEnv;
  /** `http://127.0.0.1:<port>`: its HTTP API. */
  url: string;
}

/**
 * The env of a serving process of its own over `home` (its SQLite event log
 * and file artifacts): HTTP and RPC on free ports, gRPC off, telemetry off,
 * warnings only. `extra` adds or overrides settings (e.g. a gRPC port).
 */
export async function servingProcessEnv(home: string, extra: NodeJS.ProcessEnv = {}): Promise<ServingProcessEnv> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    MLP_HOME: home,
    LOG_LEVEL: 'warn',
    MLP_SERVING_PORT: String(port),
    MLP_SERVING_RPC_PORT: String(await freePort()),
    MLP_SERVING_GRPC_PORT: '-1',
    MLP_SERVING_TELEMETRY: 'off',
    ...extra,
  };
  return { env, url: `http://127.0.0.1:${port}` };
}
