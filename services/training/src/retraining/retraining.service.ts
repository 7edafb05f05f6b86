import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { runProcessManager, type EventStore, type RunningProcessManager } from '@mlp/eventstore';
import { MLP_CLIENT, type MlpClient } from '@mlp/messaging';
import { EVENT_STORE, SERVICE_LOGGER, type Logger } from '@mlp/service-kit';
import { RunsService } from '../runs/runs.service';
import { retrainingProcessManager } from './retraining.process-manager';

/** Runs the retraining process manager in the training service (it starts runs here, on this instance). */
@Injectable()
export class RetrainingService implements OnApplicationBootstrap, OnApplicationShutdown {
  private manager?: RunningProcessManager;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(MLP_CLIENT) private readonly client: MlpClient,
    private readonly runs: RunsService,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const manager = retrainingProcessManager({ runs: this.runs, client: this.client });
    this.manager = await runProcessManager(this.store, manager, {
      onError: (err, event, attempt) => this.logger.error({ err, eventId: event.id, attempt }, `${manager.name} failed on ${event.type}`),
    });
    this.manager.done.catch((err: unknown) => this.logger.error({ err }, `${manager.name} stopped`));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.manager?.stop();
  }
}
