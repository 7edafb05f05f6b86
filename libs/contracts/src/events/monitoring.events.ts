import { z } from 'zod';
import { defineEvent } from '../event-definition';
import { name } from './common';

export const monitoringEvents = {
  /** A monitor exists for a registered model: created by the monitoring process manager. */
  MonitorCreated: defineEvent(
    'MonitorCreated',
    1,
    z.object({ model: name, policy: z.record(z.string(), z.unknown()).default({}), sourceEventId: z.uuid() }),
  ),
} as const;
