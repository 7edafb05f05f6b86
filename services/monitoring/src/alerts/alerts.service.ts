import { Inject, Injectable, Optional, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { ListAlertsQuery } from '@mlp/contracts';
import { ProjectionRunner, type EventStore, type RunningProcessManager } from '@mlp/eventstore';
import { EVENT_STORE, ProjectionCatalog, SERVICE_CONFIG, SERVICE_LOGGER, startProcessManager, type BaseConfig, type Logger } from '@mlp/service-kit';
import { ALERTS_CONFIG, type AlertsConfig } from './alerts-config';
import { alertDeliveryProcessManager } from './alert-delivery.process-manager';
import { AlertsProjection, type AlertView } from './alerts.projection';
import { WebhookSecrets } from './webhook-secrets';
import { WebhookSender } from './webhook-sender';

/** The alerts read model, and the process manager that sends them to webhooks. */
@Injectable()
export class AlertsService implements OnModuleInit, OnModuleDestroy {
  readonly projection = new AlertsProjection();
  private readonly runner: ProjectionRunner<AlertsProjection>;
  private manager?: RunningProcessManager;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(ALERTS_CONFIG) private readonly config: AlertsConfig,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
    @Inject(SERVICE_CONFIG) private readonly base: BaseConfig,
    @Optional() @Inject(ProjectionCatalog) catalog?: ProjectionCatalog,
  ) {
    this.runner = new ProjectionRunner(store, this.projection);
    catalog?.register(this.runner, () => new AlertsProjection());
  }

  async onModuleInit(): Promise<void> {
    await this.runner.start();
    const secrets = WebhookSecrets.fromEnv(process.env, this.base.MLP_HOME);
    const sender = new WebhookSender({
      ...this.config,
      resolve: (webhook) => secrets.resolve(webhook),
      onRetry: async ({ attempt, error, delayMs }) => this.logger.warn({ attempt, delayMs, error: error.message }, 'webhook delivery failed; retrying'),
    });
    this.manager = await startProcessManager(this.store, alertDeliveryProcessManager(sender), this.logger);
  }

  async onModuleDestroy(): Promise<void> {
    await this.manager?.stop();
    await this.runner.stop();
  }

  list(query: ListAlertsQuery): AlertView[] {
    return this.projection.list(query);
  }
}
