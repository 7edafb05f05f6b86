import { runStandalone } from '@mlp/service-kit';
import { monitoringService } from './index';

runStandalone(monitoringService);
