import { appendFileSync, mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { countLines, DatasetSpool } from './push-spool';

describe('DatasetSpool', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'mlp-spool-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('appends lines, rotates them into ordered batches and removes a batch', async () => {
    const spool = new DatasetSpool(join(dir, 'orders'));
    expect(await spool.rotate()).toBeNull();
    await spool.append([Buffer.from('{"a":1}'), Buffer.from('{"a":2}')]);
    await spool.append([Buffer.from('{"a":3}')]);
    expect(readFileSync(spool.current, 'utf8')).toBe('{"a":1}\n{"a":2}\n{"a":3}\n');
    const first = await spool.rotate();
    await spool.append([Buffer.from('{"a":4}')]);
    const second = await spool.rotate();
    expect(existsSync(spool.current)).toBe(false);
    expect(await spool.batches()).toEqual([first, second]);
    expect(await countLines(first!)).toBe(3);
    await spool.remove(first!);
    expect(await spool.batches()).toEqual([second]);
  });

  it('repair drops a torn last line and counts the complete ones', async () => {
    const spool = new DatasetSpool(join(dir, 'orders'));
    await spool.append([Buffer.from('{"a":1}'), Buffer.from('{"a":2}')]);
    appendFileSync(spool.current, '{"a":3, "half');
    expect(await spool.repair()).toBe(2);
    expect(readFileSync(spool.current, 'utf8')).toBe('{"a":1}\n{"a":2}\n');
    expect(await new DatasetSpool(join(dir, 'none')).repair()).toBe(0);
  });
});
