import { DateParts } from '../preprocessing/date-parts';
import type { SlashOrder } from '../preprocessing/dates';
import { OneHotEncoder, OrdinalEncoder, TargetEncoder } from '../preprocessing/encoders';
import { IqrClipper, ZScoreClipper } from '../preprocessing/outliers';
import { Pipeline, type PipelineStep } from '../preprocessing/pipeline';
import { MinMaxScaler, RobustScaler, StandardScaler } from '../preprocessing/scalers';
import { SimpleImputer } from '../preprocessing/simple-imputer';
import { FeatureSelector } from '../selection/feature-selector';
import type { DateColumn } from './date-columns';
import type { PreprocessingStepSpec, TrainingSpec } from './training-spec';

/**
 * An unfitted pipeline for the spec's preprocessing steps, in order. Each
 * fold of a trial gets a fresh one, fitted on that fold's training rows only.
 * A `columns: categorical` encode step leaves out columns the data rules
 * dropped, because those never reach the pipeline.
 *
 * Date columns (`dates`, from the data rules) are taken apart first: those
 * of the automatic expansion by a `dateparts_auto` step keeping the parts
 * that vary in the fold's training rows, the others by their `dateparts`
 * step (which the spec puts before every other step).
 */
export function pipelineFromSpec(spec: Pick<TrainingSpec, 'preprocessing' | 'featureSelection' | 'task'>, dates: readonly DateColumn[] = []): Pipeline {
  const slashOrders = (of: readonly DateColumn[]): Record<string, SlashOrder> => Object.fromEntries(of.flatMap((d) => (d.slashOrder ? [[d.column, d.slashOrder]] : [])));
  const auto = dates.filter((d) => d.step === 'auto');
  const steps: PipelineStep[] = [];
  if (auto.length > 0) steps.push({ name: 'dateparts_auto', columns: auto.map((d) => d.column), transformer: new DateParts({ parts: 'auto', slashOrder: slashOrders(auto) }) });
  spec.preprocessing.forEach((step, i) => {
    if (!('dateparts' in step)) {
      steps.push(toStep(step, i));
      return;
    }
    const mine = dates.filter((d) => d.step === i);
    const slashOrder = step.dayFirst === undefined ? slashOrders(mine) : Object.fromEntries(mine.map((d) => [d.column, step.dayFirst ? 'dmy' : 'mdy'] as const));
    steps.push({ name: `${i}:dateparts`, columns: step.columns ?? mine.map((d) => d.column), transformer: new DateParts({ parts: step.dateparts, slashOrder }) });
  });
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

function toStep(step: Exclude<PreprocessingStepSpec, { dateparts: unknown }>, i: number): PipelineStep {
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
