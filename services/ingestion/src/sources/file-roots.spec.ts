import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ForbiddenError, NotFoundError, ValidationError } from '@mlp/contracts';
import { FileRoots, parseRootList } from './file-roots';
import { rootedFileSource } from './file-source';

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

async function failure(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    (value) => ({ value }),
    (error: Error) => ({ error }),
  );
  if ('value' in outcome) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.value)}`);
  return outcome.error;
}

const expectNotAllowed = (err: Error) => {
  expect(err).toBeInstanceOf(ForbiddenError);
  expect(err).toMatchObject({ code: 'SOURCE_NOT_ALLOWED' });
};

/** Real files, directories and symlinks in a temp dir: `inbox` is the root, `outside` is not. */
describe('FileRoots and rootedFileSource', () => {
  let dir: string;
  let inbox: string;
  let outside: string;
  let roots: FileRoots;

  beforeAll(async () => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'file-roots-')));
    inbox = join(dir, 'inbox');
    outside = join(dir, 'outside');
    mkdirSync(join(inbox, 'sub'), { recursive: true });
    mkdirSync(outside);
    writeFileSync(join(inbox, 'ok.csv'), 'a,b\n1,2\n');
    writeFileSync(join(inbox, 'sub', 'deep.csv'), 'a\n1\n');
    writeFileSync(join(inbox, '..hidden.csv'), 'a\n1\n');
    writeFileSync(join(outside, 'secret.csv'), 'password\nhunter2\n');
    symlinkSync(join(outside, 'secret.csv'), join(inbox, 'link-out.csv'));
    symlinkSync(outside, join(inbox, 'dir-out'));
    symlinkSync(join(inbox, 'ok.csv'), join(inbox, 'link-in.csv'));
    roots = await FileRoots.create([inbox]);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a file inside a root, by absolute or root-relative path, through its open descriptor', async () => {
    const source = await rootedFileSource(roots, join(inbox, 'ok.csv'));
    try {
      expect(source).toMatchObject({ format: 'csv', sha256: sha256('a,b\n1,2\n'), sizeBytes: 8, description: `file ${join(inbox, 'ok.csv')}` });
      expect(source.path).toMatch(/^\/proc\/self\/fd\/\d+$/);
      expect(readFileSync(source.path, 'utf8')).toBe('a,b\n1,2\n');
    } finally {
      await source.release?.();
    }
    const relative = await rootedFileSource(roots, 'sub/deep.csv');
    await relative.release?.();
    expect(relative.description).toBe(`file ${join(inbox, 'sub', 'deep.csv')}`);
  });

  it('follows symlinks that stay inside, and names that only start with two dots', async () => {
    expect(await roots.check(join(inbox, 'link-in.csv'))).toBe(join(inbox, 'ok.csv'));
    expect(await roots.check(join(inbox, '..hidden.csv'))).toBe(join(inbox, '..hidden.csv'));
  });

  it.each([
    ['an absolute path elsewhere', () => '/etc/passwd'],
    ['.. out of the root', () => join(inbox, '..', 'outside', 'secret.csv')],
    ['a relative .. path', () => '../outside/secret.csv'],
    ['a symlink to a file outside', () => join(inbox, 'link-out.csv')],
    ['a path through a symlinked directory', () => join(inbox, 'dir-out', 'secret.csv')],
    ['a missing file outside (nothing told about it)', () => join(outside, 'nope.csv')],
    ['the root of the filesystem', () => '/'],
  ])('refuses %s with 403 SOURCE_NOT_ALLOWED', async (_what, path) => {
    expectNotAllowed(await failure(rootedFileSource(roots, path())));
  });

  it('says 404 for a missing file inside a root and 400 for a directory or a NUL byte', async () => {
    expect(await failure(rootedFileSource(roots, join(inbox, 'missing.csv')))).toBeInstanceOf(NotFoundError);
    expect(await failure(rootedFileSource(roots, join(inbox, 'sub')))).toBeInstanceOf(ValidationError);
    expect(await failure(rootedFileSource(roots, 'ok.csv\0.txt'))).toBeInstanceOf(ValidationError);
  });

  it('opens a FIFO without hanging and refuses it', async () => {
    execFileSync('mkfifo', [join(inbox, 'pipe.csv')]);
    expect(await failure(rootedFileSource(roots, join(inbox, 'pipe.csv')))).toBeInstanceOf(ValidationError);
  });

  it('keeps reading the checked file when its path is swapped for a symlink afterwards', async () => {
    writeFileSync(join(inbox, 'swap.csv'), 'a\nchecked\n');
    const source = await rootedFileSource(roots, join(inbox, 'swap.csv'));
    try {
      renameSync(join(inbox, 'swap.csv'), join(inbox, 'moved.csv'));
      symlinkSync(join(outside, 'secret.csv'), join(inbox, 'swap.csv'));
      expect(readFileSync(source.path, 'utf8')).toBe('a\nchecked\n');
    } finally {
      await source.release?.();
    }
    // Asked again, the swapped path is refused.
    expectNotAllowed(await failure(rootedFileSource(roots, join(inbox, 'swap.csv'))));
  });

  it('refuses a root that does not exist, and creates the default one when asked', async () => {
    const err = await failure(FileRoots.create([join(dir, 'absent')]));
    expect(err).toMatchObject({ code: 'INVALID_CONFIG', message: `invalid configuration:\n  MLP_INGEST_ROOTS: ${join(dir, 'absent')} does not exist` });
    const created = await FileRoots.create([join(dir, 'home', 'inbox')], { create: true });
    expect(created.roots).toEqual([join(dir, 'home', 'inbox')]);
  });

  it('splits root lists on the path delimiter and commas', () => {
    expect(parseRootList('/data/a:/data/b, /srv/c,,')).toEqual(['/data/a', '/data/b', '/srv/c']);
  });
});
