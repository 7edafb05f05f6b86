import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SeededRng } from '@mlp/ml';
import { demoData, demoV2Rows, writeDemoV2 } from './commands/demo-ingestion';
import { demoTraffic, penguinFeatureRows, v2InferRequest } from './commands/demo-loop';

describe('npm start demo inputs', () => {
  it('writes the second penguins version: the bundled rows plus the demo rows, island nullable and nothing else changed in the schema', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlp-demo-spec-'));
    try {
      const { file, schema } = writeDemoV2(dir);
      const original = readFileSync(demoData.file, 'utf8').trimEnd().split('\n');
      const written = readFileSync(file, 'utf8').trimEnd().split('\n');
      expect(written).toEqual([...original, ...demoV2Rows]);
      const before = readFileSync(demoData.schema, 'utf8').split('\n');
      const after = readFileSync(schema, 'utf8').split('\n');
      const changed = after.filter((line, i) => line !== before[i]);
      expect(changed).toEqual(['  island:            {type: category, values: [Biscoe, Dream, Torgersen], nullable: true}']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sends the features a client has (no species, no sex), the same traffic for the same seed, and shifted traffic when asked', () => {
    const rows = penguinFeatureRows();
    expect(rows).toHaveLength(342);
    expect(Object.keys(rows[0])).toEqual(['island', 'bill_length_mm', 'bill_depth_mm', 'flipper_length_mm', 'body_mass_g']);
    expect(demoTraffic(rows, new SeededRng(7), 20)).toEqual(demoTraffic(rows, new SeededRng(7), 20));
    const plain = demoTraffic(rows, new SeededRng(3), 5);
    const shifted = demoTraffic(rows, new SeededRng(3), 5, true);
    shifted.forEach((s, i) => {
      expect(s).toMatchObject({ island: 'Biscoe', bill_depth_mm: plain[i].bill_depth_mm });
      expect(s.bill_length_mm).toBeCloseTo((plain[i].bill_length_mm as number) + 8, 9);
      expect(s.flipper_length_mm).toBe((plain[i].flipper_length_mm as number) + 15);
      expect(s.body_mass_g).toBe((plain[i].body_mass_g as number) + 600);
    });
  });

  it('builds a V2 infer request with one tensor per model input, nulls where a row lacks it', () => {
    const metadata = { name: 'penguins', versions: ['1'], outputs: [], inputs: [{ name: 'island', datatype: 'BYTES', shape: [-1] }, { name: 'body_mass_g', datatype: 'FP64', shape: [-1] }] };
    expect(v2InferRequest([{ island: 'Dream', body_mass_g: 3700 }, { island: 'Biscoe' }], metadata)).toEqual({
      inputs: [
        { name: 'island', datatype: 'BYTES', shape: [2], data: ['Dream', 'Biscoe'] },
        { name: 'body_mass_g', datatype: 'FP64', shape: [2], data: [3700, null] },
      ],
    });
  });
});
