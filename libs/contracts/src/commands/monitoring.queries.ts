import { z } from 'zod';
import { name } from '../events/common';

/** `mlp.qry.monitoring.drift-history` and `GET /monitoring/:model/drift`: reports over time, optionally one feature and a time range. */
export const driftHistoryQuerySchema = z
  .object({
    model: name,
    feature: z.string().min(1).max(200).optional(),
    version: z.coerce.number().int().positive().optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    limit: z.coerce.number().int().min(1).max(10_000).default(500),
  })
  .strict();
export type DriftHistoryQuery = z.output<typeof driftHistoryQuerySchema>;

/** `mlp.qry.monitoring.performance-history` and `GET /monitoring/:model/performance`: metric windows per version and arm. */
export const performanceHistoryQuerySchema = z
  .object({
    model: name,
    version: z.coerce.number().int().positive().optional(),
    arm: z.string().min(1).max(100).optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    limit: z.coerce.number().int().min(1).max(10_000).default(500),
  })
  .strict();
export type PerformanceHistoryQuery = z.output<typeof performanceHistoryQuerySchema>;

/** `mlp.qry.monitoring.compare-arms` and `GET /monitoring/:model/arms`: the latest window of each arm, compared. */
export const compareArmsQuerySchema = z
  .object({
    model: name,
    /** Two-sided significance for naming a winner (default 0.05). */
    alpha: z.coerce.number().gt(0).lt(1).default(0.05),
  })
  .strict();
export type CompareArmsQuery = z.output<typeof compareArmsQuerySchema>;

/** One arm's accuracy in a two-proportion comparison. */
export interface ArmStats {
  arm: string;
  version: number;
  labelled: number;
  correct: number;
  accuracy: number;
}

export interface ArmComparison {
  metric: 'accuracy';
  arms: ArmStats[];
  /** The two arms compared (the two with most labels), the z statistic and two-sided p-value of the pooled two-proportion z-test. */
  a?: string;
  b?: string;
  difference?: number;
  z?: number;
  pValue?: number;
  /** 95% (1 − alpha) Wald interval of accuracy(a) − accuracy(b). */
  interval?: [number, number];
  /** The better arm when p < alpha, else null (no significant difference). */
  winner: string | null;
  /** 1 − p for the winner; null without one. */
  confidence: number | null;
  reason?: string;
}
