import { runStandalone } from '@mlp/service-kit';
import { servingService } from './index';

runStandalone(servingService);
