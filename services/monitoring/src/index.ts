import type { ServiceDefinition } from '@mlp/service-kit';
import { MonitoringModule } from './monitoring.module';

export const monitoringService: ServiceDefinition = { service: 'monitoring', module: MonitoringModule };
