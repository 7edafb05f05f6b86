import { Module } from '@nestjs/common';
import { MonitorsModule } from './monitors/monitors.module';

/** Monitoring: monitors per model (drift, alerts, retraining and the dashboard grow here). */
@Module({ imports: [MonitorsModule] })
export class MonitoringModule {}
