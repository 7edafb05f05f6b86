import { runStandalone } from '@mlp/service-kit';
import { trainingService } from './index';

runStandalone(trainingService);
