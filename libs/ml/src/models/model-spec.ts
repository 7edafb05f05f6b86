import { parseOrThrow, ValidationError } from '@mlp/contracts';
import { z } from 'zod';

/** What a model predicts: P(y=1), class probabilities, or a value. */
export type Task = 'binary' | 'multiclass' | 'regression';

const positiveInt = z.number().int().positive();

/**
 * A tabular model as written in a training spec (YAML or JSON). Fields are
 * optional and strict (a misspelt key is an error); `resolveModelSpec` fills
 * the defaults. Embed this schema in a larger spec to validate it in place.
 */
export const modelSpecSchema = z
  .strictObject({
    /** linear: regression only; logistic: binary (sigmoid) or multinomial (softmax); mlp: any task. */
    type: z.enum(['linear', 'logistic', 'mlp']),
    /** Hidden layer sizes of an mlp, input side first. Default [64, 32]. */
    layers: z.array(positiveInt).min(1).optional(),
    /** Hidden activation of an mlp. Default relu. */
    activation: z.enum(['relu', 'tanh', 'elu']).optional(),
    /** Dropout rate after each hidden layer of an mlp, in [0, 1). Default 0. */
    dropout: z.number().min(0).lt(1).optional(),
    /** L2 penalty λ·Σw² on every kernel (not biases), as Keras `l2(λ)`. Default 0. */
    l2: z.number().min(0).optional(),
    optimizer: z.enum(['adam', 'sgd']).optional(),
    /** Default 0.001 for adam, 0.01 for sgd (the Keras defaults). */
    learningRate: z.number().positive().optional(),
    epochs: positiveInt.optional(),
    batchSize: positiveInt.optional(),
    /** Stop when the monitored loss has not improved by more than `minDelta` for `patience` epochs. */
    earlyStopping: z.strictObject({ patience: positiveInt, minDelta: z.number().min(0).optional() }).optional(),
  })
  .superRefine((spec, ctx) => {
    if (spec.type === 'mlp') return;
    for (const key of ['layers', 'activation', 'dropout'] as const) {
      if (spec[key] !== undefined) ctx.addIssue({ code: 'custom', path: [key], message: `only applies to type mlp, not ${spec.type}` });
    }
  });

export type ModelSpec = z.input<typeof modelSpecSchema>;

/** A model spec with every default filled in. */
export interface ResolvedModelSpec {
  type: 'linear' | 'logistic' | 'mlp';
  /** Hidden layer sizes; empty for linear and logistic. */
  layers: number[];
  activation: 'relu' | 'tanh' | 'elu';
  dropout: number;
  l2: number;
  optimizer: 'adam' | 'sgd';
  learningRate: number;
  epochs: number;
  batchSize: number;
  earlyStopping: { patience: number; minDelta: number } | null;
}

export function resolveModelSpec(input: unknown): ResolvedModelSpec {
  const spec = parseOrThrow(modelSpecSchema, input, 'model spec');
  const optimizer = spec.optimizer ?? 'adam';
  return {
    type: spec.type,
    layers: spec.type === 'mlp' ? (spec.layers ?? [64, 32]) : [],
    activation: spec.activation ?? 'relu',
    dropout: spec.dropout ?? 0,
    l2: spec.l2 ?? 0,
    optimizer,
    learningRate: spec.learningRate ?? (optimizer === 'adam' ? 0.001 : 0.01),
    epochs: spec.epochs ?? 50,
    batchSize: spec.batchSize ?? 256,
    earlyStopping: spec.earlyStopping ? { patience: spec.earlyStopping.patience, minDelta: spec.earlyStopping.minDelta ?? 0 } : null,
  };
}

/** linear only regresses and logistic only classifies; mlp does both. */
export function requireTaskFits(spec: Pick<ResolvedModelSpec, 'type'>, task: Task): void {
  const fits = spec.type === 'mlp' || (spec.type === 'linear' ? task === 'regression' : task !== 'regression');
  if (!fits) {
    const allowed = spec.type === 'linear' ? 'regression' : 'binary or multiclass';
    throw new ValidationError(`a ${spec.type} model cannot do ${task}: it supports ${allowed}`, [
      { path: 'task', message: `${spec.type} supports ${allowed} only` },
    ]);
  }
}
