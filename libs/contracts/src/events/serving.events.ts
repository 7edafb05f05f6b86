import { z } from 'zod';
import { defineEvent } from '../event-definition';
import { name } from './common';

const target = z.object({ version: z.number().int().positive(), weight: z.number().min(0).max(100) });

export const servingEvents = {
  DeploymentStarted: defineEvent(
    'DeploymentStarted',
    1,
    z.object({ model: name, mode: z.enum(['single', 'canary', 'ab', 'shadow', 'blue-green']), targets: z.array(target).min(1) }),
  ),
  TrafficShifted: defineEvent('TrafficShifted', 1, z.object({ model: name, targets: z.array(target).min(1), reason: z.string().optional() })),
  DeploymentPromoted: defineEvent('DeploymentPromoted', 1, z.object({ model: name, version: z.number().int() })),
  DeploymentRolledBack: defineEvent(
    'DeploymentRolledBack',
    1,
    z.object({ model: name, fromVersion: z.number().int(), toVersion: z.number().int(), reason: z.string() }),
  ),
  ModelLoaded: defineEvent('ModelLoaded', 1, z.object({ model: name, version: z.number().int(), replica: z.string() })),
  ModelUnloaded: defineEvent('ModelUnloaded', 1, z.object({ model: name, version: z.number().int(), replica: z.string() })),
} as const;
