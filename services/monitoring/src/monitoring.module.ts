import { Module } from '@nestjs/common';
import { MonitorsModule } from './monitors/monitors.module';
import { MonitoringCoreModule } from './queries/monitoring-core.module';
import { PoliciesModule } from './policies/policies.module';
import { AlertsModule } from './alerts/alerts.module';
import { SystemHealthModule } from './health/health.module';

/** Monitoring: monitors per model (drift, alerts, retraining and the dashboard grow here). */
@Module({ imports: [MonitorsModule, MonitoringCoreModule, PoliciesModule, AlertsModule, SystemHealthModule] })
export class MonitoringModule {}
