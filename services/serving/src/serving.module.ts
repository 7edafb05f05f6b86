import { Module } from '@nestjs/common';

/** Serving: V2 inference, rollouts, auth, rate limits. Boots with health, metrics, docs and ping; capabilities arrive with the serving issue. */
@Module({})
export class ServingModule {}
