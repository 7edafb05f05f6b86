import { Inject, Injectable, Optional, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { ArtifactStore } from '@mlp/artifacts';
import type { EventData, RecordedEvent } from '@mlp/contracts';
import { codeVersion, ProjectionRunner, type EventStore } from '@mlp/eventstore';
import { ARTIFACT_STORE, EVENT_STORE, ProjectionCatalog, SERVICE_CONFIG, SERVICE_LOGGER, type BaseConfig, type Logger } from '@mlp/service-kit';
import { DriftMonitor } from '../drift/drift-monitor';
import { ReferenceLoader } from '../drift/reference';
import { OnlineLearning } from '../online/online-learning';
import { PerformanceMonitor } from '../performance/performance-monitor';
import { MonitoringHistoryProjection } from '../queries/monitoring-history.projection';
import { JetStreamTelemetrySource } from './jetstream-telemetry-source';
import { loadMonitoringCoreConfig, type MonitoringCoreConfig } from './monitoring-core-config';
import { MonitoringSettings } from './monitoring-settings';
import { PolicySettingsProjection } from './policy-settings.projection';
import { SqliteTelemetrySource } from './sqlite-telemetry-source';
import type { TelemetryRecord, TelemetrySource } from './telemetry-source';

/**
 * Reads serving's telemetry and feeds the drift and performance monitors;
 * serves the history read model. `settings` is where the applied policy
 * sets each model's window, drift overrides and degradation rule.
 */
@Injectable()
export class TelemetryMonitorService implements OnModuleInit, OnModuleDestroy {
  readonly config: MonitoringCoreConfig;
  readonly settings: MonitoringSettings;
  readonly history = new MonitoringHistoryProjection();
  readonly drift: DriftMonitor;
  readonly performance: PerformanceMonitor;
  private readonly runner: ProjectionRunner<MonitoringHistoryProjection>;
  private readonly policies: ProjectionRunner<PolicySettingsProjection>;
  private source?: TelemetrySource;
  private timer?: NodeJS.Timeout;
  private queue: Promise<void> = Promise.resolve();
  /** Records handled, by kind. */
  readonly handled = { prediction: 0, feedback: 0 };

  constructor(
    @Inject(EVENT_STORE) store: EventStore,
    @Inject(ARTIFACT_STORE) artifacts: ArtifactStore,
    @Inject(SERVICE_CONFIG) base: BaseConfig,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
    @Optional() @Inject(ProjectionCatalog) catalog?: ProjectionCatalog,
  ) {
    this.config = loadMonitoringCoreConfig(process.env, base);
    this.settings = new MonitoringSettings({ window: this.config.window, performanceWindow: this.config.performanceWindow });
    const references = new ReferenceLoader(store, artifacts);
    const version = codeVersion();
    this.drift = new DriftMonitor(store, artifacts, references, this.settings, { sampleCap: this.config.sampleCap, maxCategories: 1_000, seed: 20_261_205, codeVersion: version }, logger);
    const online = new OnlineLearning(store, artifacts, (model) => this.settings.get(model).online, { codeVersion: version });
    this.performance = new PerformanceMonitor(store, references, this.settings, { codeVersion: version, online });
    this.runner = new ProjectionRunner(store, this.history);
    // A policy applied while a window of its model is open: the window adopts its size, in turn with the telemetry (never concurrently).
    const adopt = (model: string, event: RecordedEvent) => {
      const { sha256 } = event.data as EventData<'MonitoringPolicyApplied'>;
      const spec = this.settings.get(model).window;
      void this.enqueue(() => this.drift.adopt(model, spec, sha256, { eventId: event.id, correlationId: event.correlationId })).catch((err: unknown) =>
        this.logger.error({ err, model }, 'resizing the open drift windows to a new policy failed'),
      );
    };
    this.policies = new ProjectionRunner(store, new PolicySettingsProjection(this.settings, adopt));
    const freshSettings = () => new MonitoringSettings({ window: this.config.window, performanceWindow: this.config.performanceWindow });
    catalog?.register(this.runner, () => new MonitoringHistoryProjection());
    catalog?.register(this.policies, () => new PolicySettingsProjection(freshSettings()));
  }

  async onModuleInit(): Promise<void> {
    await this.policies.start(); // caught up: windows opened from here use each model's applied policy
    await this.runner.start();
    const { telemetry } = this.config;
    if (telemetry === 'off') return;
    this.source =
      telemetry === 'jetstream'
        ? await JetStreamTelemetrySource.connect(this.config.natsUrl, { durable: this.config.consumer, logger: this.logger, auth: this.config.natsAuth })
        : new SqliteTelemetrySource(this.config.sqliteFile, { logger: this.logger });
    if (this.source.resumes) {
      if (this.source.replayAcked) await this.rebuildPerformance(this.source.replayAcked.bind(this.source));
      for (const s of this.history.performanceSequences()) this.performance.resume(s.model, s.version, s.arm, s.seq);
    }
    if (this.source.restore) {
      this.drift.checkpoints = this.source.checkpoints;
      const replayed = await this.source.restore(
        (record) => this.drift.add(record),
        (model, version) => this.drift.isOpen(model, version),
      );
      if (replayed) this.logger.info({ replayed }, 'open drift windows rebuilt from the telemetry stream');
    }
    await this.source.start((item) => this.handle(item));
    // Time windows close on telemetry time; this closes them too when traffic stops (checked every 5 s, 5 s grace).
    this.timer = setInterval(() => {
      this.enqueue(() => this.drift.closeExpired(Date.now(), 5_000)).catch((err: unknown) => this.logger.error({ err }, 'closing expired drift windows failed'));
    }, 5_000);
    this.timer.unref();
  }

  /** The label join and performance windows of every version and arm, from the acked telemetry (appends nothing). */
  private async rebuildPerformance(replayAcked: NonNullable<TelemetrySource['replayAcked']>): Promise<void> {
    this.performance.replaying = true;
    try {
      const feed = (item: TelemetryRecord) => (item.kind === 'prediction' ? this.performance.addPrediction(item.record) : this.performance.addFeedback(item.record));
      const replayed = await replayAcked(feed, this.config.replayRecords);
      if (replayed) this.logger.info({ replayed }, 'label join and performance windows rebuilt from the telemetry stream');
    } finally {
      this.performance.replaying = false;
    }
  }

  /** One telemetry record, in stream order. */
  handle(item: TelemetryRecord): Promise<void> {
    return this.enqueue(() => this.process(item));
  }

  /** One at a time with the expiry timer and policy changes: windows are never touched concurrently. */
  private enqueue(work: () => Promise<void>): Promise<void> {
    const next = this.queue.then(work);
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async process(item: TelemetryRecord): Promise<void> {
    if (item.kind === 'prediction') {
      await this.drift.add(item.record, item.seq);
      await this.performance.addPrediction(item.record);
    } else {
      await this.performance.addFeedback(item.record);
    }
    this.handled[item.kind]++;
  }

  /** Resolves once the telemetry stored at start has been read. */
  get caughtUp(): Promise<void> {
    return this.source?.caughtUp ?? Promise.resolve();
  }

  async onModuleDestroy(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.source?.close();
    await this.queue;
    await this.runner.stop();
    await this.policies.stop();
  }
}
