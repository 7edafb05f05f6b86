import { lowerIsBetter } from '@mlp/ml';

/**
 * When performance counts as degraded: below an absolute `minimum` (above it
 * for lower-is-better metrics such as rmse, read as a maximum), or worse than
 * the version's holdout value by more than `maxDrop`. The policy decides the
 * numbers; this is the one place that compares them.
 */
export interface DegradationRule {
  metric: string;
  minimum?: number;
  maxDrop?: number;
}

/** The broken rule in words, or null when the value is acceptable (or the metric was not measured). */
export function degradation(rule: DegradationRule, measured: Readonly<Record<string, number>>, reference: Readonly<Record<string, number>>): string | null {
  const value = measured[rule.metric];
  if (value === undefined || !Number.isFinite(value)) return null;
  const lower = lowerIsBetter.has(rule.metric);
  const fmt = (x: number) => Number(x.toPrecision(4)).toString();
  if (rule.minimum !== undefined && (lower ? value > rule.minimum : value < rule.minimum)) {
    return `${rule.metric} ${fmt(value)} ${lower ? '>' : '<'} ${lower ? 'maximum' : 'minimum'} ${fmt(rule.minimum)}`;
  }
  const ref = reference[rule.metric];
  if (rule.maxDrop !== undefined && ref !== undefined) {
    const drop = lower ? value - ref : ref - value;
    if (drop > rule.maxDrop) return `${rule.metric} ${fmt(value)} is ${fmt(drop)} worse than the holdout ${fmt(ref)} (allowed ${fmt(rule.maxDrop)})`;
  }
  return null;
}
