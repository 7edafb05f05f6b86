import { Module } from '@nestjs/common';
import { RetrainingSchedulerService } from '../schedule/retraining-scheduler.service';
import { PoliciesController } from './policies.controller';
import { PoliciesService } from './policies.service';

/** Policies, their reactions and actions, and the retraining schedule. */
@Module({ controllers: [PoliciesController], providers: [PoliciesService, RetrainingSchedulerService], exports: [PoliciesService] })
export class PoliciesModule {}
