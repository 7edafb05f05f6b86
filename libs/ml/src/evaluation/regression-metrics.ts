/** Regression metrics with scikit-learn semantics (names in camelCase). */
import { mean, requireFinite, requireSameLength } from './metric-inputs';

function residuals(yTrue: readonly number[], yPred: readonly number[]): number[] {
  requireSameLength(yTrue, yPred, 'yTrue', 'yPred');
  requireFinite(yTrue, 'yTrue');
  requireFinite(yPred, 'yPred');
  return yTrue.map((y, i) => y - yPred[i]);
}

export function meanAbsoluteError(yTrue: readonly number[], yPred: readonly number[]): number {
  return mean(residuals(yTrue, yPred).map(Math.abs));
}

export function meanSquaredError(yTrue: readonly number[], yPred: readonly number[]): number {
  return mean(residuals(yTrue, yPred).map((r) => r * r));
}

export function rootMeanSquaredError(yTrue: readonly number[], yPred: readonly number[]): number {
  return Math.sqrt(meanSquaredError(yTrue, yPred));
}

/**
 * Coefficient of determination (sklearn `r2_score`). With a constant yTrue
 * the ratio is undefined; like sklearn (`force_finite=True`) the score is then
 * 1 for perfect predictions and 0 otherwise.
 */
export function r2Score(yTrue: readonly number[], yPred: readonly number[]): number {
  const r = residuals(yTrue, yPred);
  const yMean = mean(yTrue);
  const residualSum = r.reduce((s, x) => s + x * x, 0);
  const totalSum = yTrue.reduce((s, y) => s + (y - yMean) ** 2, 0);
  if (totalSum === 0) return residualSum === 0 ? 1 : 0;
  return 1 - residualSum / totalSum;
}

/**
 * Mean absolute percentage error as a fraction, not a percent (sklearn
 * `mean_absolute_percentage_error`): |y − ŷ| / max(|y|, ε) with ε the float64
 * machine epsilon, so a zero target gives a huge but finite error.
 */
export function meanAbsolutePercentageError(yTrue: readonly number[], yPred: readonly number[]): number {
  const r = residuals(yTrue, yPred);
  return mean(r.map((x, i) => Math.abs(x) / Math.max(Math.abs(yTrue[i]), Number.EPSILON)));
}

