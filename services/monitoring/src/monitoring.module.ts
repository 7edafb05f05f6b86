import { Module } from '@nestjs/common';
import { MonitorsModule } from './monitors/monitors.module';
import { MonitoringCoreModule } from './queries/monitoring-core.module';
import { PoliciesModule } from './policies/policies.module';
import { AlertsModule } from './alerts/alerts.module';
import { SystemHealthModule } from './health/health.module';
import { DashboardModule } from './dashboard/dashboard.module';

/** Monitoring: monitors per model; drift and performance, policies, alerts, retraining, system health, and the dashboard at /. */
@Module({ imports: [MonitorsModule, MonitoringCoreModule, PoliciesModule, AlertsModule, SystemHealthModule, DashboardModule] })
export class MonitoringModule {}
