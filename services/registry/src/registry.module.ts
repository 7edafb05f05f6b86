import { Module } from '@nestjs/common';
import { RegisteredModelsModule } from './registered-models/registered-models.module';

/** Registry: registered models (versions, aliases, lineage grow here). */
@Module({ imports: [RegisteredModelsModule] })
export class RegistryModule {}
