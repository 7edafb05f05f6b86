import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { EventStore, RunningProcessManager } from '@mlp/eventstore';
import { MLP_CLIENT, type MlpClient } from '@mlp/messaging';
import { EVENT_STORE, SERVICE_LOGGER, startProcessManager, type Logger } from '@mlp/service-kit';
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
    this.manager = await startProcessManager(this.store, retrainingProcessManager({ runs: this.runs, client: this.client }), this.logger);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.manager?.stop();
  }
}
