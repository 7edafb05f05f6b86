import { runStandalone } from '@mlp/service-kit';
import { registryService } from './index';

runStandalone(registryService);
