import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mayHavePadding } from './csv-layout';

describe('mayHavePadding', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'mlp-pad-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const check = (text: string | Buffer, options = { delimiter: ',', quote: '"' }) => {
    const path = join(dir, 'f.csv');
    writeFileSync(path, text);
    return mayHavePadding(path, options);
  };

  it('finds a space at either end of any field, quoted or not', async () => {
    const padded = ['a,b\n x,1\n', 'a,b\nx ,1\n', 'a,b\nx,1 \n', 'a,b\nx, 1\n', 'a,b\nx,1 \r\n', ' a,b\n', 'a,b\nx,"1 "\n', 'a,b\nx," 1"\n', 'a,b\nx,1 '];
    for (const text of padded) expect([text, await check(text)]).toEqual([text, true]);
    // A comma and a space inside quoted text look like padding: a safe "yes" (values are then trimmed as before).
    expect(await check('a,b\n"x, y",1\n')).toBe(true);
    expect(await check('a\tb\nx\t 1\n', { delimiter: '\t', quote: '"' })).toBe(true);
    expect(await check(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(' a,b\n')]))).toBe(true);
  });

  it('says no when no field has padding (inner spaces are values)', async () => {
    for (const text of ['a,b\nx y,1\n', 'a,b\r\n"x;y",2024-01-01 10:00:00\r\n', 'a,b\n,\n', '']) expect([text, await check(text)]).toEqual([text, false]);
  });

  it('finds padding across a read-chunk boundary', async () => {
    const line = 'abcdefg,1234567\n';
    const head = line.repeat(Math.ceil((1 << 22) / line.length));
    const cut = head.slice(0, 1 << 22); // ends exactly at the chunk size
    expect(await check(`${cut}x`)).toBe(false);
    expect(await check(`${cut.slice(0, -1)}, x\n`)).toBe(true);
    expect(await check(`${cut.slice(0, -1)}\n x\n`)).toBe(true);
  });

  it('answers yes for a delimiter it cannot search for', async () => {
    expect(await check('a||b\nx||y\n', { delimiter: '||', quote: '"' })).toBe(true);
  });
});
