import { ValidationError } from '@mlp/contracts';
import { canonicalKey, parseSearchSpace, serializeSearchSpace } from './search-space';

/** The issues of the ValidationError that parsing `input` throws. */
function issuesOf(input: unknown): { path: string; message: string }[] {
  try {
    parseSearchSpace(input);
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as ValidationError).details;
  }
  throw new Error('expected a ValidationError');
}

describe('parseSearchSpace', () => {
  const config = {
    lr: { loguniform: [1e-4, 1e-1] },
    layers: { choice: [[32], [64, 32]] },
    dropout: { uniform: [0, 0.5] },
    units: { int: [16, 128] },
    batch: { int: [32, 256], log: true },
    width: { int: [16, 128], step: 16 },
  };

  it('reads each distribution with its defaults (int step 1, linear scale) and keeps the written order', () => {
    const space = parseSearchSpace(config);
    expect(Object.keys(space)).toEqual(['lr', 'layers', 'dropout', 'units', 'batch', 'width']);
    expect(space).toEqual({
      lr: { kind: 'loguniform', low: 1e-4, high: 1e-1 },
      layers: { kind: 'choice', choices: [[32], [64, 32]] },
      dropout: { kind: 'uniform', low: 0, high: 0.5 },
      units: { kind: 'int', low: 16, high: 128, step: 1, log: false },
      batch: { kind: 'int', low: 32, high: 256, step: 1, log: true },
      width: { kind: 'int', low: 16, high: 128, step: 16, log: false },
    });
  });

  it('round-trips: serialize gives back the config, and parsing that gives the same space', () => {
    const space = parseSearchSpace(config);
    expect(serializeSearchSpace(space)).toEqual(config);
    expect(parseSearchSpace(JSON.parse(JSON.stringify(serializeSearchSpace(space))))).toEqual(space);
    const odd = { c: { choice: [null, true, 'a', { k: [1, 2] }] }, n: { int: [1, 9], log: true, step: 1 } };
    expect(parseSearchSpace(serializeSearchSpace(parseSearchSpace(odd)))).toEqual(parseSearchSpace(odd));
  });

  it.each([
    ['a non-positive log bound', { lr: { loguniform: [0, 0.1] } }, 'lr.loguniform', /positive/],
    ['lo >= hi (uniform)', { dropout: { uniform: [0.5, 0.5] } }, 'dropout.uniform', /lo must be less than hi/],
    ['lo >= hi (loguniform)', { lr: { loguniform: [0.1, 0.01] } }, 'lr.loguniform', /lo must be less than hi/],
    ['lo >= hi (int)', { units: { int: [8, 4] } }, 'units.int', /lo must be less than hi/],
    ['an empty choice', { layers: { choice: [] } }, 'layers.choice', /at least one/],
    ['a duplicate choice', { act: { choice: ['relu', 'tanh', 'relu'] } }, 'act.choice.2', /duplicate/],
    ['step with log', { batch: { int: [32, 256], log: true, step: 2 } }, 'batch.step', /log/],
    ['a step that does not divide the range', { units: { int: [16, 128], step: 10 } }, 'units.step', /multiple of step/],
    ['a log int below 1', { n: { int: [0, 10], log: true } }, 'n.int', /at least 1/],
    ['no distribution', { x: { low: 0 } }, 'x', /one of uniform, loguniform, int, choice/],
    ['two distributions', { x: { uniform: [0, 1], choice: [1] } }, 'x', /more than one/],
    ['a distribution that is not an object', { x: [0, 1] }, 'x', /must be an object/],
  ])('names the field for %s', (_case, input, path, message) => {
    const issues = issuesOf(input);
    expect(issues).toHaveLength(1);
    expect(issues[0].path).toBe(path);
    expect(issues[0].message).toMatch(message);
  });

  it('names the element for malformed bounds and unknown keys', () => {
    expect(issuesOf({ units: { int: [1.5, 4] } }).map((i) => i.path)).toEqual(['units.int.0']);
    expect(issuesOf({ x: { uniform: [0] } })[0].path).toMatch(/^x\.uniform/);
    expect(issuesOf({ x: { uniform: [0, 'one'] } })[0].path).toBe('x.uniform.1');
    expect(issuesOf({ x: { uniform: [0, 1], steps: 3 } })[0]).toEqual({ path: 'x', message: expect.stringMatching(/steps/) });
  });

  it('reports every bad parameter at once, in the message too', () => {
    let error: ValidationError | undefined;
    try {
      parseSearchSpace({ a: { uniform: [1, 0] }, ok: { int: [1, 2] }, b: { choice: [] } });
    } catch (e) {
      error = e as ValidationError;
    }
    expect(error?.details.map((i) => i.path)).toEqual(['a.uniform', 'b.choice']);
    expect(error?.message).toMatch(/a\.uniform: .*b\.choice: /);
  });

  it('rejects something that is not a non-empty map', () => {
    expect(issuesOf([1, 2])[0].message).toMatch(/map of parameter name/);
    expect(issuesOf(null)[0].message).toMatch(/map of parameter name/);
    expect(issuesOf({})[0].message).toMatch(/at least one parameter/);
  });
});

describe('canonicalKey', () => {
  it('is the same for equal values whatever their key order, and differs otherwise', () => {
    expect(canonicalKey({ a: 1, b: [1, { c: 2, d: 3 }] })).toBe(canonicalKey({ b: [1, { d: 3, c: 2 }], a: 1 }));
    expect(canonicalKey([64, 32])).not.toBe(canonicalKey([32, 64]));
    expect(canonicalKey('1')).not.toBe(canonicalKey(1));
  });
});
