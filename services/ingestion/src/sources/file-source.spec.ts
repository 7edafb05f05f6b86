import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NotFoundError, ValidationError } from '@mlp/contracts';
import type { InputFormat } from '../engine/read-source';
import { HEAD_BYTES } from './content-digest';
import { localFileSource } from './file-source';

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

describe('localFileSource', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'file-source-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('hashes and sizes the file and detects the format from its name', async () => {
    const body = 'id,name\n1,a\n2,b\n';
    const path = join(dir, 'people.csv');
    writeFileSync(path, body);
    expect(await localFileSource(path)).toEqual({
      path,
      format: 'csv',
      sha256: sha256(body),
      sizeBytes: Buffer.byteLength(body),
      description: `file ${path}`,
    });
  });

  it('reads a file larger than the head and many stream chunks in one pass', async () => {
    const body = Buffer.from('a\tb\n'.repeat(100_000)); // 400 kB: several 64 kB chunks
    const path = join(dir, 'big');
    writeFileSync(path, body);
    const source = await localFileSource(path);
    expect(body.length).toBeGreaterThan(HEAD_BYTES * 4);
    expect(source).toMatchObject({ format: 'tsv', sha256: sha256(body), sizeBytes: body.length });
  });

  it.each<[string, string, InputFormat]>([
    ['rows', '{"a":1}\n{"a":2}\n', 'ndjson'],
    ['array', '[{"a":1}]', 'json'],
    ['tabs', 'a\tb\n1\t2\n', 'tsv'],
  ])('detects %s from the content when the name has no extension', async (name, body, format) => {
    const path = join(dir, name);
    writeFileSync(path, body);
    expect((await localFileSource(path)).format).toBe(format);
  });

  it('takes a given format over detection, and checks it', async () => {
    const path = join(dir, 'data.txt');
    writeFileSync(path, 'a;b\n1;2\n');
    expect((await localFileSource(path, { format: 'csv' })).format).toBe('csv');
    await expect(localFileSource(path, { format: 'xlsx' as InputFormat })).rejects.toThrow('unknown format "xlsx"');
  });

  it('reports a missing file as NotFoundError', async () => {
    await expect(localFileSource(join(dir, 'nope.csv'))).rejects.toThrow(NotFoundError);
    await expect(localFileSource(join(dir, 'nope.csv'))).rejects.toThrow(`file not found: ${join(dir, 'nope.csv')}`);
  });

  it('refuses a directory', async () => {
    await expect(localFileSource(dir)).rejects.toThrow(ValidationError);
    await expect(localFileSource(dir)).rejects.toThrow(`not a regular file: ${dir}`);
  });

  it('passes on detection errors (empty or compressed content)', async () => {
    const empty = join(dir, 'empty');
    writeFileSync(empty, '');
    await expect(localFileSource(empty)).rejects.toThrow('it is empty');
    const gz = join(dir, 'data.csv.gz');
    writeFileSync(gz, Buffer.from([0x1f, 0x8b, 0x08, 0x00]));
    await expect(localFileSource(gz)).rejects.toThrow('compressed inputs are not supported');
    // An empty file with a known format is a valid (empty) source.
    expect(await localFileSource(empty, { format: 'csv' })).toMatchObject({ sizeBytes: 0, sha256: sha256('') });
  });
});
