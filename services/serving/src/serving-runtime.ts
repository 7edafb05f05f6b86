import { join, resolve } from 'node:path';
import { Inject, Injectable, Optional, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { ArtifactStore } from '@mlp/artifacts';
import { telemetryStream } from '@mlp/contracts';
import type { EventStore } from '@mlp/eventstore';
import { MLP_CLIENT, type MlpClient } from '@mlp/messaging';
import { ARTIFACT_STORE, EVENT_STORE, HttpMetrics, ProjectionCatalog, ReadinessChecks, SERVICE_CONFIG, SERVICE_LOGGER, type BaseConfig, type Logger, type ReadinessCheck } from '@mlp/service-kit';
import { InferenceService } from './inference/inference.service';
import { ServingMetrics } from './metrics/serving-metrics';
import { ModelManager, type ServedVersion } from './models/model-manager';
import { ServedModelsProjection } from './models/served-models';
import { loadServingConfig, type ServingConfig } from './serving-config';
import { TelemetryPublisher } from './telemetry/telemetry-publisher';
import { JetStreamTelemetrySink, NullTelemetrySink, type TelemetrySink } from './telemetry/telemetry-sink';
import { WorkerTelemetrySink } from './telemetry/worker-telemetry-sink';
import { TokenBucketStorage } from './limits/token-bucket.storage';

/** Requests per served version over the last minute, sampled every 5 s. */
class RequestRates {
  private samples: { at: number; counts: Map<ServedVersion, number> }[] = [];
  private timer?: NodeJS.Timeout;

  start(list: () => ServedVersion[]): void {
    const sample = () => {
      this.samples.push({ at: Date.now(), counts: new Map(list().map((s) => [s, s.loaded.requests])) });
      if (this.samples.length > 13) this.samples.shift();
    };
    sample();
    this.timer = setInterval(sample, 5000);
    this.timer.unref();
  }

  /** Requests per second since the oldest sample (≤ 60 s), or since the version loaded. */
  rate(s: ServedVersion): number {
    const now = Date.now();
    const oldest = this.samples.find((x) => x.counts.has(s));
    const base = oldest ? { at: oldest.at, count: oldest.counts.get(s)! } : { at: s.loaded.loadedAt.getTime(), count: 0 };
    const seconds = Math.max(1, (now - base.at) / 1000);
    return Math.round(((s.loaded.requests - base.count) / seconds) * 100) / 100;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }
}

/** How long serving waits before reading the model log again when it could not (store unreachable at start). */
const START_RETRY_MS = 2000;

/** `/health/ready`'s check `models`: fails, naming what it waits for, until ModelManager.isReady() (see there). */
export function modelsReadiness(models: ModelManager): ReadinessCheck {
  return {
    name: 'models',
    async check() {
      const { ready, waiting } = models.readiness();
      if (!ready) throw new Error(`waiting for ${waiting.join(', ')}`);
    },
  };
}

/**
 * Everything serving runs on, built once per app: its settings, the model
 * lifecycle, the inference path, telemetry, metrics and the rate-limit
 * buckets. Started with the module (the log is read and models load in the
 * background: readiness says when — `/v2/health/ready`, gRPC ServerReady and
 * `/health/ready`'s `models` check all follow ModelManager.readiness()),
 * stopped with the app. The alias table is the read model `serving.models`.
 */
@Injectable()
export class ServingRuntime implements OnModuleInit, OnApplicationShutdown {
  readonly config: ServingConfig;
  readonly models: ModelManager;
  readonly metrics: ServingMetrics;
  readonly telemetry: TelemetryPublisher;
  readonly inference: InferenceService;
  readonly limiter = new TokenBucketStorage();
  readonly rates = new RequestRates();
  private started?: Promise<void>;
  private stopping = false;

  constructor(
    @Inject(SERVICE_CONFIG) base: BaseConfig,
    @Inject(EVENT_STORE) store: EventStore,
    @Inject(ARTIFACT_STORE) artifacts: ArtifactStore,
    @Inject(MLP_CLIENT) client: MlpClient,
    @Inject(SERVICE_LOGGER) readonly logger: Logger,
    httpMetrics: HttpMetrics,
    @Optional() @Inject(ProjectionCatalog) catalog?: ProjectionCatalog,
    @Optional() @Inject(ReadinessChecks) private readonly readinessChecks?: ReadinessChecks,
  ) {
    this.config = loadServingConfig(process.env, base);
    const sink = createSink(this.config);
    this.models = new ModelManager(store, artifacts, this.config, {
      onBatch: (s, rows) => this.metrics.batchSize.observe({ model: s.loaded.name, version: String(s.loaded.version) }, rows),
      onLoaded: (s) => {
        this.metrics.loaded.set({ model: s.loaded.name, version: String(s.loaded.version), backend: s.loaded.backend }, 1);
        logger.info({ model: s.loaded.name, version: s.loaded.version, backend: s.loaded.backend }, 'model version loaded');
      },
      onUnloaded: (name, version) => {
        this.metrics.loaded.remove({ model: name, version: String(version) } as never);
        logger.info({ model: name, version }, 'model version unloaded');
      },
    });
    this.metrics = new ServingMetrics(httpMetrics.registry, () =>
      this.models.list().map((s) => ({ model: s.loaded.name, version: String(s.loaded.version), depth: s.batcher.depth })),
    );
    this.telemetry = new TelemetryPublisher(sink ?? new NullTelemetrySink(), { sample: this.config.telemetry.sample, onDropped: (n) => this.metrics.telemetryDropped.inc(n) }, logger);
    this.inference = new InferenceService(this.models, client, this.telemetry, this.metrics, { timeoutMs: this.config.timeoutMs, instance: this.config.instance });
    catalog?.register(this.models.liveReadModel(), () => new ServedModelsProjection());
  }

  onModuleInit(): void {
    this.addReadinessCheck();
    this.started = this.startAll();
  }

  /** Adds `models` to the app's `/health/ready` checks (what probes ask); absent in an app built without the kit (then only /v2/health/ready reports). */
  private addReadinessCheck(): void {
    const checks = this.readinessChecks;
    if (checks && !checks.all.some((c) => c.name === 'models')) checks.add(modelsReadiness(this.models));
  }

  private async startAll(): Promise<void> {
    if (this.config.telemetry.sink === 'jetstream') {
      try {
        const sink = await JetStreamTelemetrySink.connect(this.config.natsUrl, `mlp-serving-telemetry-${this.config.instance}`, this.config.natsAuth);
        this.telemetry.sink = sink;
      } catch (err) {
        this.logger.warn({ err }, 'telemetry stream unavailable: predictions are served without telemetry');
      }
    }
    // Not ready (and every model request 503 NOT_READY) until the log is read: try again while it is unreachable.
    for (;;) {
      try {
        await this.models.start();
        this.rates.start(() => this.models.list());
        return;
      } catch (err) {
        this.logger.error({ err }, `serving could not read the model events; trying again in ${START_RETRY_MS / 1000} s`);
        await this.models.abortStart();
        await new Promise((r) => setTimeout(r, START_RETRY_MS).unref());
        if (this.stopping) return;
      }
    }
  }

  /** Resolves once the log was read and the served versions are loaded (or failed). */
  async whenStarted(): Promise<void> {
    await this.started;
  }

  async onApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.started?.catch(() => undefined);
    this.rates.stop();
    await this.models.stop();
    await this.telemetry.close();
  }
}

function createSink(config: ServingConfig): TelemetrySink | undefined {
  if (config.telemetry.sink === 'off' || config.telemetry.sink === 'jetstream') return undefined;
  // On a worker thread: building, encoding and inserting rows stays off the thread that serves.
  return new WorkerTelemetrySink(join(resolve(config.home), telemetryStream.sqlite.file));
}
