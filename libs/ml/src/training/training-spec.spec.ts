import { ValidationError } from '@mlp/contracts';
import { parseTrainingSpec, parseTrainingSpecYaml, primaryMetric, validateTrainingSpec } from './training-spec';

/** The ValidationError thrown by parseTrainingSpecYaml (fails the test if none is thrown). */
function yamlError(text: string, source?: string): ValidationError {
  try {
    parseTrainingSpecYaml(text, source);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return err as ValidationError;
  }
  throw new Error('expected parseTrainingSpecYaml to throw');
}

/** The detail for a path; fails when there is none. */
function detail(err: ValidationError, path: string): string {
  const found = err.details.find((d) => d.path === path);
  if (!found) throw new Error(`no detail for '${path}'; details: ${JSON.stringify(err.details)}`);
  return found.message;
}

const minimal = ['experiment: churn', 'task: binary', 'data:', '  dataset: {name: customers}', '  label: churned', 'model: {type: logistic}'];

describe('parseTrainingSpecYaml', () => {
  it('parses a minimal spec and fills every default', () => {
    expect(parseTrainingSpecYaml(minimal.join('\n'))).toEqual({
      experiment: 'churn',
      task: 'binary',
      data: { dataset: { name: 'customers' }, label: 'churned', sensitive: [], exclude: [] },
      preprocessing: [],
      split: { method: 'random', test: 0.2 },
      model: { type: 'logistic', epochs: 50, batchSize: 256 },
      seed: 42,
      backend: 'wasm',
      evaluation: { baseline: 'production', gate: {} },
      timeoutMinutes: { trial: 60, run: 1440 },
    });
  });

  it('takes trial and run deadlines and a positive label, and checks them', () => {
    const spec = parseTrainingSpecYaml([...minimal, 'timeoutMinutes: {trial: 0.5}', 'evaluation: {positiveLabel: "yes"}'].join('\n'));
    expect(spec.timeoutMinutes).toEqual({ trial: 0.5, run: 1440 });
    expect(spec.evaluation.positiveLabel).toBe('yes');
    const err = yamlError(
      ['experiment: churn', 'task: regression', 'data:', '  dataset: {name: customers}', '  label: churned', 'model: {type: linear}', 'evaluation: {positiveLabel: 1}'].join('\n'),
    );
    expect(detail(yamlError([...minimal, 'timeoutMinutes: {trial: -1}'].join('\n')), 'timeoutMinutes.trial')).toMatch(/>0|greater than 0/);
    expect(detail(err, 'evaluation.positiveLabel')).toMatch(/only binary tasks/);
    expect(detail(yamlError([...minimal, 'timeoutMinutes: {run: 0}'].join('\n')), 'timeoutMinutes.run')).toMatch(/>0|greater than 0/);
  });

  it('fills defaults inside the optional sections that are given', () => {
    const spec = parseTrainingSpecYaml(
      [
        ...minimal,
        'preprocessing:',
        '  - {scale: standard}',
        '  - {encode: target}',
        'split: {method: stratified}',
        'cv: {}',
        'search: {method: random, space: {lr: {loguniform: [0.001, 0.1]}}}',
      ].join('\n'),
    );
    expect(spec.preprocessing).toEqual([
      { scale: 'standard', columns: 'numeric' },
      { encode: 'target', columns: 'categorical' },
    ]);
    expect(spec.split).toEqual({ method: 'stratified', test: 0.2 });
    expect(spec.cv).toEqual({ folds: 5, method: 'kfold' });
    expect(spec.search).toMatchObject({ method: 'random', trials: 20, parallelism: 1, pruning: { startupTrials: 5 } });
  });

  it('names every wrong field of the shape, each with its line', () => {
    const err = yamlError(
      [
        'experiment: churn', // 1
        'task: clustering', // 2
        'data:', // 3
        '  dataset: {name: customers}', // 4
        '  label: churned', // 5
        'model: {type: logistic}', // 6
        'cv: {folds: 1}', // 7
        'optimizer: adam', // 8: unknown top-level key
      ].join('\n'),
      'train.yaml',
    );
    expect(err.details).toHaveLength(3);
    expect(detail(err, 'task')).toMatch(/^expected one of binary, multiclass, regression, received "clustering" \(line 2, column 7\)$/);
    expect(detail(err, 'cv.folds')).toMatch(/^expected number to be >=2, received 1 \(line 7, column 13\)$/);
    expect(detail(err, 'optimizer')).toMatch(/^unknown key "optimizer"; expected one of experiment, task, .* \(line 8, column 1\)$/);
    // The message lists each problem as file:line:col, in line order.
    expect(err.message).toMatch(/^3 problems in train\.yaml:\n {2}train\.yaml:2:7 task: .*\n {2}train\.yaml:7:13 cv\.folds: .*\n {2}train\.yaml:8:1 optimizer: unknown key/);
  });

  it('names every cross-field rule that fails, each with its line', () => {
    // Cross-field rules run once the shape is valid, so these sit in their own document.
    const err = yamlError(
      [
        'experiment: churn', // 1
        'task: binary', // 2
        'data:', // 3
        '  dataset: {name: customers}', // 4
        '  label: churned', // 5
        'preprocessing:', // 6
        '  - {impute: constant, columns: [plan]}', // 7: no value
        'split: {method: time}', // 8: no column
        'model: {type: linear}', // 9: a regressor
        'search:', // 10
        '  method: random', // 11
        '  metric: rmse', // 12: a regression metric
        '  space:', // 13
        '    momentum: {uniform: [0, 1]}', // 14: not tunable
      ].join('\n'),
    );
    expect(err.details.map((d) => d.path).sort()).toEqual(['model.type', 'preprocessing.0.value', 'search.metric', 'search.space.momentum', 'split.column'].sort());
    expect(detail(err, 'preprocessing.0.value')).toMatch(/^required for impute: constant \(line 7, /);
    expect(detail(err, 'split.column')).toMatch(/^required for a time split \(line 8, /);
    expect(detail(err, 'model.type')).toMatch(/^linear is a regressor; use logistic or mlp for classification \(line 9, column 15\)$/);
    expect(detail(err, 'search.metric')).toMatch(/^not a binary metric; use one of accuracy, .*roc_auc.* \(line 12, column 11\)$/);
    expect(detail(err, 'search.space.momentum')).toMatch(/^not a tunable parameter; use one of learningRate, lr, .* \(line 14, /);
  });

  it('reports a YAML syntax error with its line and column', () => {
    // Line 5 repeats the key of line 2.
    const dup = yamlError(['experiment: churn', 'task: binary', 'data: {dataset: {name: customers}, label: churned}', 'model: {type: logistic}', 'task: regression'].join('\n'), 'spec.yaml');
    expect(dup.message).toBe('spec.yaml:5:1 YAML syntax error: Map keys must be unique');
    expect(dup.details).toEqual([{ path: '', message: 'YAML syntax error: Map keys must be unique (line 5, column 1)' }]);
    // An unclosed flow mapping on line 4 is reported where the document ends (line 5).
    const open = yamlError(['experiment: churn', 'task: binary', 'data: {dataset: {name: customers}, label: churned}', 'model: {type: logistic', ''].join('\n'));
    expect(open.message).toMatch(/^train\.yaml:5:1 YAML syntax error: Flow map/);
  });
});

describe('parseTrainingSpec (plain value)', () => {
  const base = { experiment: 'churn', task: 'binary', data: { dataset: { name: 'customers' }, label: 'churned' }, model: { type: 'logistic' } };

  it('throws one ValidationError whose details name each path', () => {
    let thrown: unknown;
    try {
      parseTrainingSpec({ ...base, data: { ...base.data, exclude: ['churned'] }, task: 'regression', model: { type: 'logistic' } });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ValidationError);
    expect((thrown as ValidationError).details.map((d) => d.path).sort()).toEqual(['data.exclude', 'model.type']);
  });

  it('rejects a spec with both or neither data sources', () => {
    const neither = validateTrainingSpec({ ...base, data: { label: 'churned' } });
    expect(neither.ok || neither.issues.map((i) => i.path)).toEqual([['data']]);
    const both = validateTrainingSpec({ ...base, data: { ...base.data, trainingSet: { entities: { dataset: 'customers' }, features: ['usage'] } } });
    expect(both.ok || both.issues.map((i) => i.message)).toEqual(['give exactly one of trainingSet or dataset']);
  });

  it('needs a time column for time-series CV, from cv.column or a time split', () => {
    const r = validateTrainingSpec({ ...base, cv: { method: 'timeseries', folds: 3 } });
    expect(r.ok || r.issues).toEqual([{ path: ['cv', 'column'], message: 'required for timeseries CV (or use a time split)' }]);
    expect(validateTrainingSpec({ ...base, cv: { method: 'timeseries', column: 'ts' } }).ok).toBe(true);
    expect(validateTrainingSpec({ ...base, split: { method: 'time', column: 'ts' }, cv: { method: 'timeseries' } }).ok).toBe(true);
  });

  it('refuses a column on a random or stratified split, which would silently drop it from the features', () => {
    const r = validateTrainingSpec({ ...base, split: { method: 'random', column: 'region' } });
    expect(r.ok || r.issues).toEqual([{ path: ['split', 'column'], message: 'a random split takes no column (only time and group splits do)' }]);
    expect(validateTrainingSpec({ ...base, split: { method: 'group', column: 'region' } }).ok).toBe(true);
  });

  it('accepts a metric of the task and picks the primary metric', () => {
    const r = validateTrainingSpec({ ...base, search: { method: 'random', metric: 'f1', space: {} } });
    expect(r.ok).toBe(true);
    if (r.ok) expect(primaryMetric(r.spec)).toBe('f1');
    expect(primaryMetric({ task: 'regression' })).toBe('rmse');
    expect(primaryMetric({ task: 'binary' })).toBe('roc_auc');
    expect(primaryMetric({ task: 'multiclass' })).toBe('accuracy');
  });
});
