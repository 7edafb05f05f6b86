import type { ServiceDefinition } from '@mlp/service-kit';
import { MonitoringModule } from './monitoring.module';

export const monitoringService: ServiceDefinition = { service: 'monitoring', module: MonitoringModule };
export { TelemetryMonitorService } from './windows/telemetry-monitor.service';
export { MonitoringSettings, type ModelMonitoring } from './windows/monitoring-settings';
export { degradation, type DegradationRule } from './performance/degradation';
export { parseWindowSpec, type WindowSpec } from './windows/window-spec';
