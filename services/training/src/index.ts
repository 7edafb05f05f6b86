import type { ServiceDefinition } from '@mlp/service-kit';
import { TrainingModule } from './training.module';

export const trainingService: ServiceDefinition = { service: 'training', module: TrainingModule };
export { loadParquetFrame, type LoadedFrame } from './engine/load-frame';
