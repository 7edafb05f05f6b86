import { Inject, Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import type { EventStore, RunningProcessManager } from '@mlp/eventstore';
import { MLP_CLIENT, type MlpClient } from '@mlp/messaging';
import type { ArtifactStore } from '@mlp/artifacts';
import { ARTIFACT_STORE, EVENT_STORE, SERVICE_LOGGER, startProcessManager, type Logger } from '@mlp/service-kit';
import { RunsService } from '../runs/runs.service';
import { onlineLearningProcessManager } from '../online/online-learning.process-manager';
import { retrainingProcessManager } from './retraining.process-manager';

/** Runs the retraining and online-learning process managers in the training service (they start or record runs here). */
@Injectable()
export class RetrainingService implements OnApplicationBootstrap, OnApplicationShutdown {
  private manager?: RunningProcessManager;
  private online?: RunningProcessManager;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(MLP_CLIENT) private readonly client: MlpClient,
    @Inject(ARTIFACT_STORE) private readonly artifacts: ArtifactStore,
    private readonly runs: RunsService,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.manager = await startProcessManager(this.store, retrainingProcessManager({ runs: this.runs, client: this.client }), this.logger);
    this.online = await startProcessManager(this.store, onlineLearningProcessManager({ artifacts: this.artifacts }), this.logger);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.manager?.stop();
    await this.online?.stop();
  }
}
