import { DatasetSchema } from './dataset-schema';
import { canonicalJson, schemaHash } from './schema-hash';

describe('schemaHash', () => {
  const schema: DatasetSchema = { dataset: 'x', columns: { a: { type: 'int', required: false, unique: false } }, checks: {} };

  it('is the sha256 of the canonical JSON (sorted keys)', () => {
    expect(canonicalJson(schema)).toBe('{"checks":{},"columns":{"a":{"required":false,"type":"int","unique":false}},"dataset":"x"}');
    // printf '%s' '<the JSON above>' | sha256sum
    expect(schemaHash(schema)).toBe('fe9ca5664e5db8a669050eff60462b1de863a69710bc275e716c6c035d979a42');
  });

  it('ignores key order and undefined fields, but not values or array order', () => {
    const reordered = { checks: {}, columns: { a: { unique: false, type: 'int', required: false, nullable: undefined } }, dataset: 'x' } as DatasetSchema;
    expect(schemaHash(reordered)).toBe(schemaHash(schema));
    expect(schemaHash({ ...schema, dataset: 'y' })).not.toBe(schemaHash(schema));
    const twoKeys = (pk: string[]): DatasetSchema => ({
      ...schema,
      primaryKey: pk,
      columns: { a: schema.columns.a, b: { type: 'int', required: false, unique: false } },
    });
    expect(schemaHash(twoKeys(['a', 'b']))).not.toBe(schemaHash(twoKeys(['b', 'a'])));
  });
});
