import { ValidationError } from './errors';

/**
 * Stream names are `<aggregate>-<id>`. The part before the first '-' is the
 * category that subscriptions filter on. Names travel as NATS subject tokens,
 * so they exclude '.', '*', '>' and whitespace.
 */
const STREAM_NAME = /^[a-z][a-z0-9_]*(-[A-Za-z0-9_-]+)?$/;
export const MAX_STREAM_NAME_LENGTH = 200;

export function assertStreamName(stream: string): void {
  if (typeof stream !== 'string' || stream.length > MAX_STREAM_NAME_LENGTH || !STREAM_NAME.test(stream)) {
    throw new ValidationError(`invalid stream name '${String(stream)}'`, [
      {
        path: 'stream',
        message: `must look like <aggregate>-<id> using [A-Za-z0-9_-], at most ${MAX_STREAM_NAME_LENGTH} characters`,
      },
    ]);
  }
}

export function categoryOf(stream: string): string {
  const dash = stream.indexOf('-');
  return dash === -1 ? stream : stream.slice(0, dash);
}

const ID_PART = /^[A-Za-z0-9_-]+$/;
function named(category: string) {
  return (id: string): string => {
    if (!ID_PART.test(id)) {
      throw new ValidationError(`invalid ${category} id '${id}'`, [
        { path: 'id', message: 'use letters, digits, _ and - only' },
      ]);
    }
    return `${category}-${id}`;
  };
}

/** Stream name builders, one per aggregate (ARCHITECTURE.md table). */
export const streams = {
  dataset: named('dataset'),
  ingestion: named('ingestion'),
  featureView: named('featureview'),
  trainingSet: named('trainingset'),
  experiment: named('experiment'),
  run: named('run'),
  model: named('model'),
  deployment: named('deployment'),
  monitor: named('monitor'),
  retraining: named('retraining'),
  apiKey: named('apikey'),
  serving: named('serving'),
  batch: named('batch'),
} as const;

export const categories = {
  dataset: 'dataset',
  ingestion: 'ingestion',
  featureView: 'featureview',
  trainingSet: 'trainingset',
  experiment: 'experiment',
  run: 'run',
  model: 'model',
  deployment: 'deployment',
  monitor: 'monitor',
  retraining: 'retraining',
  apiKey: 'apikey',
  serving: 'serving',
  batch: 'batch',
} as const;
