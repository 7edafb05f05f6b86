import { Module } from '@nestjs/common';

/** Training: splits, CV, search, tfjs training, evaluation, tracking. Boots with health, metrics, docs and ping; capabilities arrive with the training issue. */
@Module({})
export class TrainingModule {}
