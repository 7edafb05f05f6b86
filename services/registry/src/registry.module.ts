import { Module } from '@nestjs/common';
import { loadRegistryConfig, REGISTRY_CONFIG } from './registry-config';
import { ModelCommandsService } from './model/model-commands.service';
import { ModelsController, VersionsController } from './model/models.controller';
import { RegistryService } from './model/registry.service';
import { RegistrationService } from './registration/registration.service';
import { LineageController, LineageService } from './lineage/lineage.controller';
import { MlflowController } from './mlflow/mlflow.controller';

/** Registry: registered models, versions, aliases with their history, approvals, registration policies. */
@Module({
  controllers: [ModelsController, VersionsController, LineageController, MlflowController],
  providers: [{ provide: REGISTRY_CONFIG, useFactory: () => loadRegistryConfig(process.env) }, RegistryService, ModelCommandsService, RegistrationService, LineageService],
})
export class RegistryModule {}
