import { Module } from '@nestjs/common';
import { RegisteredModelsController } from './registered-models.controller';
import { RegisteredModelsService } from './registered-models.service';

@Module({
  controllers: [RegisteredModelsController],
  providers: [RegisteredModelsService],
})
export class RegisteredModelsModule {}
