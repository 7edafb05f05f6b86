import { Inject, Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { NotFoundError, streams, type CommandMetadata, type RegisteredModelView } from '@mlp/contracts';
import { handleCommand, ProjectionRunner, type EventStore } from '@mlp/eventstore';
import { EVENT_STORE } from '@mlp/service-kit';
import { registeredModelDecider, type RegisteredModelCommand } from './registered-model.decide';
import { RegisteredModelsProjection } from './registered-models.projection';

/** Runs registered-model commands and answers queries from the projection. */
@Injectable()
export class RegisteredModelsService implements OnModuleInit, OnModuleDestroy {
  readonly projection = new RegisteredModelsProjection();
  private readonly runner: ProjectionRunner;

  constructor(@Inject(EVENT_STORE) private readonly store: EventStore) {
    this.runner = new ProjectionRunner(store, this.projection);
  }

  onModuleInit(): Promise<void> {
    return this.runner.start();
  }

  onModuleDestroy(): Promise<void> {
    return this.runner.stop();
  }

  /** Decides and appends, then waits for the projection so the reply reflects the write. */
  async execute(command: RegisteredModelCommand, meta: CommandMetadata): Promise<RegisteredModelView> {
    const result = await handleCommand(this.store, streams.model(command.name), registeredModelDecider, command, meta);
    if (result.position > 0) await this.runner.waitFor(result.position);
    return this.get(command.name);
  }

  get(name: string): RegisteredModelView {
    const model = this.projection.get(name);
    if (!model) throw new NotFoundError(`registered model '${name}' does not exist`, { code: 'MODEL_NOT_FOUND' });
    return model;
  }

  list(): RegisteredModelView[] {
    return this.projection.list();
  }
}
