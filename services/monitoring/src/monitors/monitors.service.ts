import { Inject, Injectable, Optional, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { NotFoundError, subjects, type RegisteredModelView } from '@mlp/contracts';
import { ProjectionRunner, type EventStore, type RunningProcessManager } from '@mlp/eventstore';
import { MLP_CLIENT, type MlpClient } from '@mlp/messaging';
import { EVENT_STORE, ProjectionCatalog, SERVICE_LOGGER, startProcessManager, type Logger } from '@mlp/service-kit';
import { monitorCreationProcessManager } from './monitor-creation.process-manager';
import { MonitorsProjection, type MonitorView } from './monitors.projection';

/** Runs the monitor-creation process manager and serves the monitors read model. */
@Injectable()
export class MonitorsService implements OnModuleInit, OnModuleDestroy {
  readonly projection = new MonitorsProjection();
  private readonly runner: ProjectionRunner<MonitorsProjection>;
  private manager?: RunningProcessManager;

  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(MLP_CLIENT) private readonly client: MlpClient,
    @Inject(SERVICE_LOGGER) private readonly logger: Logger,
    @Optional() @Inject(ProjectionCatalog) catalog?: ProjectionCatalog,
  ) {
    this.runner = new ProjectionRunner(store, this.projection);
    catalog?.register(this.runner, () => new MonitorsProjection());
  }

  async onModuleInit(): Promise<void> {
    await this.runner.start();
    this.manager = await startProcessManager(this.store, monitorCreationProcessManager, this.logger);
  }

  async onModuleDestroy(): Promise<void> {
    await this.manager?.stop();
    await this.runner.stop();
  }

  get(model: string): MonitorView {
    const monitor = this.projection.get(model);
    if (!monitor) throw new NotFoundError(`no monitor for model '${model}'`, { code: 'MONITOR_NOT_FOUND' });
    return monitor;
  }

  list(): MonitorView[] {
    return this.projection.list();
  }

  /** The monitor plus the registry's view of its model, fetched over the transport (NATS or TCP). */
  async describe(model: string): Promise<MonitorView & { registeredModel: RegisteredModelView }> {
    const monitor = this.get(model);
    const registeredModel = await this.client.send<RegisteredModelView>(subjects.qry.registry.getModel, { name: model });
    return { ...monitor, registeredModel };
  }
}
