import { z } from 'zod';
import { defineEvent } from '../event-definition';
import { artifactKey, metrics, name } from './common';

export const monitoringEvents = {
  /** A monitor exists for a registered model: created by the monitoring process manager. */
  MonitorCreated: defineEvent(
    'MonitorCreated',
    1,
    z.object({ model: name, policy: z.record(z.string(), z.unknown()).default({}), sourceEventId: z.uuid() }),
  ),
  BaselineRecorded: defineEvent('BaselineRecorded', 1, z.object({ model: name, version: z.number().int(), artifactKey })),
  DriftReportComputed: defineEvent(
    'DriftReportComputed',
    1,
    z.object({ model: name, version: z.number().int(), window: z.object({ from: z.string(), to: z.string() }), features: z.record(z.string(), metrics), artifactKey }),
  ),
  DriftDetected: defineEvent('DriftDetected', 1, z.object({ model: name, version: z.number().int(), features: z.array(z.string()), statistic: z.string() })),
  PerformanceDegraded: defineEvent('PerformanceDegraded', 1, z.object({ model: name, version: z.number().int(), metric: z.string(), value: z.number(), threshold: z.number() })),
  AlertRaised: defineEvent('AlertRaised', 1, z.object({ model: name, alertId: z.string(), severity: z.enum(['info', 'warning', 'critical']), message: z.string() })),
  AlertResolved: defineEvent('AlertResolved', 1, z.object({ model: name, alertId: z.string() })),
  RetrainingTriggered: defineEvent('RetrainingTriggered', 1, z.object({ model: name, reason: z.string(), policy: z.string() })),
} as const;
