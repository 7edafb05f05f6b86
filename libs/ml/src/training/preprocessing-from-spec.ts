import { OneHotEncoder, OrdinalEncoder, TargetEncoder } from '../preprocessing/encoders';
import { IqrClipper, ZScoreClipper } from '../preprocessing/outliers';
import { Pipeline, type PipelineStep } from '../preprocessing/pipeline';
import { MinMaxScaler, RobustScaler, StandardScaler } from '../preprocessing/scalers';
import { SimpleImputer } from '../preprocessing/simple-imputer';
import { FeatureSelector } from '../selection/feature-selector';
import type { PreprocessingStepSpec, TrainingSpec } from './training-spec';

/**
 * An unfitted pipeline for the spec's preprocessing steps, in order. Each
 * fold of a trial gets a fresh one, fitted on that fold's training rows only.
 * A `columns: categorical` encode step leaves out columns the data rules
 * dropped, because those never reach the pipeline.
 */
export function pipelineFromSpec(spec: Pick<TrainingSpec, 'preprocessing' | 'featureSelection' | 'task'>): Pipeline {
  const steps = spec.preprocessing.map((step, i) => toStep(step, i));
  const fs = spec.featureSelection;
  if (fs) {
    // Last, on the numeric columns the steps produced (it needs the target, like the target encoder).
    const selector =
      fs.method === 'variance'
        ? new FeatureSelector({ method: 'variance', ...(fs.threshold !== undefined ? { threshold: fs.threshold } : {}) })
        : fs.method === 'correlation'
          ? new FeatureSelector({ method: 'correlation', k: fs.k! })
          : new FeatureSelector({ method: 'mutual_info', k: fs.k!, task: spec.task === 'regression' ? 'regression' : 'classification' });
    steps.push({ name: `select_${fs.method}`, columns: 'numeric', transformer: selector });
  }
  return new Pipeline(steps);
}

function toStep(step: PreprocessingStepSpec, i: number): PipelineStep {
  if ('impute' in step) {
    return {
      name: `${i}:impute_${step.impute}`,
      columns: step.columns ?? (step.impute === 'mean' || step.impute === 'median' ? 'numeric' : 'categorical'),
      transformer: new SimpleImputer({ strategy: step.impute, ...(step.value !== undefined ? { fillValue: step.value } : {}) }),
    };
  }
  if ('scale' in step) {
    const scaler = step.scale === 'standard' ? new StandardScaler() : step.scale === 'minmax' ? new MinMaxScaler() : new RobustScaler();
    return { name: `${i}:scale_${step.scale}`, columns: step.columns, transformer: scaler };
  }
  if ('encode' in step) {
    const encoder =
      step.encode === 'onehot'
        ? new OneHotEncoder({ handleUnknown: 'ignore' })
        : step.encode === 'ordinal'
          ? new OrdinalEncoder({ handleUnknown: 'ignore' })
          : new TargetEncoder(step.smoothing !== undefined ? { smoothing: step.smoothing } : {});
    return { name: `${i}:encode_${step.encode}`, columns: step.columns, transformer: encoder };
  }
  const clipper = step.clipOutliers === 'iqr' ? new IqrClipper(step.factor !== undefined ? { factor: step.factor } : {}) : new ZScoreClipper(step.threshold !== undefined ? { threshold: step.threshold } : {});
  return { name: `${i}:clip_${step.clipOutliers}`, columns: step.columns, transformer: clipper };
}
