import { parseSchemaYaml } from '@mlp/data';
import { validatePushedRows } from './push-validation';

const schema = parseSchemaYaml(`
dataset: orders
primaryKey: [id]
columns:
  id: {type: int, required: true}
  amount: {type: float, min: 0, max: 1000}
  status: {type: category, values: [new, paid]}
`);
const rows = (...lines: string[]) => lines.map((l) => Buffer.from(l));

describe('validatePushedRows (DuckDB engine)', () => {
  jest.setTimeout(30_000);

  it('reports each failing row with the engine reasons, numbered from 1 in request order', async () => {
    const result = await validatePushedRows(
      'orders',
      [
        ...rows('{"id":1,"amount":10,"status":"new"}', '{"id":"x","amount":-5,"status":"new"}', '{oops', '{"id":3,"status":"lost"}'),
        Buffer.from([0x7b, 0xff, 0x7d]),
        ...rows('{"id":1,"amount":3}', '{"id":7}'),
      ],
      schema,
    );
    expect(result.map((r) => r.row)).toEqual([2, 3, 4, 5, 6]);
    const codes = (row: number) => result.find((r) => r.row === row)!.reasons.map((x) => x.code).sort();
    expect(codes(2)).toEqual(['out_of_range', 'wrong_type']);
    expect(result.find((r) => r.row === 2)!.reasons).toContainEqual({ code: 'wrong_type', column: 'id', message: 'expected int, got x' });
    expect(codes(3)).toEqual(['malformed_row']);
    expect(codes(4)).toEqual(['unknown_category']);
    expect(codes(5)).toEqual(['bad_encoding']);
    expect(codes(6)).toEqual(['duplicate_key']);
  });

  it('without a schema rejects only rows that are not JSON objects', async () => {
    const result = await validatePushedRows('free', rows('{"a":1}', '[1,2]', '{"b":"x"}', 'nope'), undefined);
    expect(result).toEqual([
      { row: 2, reasons: [{ code: 'malformed_row', column: null, message: 'not a JSON object' }] },
      { row: 4, reasons: [{ code: 'malformed_row', column: null, message: 'not a JSON object' }] },
    ]);
  });

  it('accepts a clean batch', async () => {
    expect(await validatePushedRows('orders', rows('{"id":1}', '{"id":2,"amount":0.5,"status":"paid"}'), schema)).toEqual([]);
  });
});
