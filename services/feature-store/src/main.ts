import { runStandalone } from '@mlp/service-kit';
import { featureStoreService } from './index';

runStandalone(featureStoreService);
