import type { StartedService } from '@mlp/service-kit';
import { startService } from '@mlp/service-kit';
import { startInProcessServices, type InProcessServices } from '@mlp/service-kit/testing';
import { eventually } from '@mlp/testing';
import { GrpcInferenceServer } from '../grpc/grpc-inference.server';
import { servingService } from '../index';
import { ServingRuntime } from '../serving-runtime';

export interface ServingPlatform {
  p: InProcessServices;
  serving: StartedService;
  url: string;
  grpcPort: number;
  runtime: ServingRuntime;
  /** Stops serving and starts a new instance on the same event store and artifacts (a restart). */
  restart(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Serving alone in this process on a fresh SQLite event store and file
 * artifacts (gRPC on a free port). `before` runs against the store before
 * serving starts (register and promote versions first, as after a restart).
 */
export async function startServingPlatform(processEnv: Record<string, string> = {}, before?: (p: InProcessServices) => Promise<void>, env: NodeJS.ProcessEnv = {}): Promise<ServingPlatform> {
  // Settings read from process.env stay set for the platform's lifetime (restored by p.close()).
  const p = await startInProcessServices([], { prefix: 'serving', env, processEnv: () => ({ MLP_SERVING_GRPC_PORT: '0', ...processEnv }) });
  await before?.(p);
  const full = { MLP_HOME: p.dir, LOG_LEVEL: 'silent', ...env };
  const start = () => startService(servingService, { runtime: { eventStore: p.store, artifacts: p.artifacts, config: p.config }, env: full });
  const platform: ServingPlatform = {
    p,
    serving: undefined as unknown as StartedService,
    url: '',
    grpcPort: 0,
    runtime: undefined as unknown as ServingRuntime,
    async restart() {
      await platform.serving.close();
      await attach(await start());
    },
    async close() {
      await platform.serving?.close();
      await p.close();
    },
  };
  const attach = async (s: StartedService) => {
    platform.serving = s;
    platform.url = s.url;
    platform.runtime = s.app.get(ServingRuntime);
    platform.grpcPort = s.app.get(GrpcInferenceServer).port ?? 0;
    await platform.runtime.whenStarted();
    await eventually(async () => (await fetch(`${s.url}/v2/health/ready`)).ok, 30_000, 'serving ready');
  };
  await attach(await start());
  return platform;
}
