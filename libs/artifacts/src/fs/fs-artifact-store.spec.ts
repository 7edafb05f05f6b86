import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { InfrastructureError, ValidationError } from '@mlp/contracts';
import { describeArtifactStoreContract } from '../contract/artifact-store.contract';
import { FsArtifactStore } from './fs-artifact-store';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'mlp-artifacts-fs-'));
}

describeArtifactStoreContract(
  'filesystem',
  async () => {
    const dir = tempDir();
    return {
      store: new FsArtifactStore({ root: join(dir, 'store') }),
      cleanup: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
  { presign: false },
);

describe('FsArtifactStore specifics', () => {
  let dir: string;
  let store: FsArtifactStore;

  beforeEach(() => {
    dir = tempDir();
    store = new FsArtifactStore({ root: join(dir, 'store') });
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps bookkeeping files out of the object tree and leaves no temp files', async () => {
    await store.put(Buffer.from('in memory'), { contentType: 'text/plain' });
    await store.put(Readable.from([Buffer.from('spooled')]), { contentType: 'text/plain' });
    await expect(store.put(Readable.from([Buffer.from('too long')]), { size: 3 })).rejects.toBeInstanceOf(ValidationError);
    await expect(store.put(Readable.from([Buffer.from('short')]), { size: 30 })).rejects.toBeInstanceOf(ValidationError);

    expect(readdirSync(join(store.root, 'tmp'))).toEqual([]);
    const objects = readdirSync(join(store.root, 'objects', 'sha256')).sort();
    expect(objects).toHaveLength(2);
    expect(objects.every((name) => /^[0-9a-f]{64}$/.test(name))).toBe(true);
    expect(readdirSync(join(store.root, 'meta', 'sha256')).sort()).toEqual(objects.map((o) => `${o}.json`));
  });

  it('cannot be steered outside its root', async () => {
    const outside = join(dir, 'x');
    writeFileSync(outside, 'precious');
    await expect(store.delete('../x')).rejects.toBeInstanceOf(ValidationError);
    await expect(store.get('../x')).rejects.toBeInstanceOf(ValidationError);
    await expect(store.delete(`${join(dir, 'x')}`)).rejects.toBeInstanceOf(ValidationError);
    expect(existsSync(outside)).toBe(true);
    expect(existsSync(store.root)).toBe(false); // not even created
  });

  it('lists keys in S3 order when a folder name is a prefix of a sibling', async () => {
    // Keys written by hand: '-' (0x2d) sorts before '/' (0x2f), so `a-b` precedes `a/x`.
    for (const key of ['a/x', 'a-b', 'a.c', 'b', 'a0']) {
      const path = join(store.root, 'objects', ...key.split('/'));
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, key);
    }
    const keys: string[] = [];
    for await (const entry of store.list('')) keys.push(entry.key);
    expect(keys).toEqual(['a-b', 'a.c', 'a/x', 'a0', 'b']);
    const under: string[] = [];
    for await (const entry of store.list('a/')) under.push(entry.key);
    expect(under).toEqual(['a/x']);
  });

  it('wraps filesystem failures in InfrastructureError with the cause', async () => {
    const file = join(dir, 'not-a-dir');
    writeFileSync(file, '');
    const broken = new FsArtifactStore({ root: file });
    const error = await broken.put(Readable.from([Buffer.from('x')])).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(InfrastructureError);
    expect((error as InfrastructureError).cause).toEqual(expect.objectContaining({ code: 'ENOTDIR' }));
  });
});
