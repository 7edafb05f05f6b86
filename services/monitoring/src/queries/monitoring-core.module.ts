import { Module } from '@nestjs/common';
import { TelemetryMonitorService } from '../windows/telemetry-monitor.service';
import { MonitoringQueriesController } from './monitoring-queries.controller';

/** Drift and performance from serving's telemetry, and their queries. TelemetryMonitorService is exported for the policy module. */
@Module({ controllers: [MonitoringQueriesController], providers: [TelemetryMonitorService], exports: [TelemetryMonitorService] })
export class MonitoringCoreModule {}
