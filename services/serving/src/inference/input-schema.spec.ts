import { ValidationError } from '@mlp/contracts';
import { InputSchema } from './input-schema';
import { frameFromTensors } from './v2-codec';

const schema = new InputSchema({
  inputs: [
    { name: 'tenure', type: 'float', nullable: true },
    { name: 'monthly', type: 'float', nullable: false },
    { name: 'seats', type: 'int', nullable: false },
    { name: 'plan', type: 'category', nullable: false, values: ['basic', 'pro'] },
    { name: 'active', type: 'bool', nullable: false },
  ],
});
const good = { tenure: 3.5, monthly: 20, seats: 2, plan: 'pro', active: true };

/** The field issues of a rejected input. */
function issues(f: () => unknown): { path: string; message: string }[] {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).code).toBe('INVALID_INPUT');
    return (err as ValidationError).details;
  }
  throw new Error('expected a ValidationError');
}

describe('InputSchema: named instances', () => {
  it('accepts valid rows and builds one column per input, in signature order', () => {
    const frame = schema.frameFromRows([good, { ...good, tenure: null }], 'instances');
    expect(Object.keys(frame)).toEqual(['tenure', 'monthly', 'seats', 'plan', 'active']);
    expect(frame.tenure).toEqual([3.5, null]);
    expect(frame.plan).toEqual(['pro', 'pro']);
  });

  it('missing feature → 400 naming it', () => {
    const { monthly: _m, ...rest } = good;
    expect(issues(() => schema.frameFromRows([good, rest], 'instances'))).toEqual([{ path: 'instances[1].monthly', message: expect.stringContaining("missing feature 'monthly'") }]);
  });

  it('unknown feature → 400 naming it', () => {
    expect(issues(() => schema.frameFromRows([{ ...good, colour: 'red' }], 'instances'))).toEqual([{ path: 'instances[0].colour', message: expect.stringContaining("unknown feature 'colour'") }]);
  });

  it('wrongly typed feature → 400 naming it (string for a float, float for an int, number for a bool)', () => {
    expect(issues(() => schema.frameFromRows([{ ...good, monthly: '20', seats: 2.5, active: 1 }], 'instances')).map((i) => i.path)).toEqual([
      'instances[0].monthly',
      'instances[0].seats',
      'instances[0].active',
    ]);
  });

  it('value outside the allowed categories → 400 listing them', () => {
    expect(issues(() => schema.frameFromRows([{ ...good, plan: 'gold' }], 'instances'))).toEqual([{ path: 'instances[0].plan', message: expect.stringContaining('must be one of "basic", "pro"') }]);
  });

  it('NaN where it is not allowed → 400 (allowed, as missing, where the input is nullable)', () => {
    expect(issues(() => schema.frameFromRows([{ ...good, monthly: NaN }], 'instances'))).toEqual([{ path: 'instances[0].monthly', message: "'monthly' may not be NaN" }]);
    expect(schema.frameFromRows([{ ...good, tenure: NaN }], 'instances').tenure).toEqual([null]);
  });

  it('null where the input is not nullable → 400', () => {
    expect(issues(() => schema.frameFromRows([{ ...good, plan: null }], 'instances'))).toEqual([{ path: 'instances[0].plan', message: "'plan' may not be null" }]);
  });

  it('below the min the signature declares → 400 naming the field', () => {
    const bounded = new InputSchema({ inputs: [{ name: 'monthly', type: 'float', nullable: false, min: 0, max: 500 }] });
    expect(bounded.frameFromRows([{ monthly: 0 }], 'instances').monthly).toEqual([0]);
    expect(issues(() => bounded.frameFromRows([{ monthly: 0 }, { monthly: -0.5 }], 'instances'))).toEqual([{ path: 'instances[1].monthly', message: "'monthly' must be at least 0, received -0.5" }]);
  });

  it('above the max the signature declares → 400 naming the field', () => {
    const bounded = new InputSchema({ inputs: [{ name: 'seats', type: 'int', nullable: true, max: 100 }] });
    expect(bounded.frameFromRows([{ seats: 100 }, { seats: null }], 'instances').seats).toEqual([100, null]);
    expect(issues(() => bounded.frameFromRows([{ seats: 101 }], 'instances'))).toEqual([{ path: 'instances[0].seats', message: "'seats' must be at most 100, received 101" }]);
  });

  it('reports every bad field of every row at once', () => {
    expect(issues(() => schema.frameFromRows([{ ...good, plan: 'x' }, { ...good, seats: 'two' }, 'not a row'] as never, 'instances')).map((i) => i.path)).toEqual([
      'instances[0].plan',
      'instances[1].seats',
      'instances[2]',
    ]);
  });
});

describe('V2 tensors', () => {
  const col = (name: string, datatype: string, data: unknown[], shape = [data.length]) => ({ name, datatype, shape, data });
  const perFeature = [col('tenure', 'FP32', [1, null]), col('monthly', 'FP64', [20, 30]), col('seats', 'INT64', [1, 2]), col('plan', 'BYTES', ['basic', 'pro']), col('active', 'BOOL', [true, false])];

  it('one tensor per feature ([N] or [N, 1])', () => {
    const { frame, n } = frameFromTensors(schema, [...perFeature.slice(0, 4), col('active', 'BOOL', [true, false], [2, 1])]);
    expect(n).toBe(2);
    expect(frame.tenure).toEqual([1, null]);
    expect(frame.active).toEqual([true, false]);
  });

  it('one [N, F] tensor in signature order (BYTES carries mixed features, numbers as text)', () => {
    const { frame, n } = frameFromTensors(schema, [{ name: 'input', datatype: 'BYTES', shape: [1, 5], data: ['2.5', '20', '3', 'basic', 'true'] }]);
    expect(n).toBe(1);
    expect(frame).toEqual({ tenure: [2.5], monthly: [20], seats: [3], plan: ['basic'], active: [true] });
  });

  it('wrong shape: data length differs from the shape → 400', () => {
    expect(issues(() => frameFromTensors(schema, [col('tenure', 'FP32', [1, 2, 3], [2]), ...perFeature.slice(1)]))).toEqual([
      { path: 'inputs[0].data', message: 'shape [2] holds 2 values, received 3' },
    ]);
  });

  it('wrong shape: batch sizes differ, or an [N, F] tensor with the wrong F → 400', () => {
    expect(issues(() => frameFromTensors(schema, [col('tenure', 'FP32', [1]), ...perFeature.slice(1)]))[0].message).toContain('same batch size');
    expect(issues(() => frameFromTensors(schema, [{ name: 'input', datatype: 'FP32', shape: [1, 3], data: [1, 2, 3] }]))[0]).toEqual({
      path: 'inputs[0].shape',
      message: expect.stringContaining('F = 5 columns'),
    });
  });

  it('unknown datatype, or a value that does not fit the datatype → 400', () => {
    expect(issues(() => frameFromTensors(schema, [col('tenure', 'FLOAT', [1, 2]), ...perFeature.slice(1)]))[0].path).toBe('inputs[0].datatype');
    expect(issues(() => frameFromTensors(schema, [perFeature[0], perFeature[1], col('seats', 'INT64', [1, 2.5]), ...perFeature.slice(3)]))[0]).toEqual({
      path: 'inputs[2].data[1]',
      message: 'a INT64 tensor holds integers, received 2.5',
    });
  });

  it('a missing or unknown input tensor → 400 naming it', () => {
    const paths = issues(() => frameFromTensors(schema, [...perFeature.slice(1), col('colour', 'BYTES', ['red', 'blue'])])).map((i) => i.path);
    expect(paths).toEqual(['inputs.tenure', 'inputs[4]']);
  });

  it('a tensor value outside the declared min/max → 400 naming the tensor and row', () => {
    const bounded = new InputSchema({ inputs: [{ name: 'monthly', type: 'float', nullable: false, min: 0, max: 500 }] });
    expect(issues(() => frameFromTensors(bounded, [col('monthly', 'FP64', [10, 501, -1])]))).toEqual([
      { path: 'inputs[0][1]', message: "'monthly' must be at most 500, received 501" },
      { path: 'inputs[0][2]', message: "'monthly' must be at least 0, received -1" },
    ]);
  });

  it('NaN in an FP tensor (gRPC raw contents) for a non-nullable input → 400', () => {
    expect(issues(() => frameFromTensors(schema, [perFeature[0], col('monthly', 'FP64', [NaN, 1]), ...perFeature.slice(2)]))).toEqual([
      { path: 'inputs[1][0]', message: "'monthly' may not be NaN" },
    ]);
  });
});
