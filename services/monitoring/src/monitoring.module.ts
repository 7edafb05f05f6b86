import { Module } from '@nestjs/common';
import { MonitorsModule } from './monitors/monitors.module';
import { MonitoringCoreModule } from './queries/monitoring-core.module';

/** Monitoring: monitors per model (drift, alerts, retraining and the dashboard grow here). */
@Module({ imports: [MonitorsModule, MonitoringCoreModule] })
export class MonitoringModule {}
