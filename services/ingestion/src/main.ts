import { runStandalone } from '@mlp/service-kit';
import { ingestionService } from './index';

runStandalone(ingestionService);
