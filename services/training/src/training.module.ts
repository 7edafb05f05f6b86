import { Module } from '@nestjs/common';
import { natsAuth } from '@mlp/messaging';
import { SERVICE_CONFIG, SERVICE_LOGGER, type BaseConfig, type Logger } from '@mlp/service-kit';
import { loadTrainingConfig, TRAINING_CONFIG, type TrainingConfig } from './training-config';
import { TRIAL_QUEUE, type TrialQueue } from './queue/trial-queue';
import { LocalTrialQueue } from './queue/local-trial-queue';
import { JetStreamTrialQueue } from './queue/jetstream-trial-queue';
import { RunsService } from './runs/runs.service';
import { RunsQueryService } from './runs/runs-query.service';
import { RetrainingService } from './retraining/retraining.service';
import { TrainingController } from './training.controller';
import { RunArchiveController } from './archive/run-archive.controller';
import { RunArchiveService } from './archive/run-archive.service';

async function createTrialQueue(config: TrainingConfig, logger: Logger, base: BaseConfig): Promise<TrialQueue> {
  return config.trialQueue === 'jetstream'
    ? JetStreamTrialQueue.connect(config.NATS_URL, { ackWaitMs: config.MLP_TRIAL_ACK_WAIT_MS, replicas: config.MLP_TRIAL_QUEUE_REPLICAS, name: config.instance, logger, auth: natsAuth(base) })
    : new LocalTrialQueue(logger);
}

/** Training: splits, CV, hyper-parameter search over a shared trial queue, tfjs training, evaluation, tracking. */
@Module({
  controllers: [TrainingController, RunArchiveController],
  providers: [
    {
      provide: TRAINING_CONFIG,
      useFactory: (base: BaseConfig) => loadTrainingConfig(process.env, base, base.MLP_TRAINING_PORT),
      inject: [SERVICE_CONFIG],
    },
    { provide: TRIAL_QUEUE, useFactory: createTrialQueue, inject: [TRAINING_CONFIG, SERVICE_LOGGER, SERVICE_CONFIG] },
    RunsQueryService,
    RunsService,
    RetrainingService,
    RunArchiveService,
  ],
})
export class TrainingModule {}
