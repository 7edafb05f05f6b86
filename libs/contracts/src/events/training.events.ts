import { z } from 'zod';
import { defineEvent } from '../event-definition';
import { artifactKey, metrics, name, sha256Hex } from './common';

export const trainingEvents = {
  ExperimentCreated: defineEvent('ExperimentCreated', 1, z.object({ experiment: name, description: z.string().optional() })),
  TrainingRunRequested: defineEvent(
    'TrainingRunRequested',
    1,
    z.object({
      runId: z.string(),
      experiment: name,
      spec: z.record(z.string(), z.unknown()),
      seed: z.number().int(),
      inputs: z.array(z.object({ ref: z.string(), sha256: sha256Hex.optional() })),
      backend: z.string(),
    }),
  ),
  TrainingSetSplit: defineEvent(
    'TrainingSetSplit',
    1,
    z.object({ runId: z.string(), method: z.string(), sizes: z.record(z.string(), z.number().int()), indicesSha256: sha256Hex }),
  ),
  TrialStarted: defineEvent('TrialStarted', 1, z.object({ runId: z.string(), trial: z.number().int(), params: z.record(z.string(), z.unknown()) })),
  EpochCompleted: defineEvent(
    'EpochCompleted',
    1,
    z.object({ runId: z.string(), trial: z.number().int(), epochs: z.array(z.object({ epoch: z.number().int(), metrics })) }),
  ),
  TrialCompleted: defineEvent(
    'TrialCompleted',
    1,
    z.object({ runId: z.string(), trial: z.number().int(), metrics, pruned: z.boolean() }),
  ),
  ModelEvaluated: defineEvent(
    'ModelEvaluated',
    1,
    z.object({
      runId: z.string(),
      metrics,
      slices: z.record(z.string(), z.unknown()).optional(),
      fairness: z.record(z.string(), z.unknown()).optional(),
      baseline: z.object({ version: z.number().int().optional(), metrics }).optional(),
      blessed: z.boolean(),
    }),
  ),
  TrainingRunCompleted: defineEvent(
    'TrainingRunCompleted',
    1,
    z.object({ runId: z.string(), modelArtifactKey: artifactKey, weightsSha256: sha256Hex, preprocessingArtifactKey: artifactKey }),
  ),
  TrainingRunFailed: defineEvent('TrainingRunFailed', 1, z.object({ runId: z.string(), error: z.string() })),
} as const;
