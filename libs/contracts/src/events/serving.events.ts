import { z } from 'zod';
import { defineEvent } from '../event-definition';
import { name, sha256Hex } from './common';

/**
 * What a serving instance did with a model version (stream `serving-<model>`):
 * one event per load, failed load and unload. `instance` names the serving
 * process (MLP_SERVING_INSTANCE); `aliases` are the served aliases the
 * version answers for when the event was written.
 */
export const servingEvents = {
  ModelLoaded: defineEvent(
    'ModelLoaded',
    1,
    z.object({
      name,
      version: z.number().int().positive(),
      aliases: z.array(z.string().min(1)).default([]),
      instance: z.string().min(1),
      /** tfjs backend the version runs on (`wasm`, `cpu`, `tensorflow`). */
      backend: z.string().min(1),
      weightsSha256: sha256Hex.nullable().default(null),
      /** Artifact reads plus model build, and the warm-up predictions, in milliseconds. */
      loadMs: z.number().min(0),
      warmupMs: z.number().min(0),
      /** Bytes of the weights held in memory. */
      weightsBytes: z.number().int().min(0).default(0),
    }),
  ),
  ModelUnloaded: defineEvent(
    'ModelUnloaded',
    1,
    z.object({
      name,
      version: z.number().int().positive(),
      instance: z.string().min(1),
      /** Why: `replaced` (its alias moved), `alias-removed`, `shutdown`. */
      reason: z.string().min(1).max(2000),
      /** Requests the version answered while loaded. */
      requests: z.number().int().min(0).default(0),
    }),
  ),
  /** A version could not be loaded; whatever served the alias before keeps serving. */
  ModelLoadFailed: defineEvent(
    'ModelLoadFailed',
    1,
    z.object({
      name,
      version: z.number().int().positive(),
      aliases: z.array(z.string().min(1)).default([]),
      instance: z.string().min(1),
      /** Error code (`ARTIFACT_NOT_FOUND`, `VALIDATION_FAILED`, …) and message; never a stack. */
      code: z.string().min(1),
      reason: z.string().min(1).max(4000),
      /** The version still answering for the aliases, null when none does. */
      keptVersion: z.number().int().positive().nullable().default(null),
    }),
  ),
} as const;
