import { ValidationError } from '@mlp/contracts';
import { InputSchema } from '../inference/input-schema';
import { outputLayout } from './batch-chunk';
import { checkColumns } from './batch-input';

const columns = [
  { name: 'id', type: 'BIGINT' },
  { name: 'tags', type: 'VARCHAR[]' },
  { name: 'x', type: 'DOUBLE' },
];

describe('batch output layout', () => {
  it('keeps passthrough types (non-scalar ones as text) and types the prediction by the classes', () => {
    expect(outputLayout({ task: 'binary', classes: ['no', 'yes'] }, columns, ['id', 'tags'])).toEqual({
      output: [
        { name: '_row', type: 'BIGINT' },
        { name: 'id', type: 'BIGINT' },
        { name: 'tags', type: 'VARCHAR' },
        { name: 'prediction', type: 'VARCHAR' },
        { name: 'probability_no', type: 'DOUBLE' },
        { name: 'probability_yes', type: 'DOUBLE' },
      ],
      rejects: [
        { name: '_row', type: 'BIGINT' },
        { name: 'id', type: 'BIGINT' },
        { name: 'tags', type: 'VARCHAR' },
        { name: 'input', type: 'VARCHAR' },
        { name: 'reasons', type: 'VARCHAR' },
      ],
    });
    expect(outputLayout({ task: 'multiclass', classes: [1, 2, 3] }, columns, []).output.map((c) => `${c.name}:${c.type}`)).toEqual([
      '_row:BIGINT',
      'prediction:DOUBLE',
      'probability_1:DOUBLE',
      'probability_2:DOUBLE',
      'probability_3:DOUBLE',
    ]);
    expect(outputLayout({ task: 'regression', classes: [] }, columns, []).output.map((c) => c.name)).toEqual(['_row', 'prediction']);
  });

  it('refuses an input column named like an output column, naming it', () => {
    let thrown: unknown;
    try {
      outputLayout({ task: 'binary', classes: ['no', 'yes'] }, [...columns, { name: 'prediction', type: 'VARCHAR' }], ['id', 'prediction']);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ValidationError);
    expect((thrown as ValidationError).details).toEqual([{ path: 'input.columns.prediction', message: expect.stringContaining('rename it') }]);
  });

  it('names every model input the file lacks', () => {
    const schema = new InputSchema({ inputs: [{ name: 'x', type: 'float', nullable: false }, { name: 'plan', type: 'category', nullable: false }, { name: 'age', type: 'int', nullable: true }] });
    let thrown: unknown;
    try {
      checkColumns(columns, schema.inputs);
    } catch (err) {
      thrown = err;
    }
    expect((thrown as ValidationError).details?.map((d) => d.path)).toEqual(['input.columns.plan', 'input.columns.age']);
    expect(() => checkColumns([...columns, { name: 'plan', type: 'VARCHAR' }, { name: 'age', type: 'INTEGER' }], schema.inputs)).not.toThrow();
  });
});
