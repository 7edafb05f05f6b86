import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { NotFoundError, PayloadTooLargeError, ValidationError } from '@mlp/contracts';
import type { ArtifactListEntry, ArtifactStore } from '../artifact-store';

export interface ArtifactStoreFixture {
  store: ArtifactStore;
  cleanup(): Promise<void>;
}

export interface ArtifactStoreContractOptions {
  /** Whether the adapter offers presignGet. */
  presign: boolean;
}

const MISSING_KEY = `sha256/${'0'.repeat(64)}`;
// Percent-encoded forms are refused as they are ('%' is outside the key alphabet): a store never decodes a key.
const ESCAPING_KEYS = ['../x', '/etc/passwd', 'a/../../b', 'a\\b', 'a\u0000b', '', 'a//b', 'a/./b', 'a/', 'a b', '%2e%2e/x', 'a/%2E%2E%2Fb', '..%2fx', '..\\x', 'C:\\x', '\\\\host\\share'];
const BIG = 20 * 1024 * 1024 + 7; // 20 MiB and a bit, so the size is no multiple of any chunk size
const SLOW = 120_000;

/**
 * The behaviour every ArtifactStore adapter must have. Each adapter's spec
 * calls this with a factory that returns a fresh, empty store per test.
 */
export function describeArtifactStoreContract(
  name: string,
  factory: () => Promise<ArtifactStoreFixture>,
  options: ArtifactStoreContractOptions,
): void {
  describe(`ArtifactStore contract: ${name}`, () => {
    let fixture: ArtifactStoreFixture | undefined;
    let store: ArtifactStore;

    beforeEach(async () => {
      fixture = await factory();
      store = fixture.store;
    });

    afterEach(async () => {
      await fixture?.cleanup();
      fixture = undefined;
    });

    describe('put', () => {
      it('stores a buffer under sha256/<hex> of its bytes', async () => {
        const bytes = Buffer.from('hello artifacts');
        const result = await store.put(bytes);
        const hex = sha256(bytes);
        expect(result).toEqual({ key: `sha256/${hex}`, sha256: hex, size: bytes.length, created: true });
        expect(await store.exists(result.key)).toBe(true);
      });

      it('getBuffer refuses an object larger than maxBytes (PayloadTooLargeError) instead of buffering it', async () => {
        const bytes = randomBytes(200_000);
        const { key } = await store.put(bytes);
        const error = await store.getBuffer(key, { maxBytes: 100_000 }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(PayloadTooLargeError);
        expect((error as PayloadTooLargeError).code).toBe('ARTIFACT_TOO_LARGE_TO_BUFFER');
        expect((await store.getBuffer(key, { maxBytes: 200_000 })).equals(bytes)).toBe(true);
      });

      it('round-trips bytes through get and getBuffer', async () => {
        const bytes = randomBytes(70_000);
        const { key } = await store.put(bytes);
        expect((await store.getBuffer(key)).equals(bytes)).toBe(true);
        expect((await readAll(await store.get(key))).equals(bytes)).toBe(true);
      });

      it('stores the same bytes once', async () => {
        const bytes = Buffer.from('same bytes');
        const first = await store.put(bytes, { contentType: 'text/plain' });
        const second = await store.put(Buffer.from('same bytes'), { contentType: 'text/plain' });
        expect(first.created).toBe(true);
        expect(second).toEqual({ ...first, created: false });
        expect(await collect(store.list(''))).toEqual([{ key: first.key, size: bytes.length }]);
      });

      it('accepts a Uint8Array view into a larger buffer', async () => {
        const backing = Buffer.from('xxhello view!yy');
        const view = new Uint8Array(backing.buffer, backing.byteOffset + 2, backing.length - 4);
        const { key, size } = await store.put(view);
        expect(key).toBe(`sha256/${sha256(Buffer.from('hello view!'))}`);
        expect(size).toBe(11);
        expect((await store.getBuffer(key)).toString()).toBe('hello view!');
      });

      it('accepts a stream of unknown size', async () => {
        const chunks = [randomBytes(1000), randomBytes(65_536), Buffer.alloc(0), randomBytes(3)];
        const all = Buffer.concat(chunks);
        const result = await store.put(Readable.from(chunks));
        expect(result).toEqual({ key: `sha256/${sha256(all)}`, sha256: sha256(all), size: all.length, created: true });
        expect((await store.getBuffer(result.key)).equals(all)).toBe(true);
      });

      it(
        'stores a 20 MiB stream and reads it back intact',
        async () => {
          const body = randomStream(BIG);
          const result = await store.put(body.stream, { contentType: 'application/x-parquet' });
          expect(result.sha256).toBe(body.digest());
          expect(result.size).toBe(BIG);
          const read = await hashStream(await store.get(result.key));
          expect(read).toEqual({ sha256: body.digest(), size: BIG });
          expect((await store.stat(result.key)).size).toBe(BIG);
        },
        SLOW,
      );

      it('stores an empty body', async () => {
        const result = await store.put(Buffer.alloc(0));
        expect(result).toEqual({ key: `sha256/${sha256(Buffer.alloc(0))}`, sha256: sha256(Buffer.alloc(0)), size: 0, created: true });
        expect((await store.getBuffer(result.key)).length).toBe(0);
        expect((await store.stat(result.key)).size).toBe(0);
        const again = await store.put(Readable.from([]));
        expect(again).toEqual({ ...result, created: false });
      });

      it('accepts a matching size', async () => {
        const bytes = Buffer.from('twelve bytes');
        expect((await store.put(bytes, { size: 12 })).size).toBe(12);
        expect((await store.put(Readable.from([Buffer.from('other'), Buffer.from(' bytes')]), { size: 11 })).size).toBe(11);
      });

      it.each([
        ['a buffer longer than size', () => Buffer.from('0123456789'), 9],
        ['a buffer shorter than size', () => Buffer.from('0123456789'), 11],
        ['a stream longer than size', () => Readable.from([Buffer.from('01234'), Buffer.from('56789')]), 7],
        ['a stream shorter than size', () => Readable.from([Buffer.from('01234'), Buffer.from('56789')]), 10_000],
      ])('rejects %s and stores nothing', async (_label, makeBody, size) => {
        const error = await store.put(makeBody(), { size }).catch((err: unknown) => err);
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).details).toEqual([expect.objectContaining({ path: 'size' })]);
        expect(await store.exists(`sha256/${sha256(Buffer.from('0123456789'))}`)).toBe(false);
        expect(await collect(store.list(''))).toEqual([]);
      });

      it('rejects a negative or fractional size', async () => {
        await expect(store.put(Buffer.alloc(1), { size: -1 })).rejects.toBeInstanceOf(ValidationError);
        await expect(store.put(Buffer.alloc(1), { size: 0.5 })).rejects.toBeInstanceOf(ValidationError);
        expect(await collect(store.list(''))).toEqual([]);
      });

      it('rejects a content type that cannot travel as a header', async () => {
        const error = await store.put(Buffer.from('x'), { contentType: 'text/plain\r\nX-Evil: 1' }).catch((err: unknown) => err);
        expect(error).toBeInstanceOf(ValidationError);
        expect(await collect(store.list(''))).toEqual([]);
      });

      it('rejects a body that is not bytes', async () => {
        await expect(store.put('a string' as unknown as Buffer)).rejects.toBeInstanceOf(ValidationError);
        await expect(store.put(Readable.from([{ not: 'bytes' }]))).rejects.toBeInstanceOf(ValidationError);
        expect(await collect(store.list(''))).toEqual([]);
      });
    });

    describe('stat', () => {
      it('reports size, content type, sha256 and modification time', async () => {
        const bytes = Buffer.from('{"a":1}');
        const before = Date.now();
        const { key } = await store.put(bytes, { contentType: 'application/json' });
        const info = await store.stat(key);
        expect(info).toEqual({
          key,
          size: bytes.length,
          contentType: 'application/json',
          sha256: sha256(bytes),
          lastModified: expect.anything(),
        });
        // Not instanceof: jest's sandbox has its own Date.
        expect(Object.prototype.toString.call(info.lastModified)).toBe('[object Date]');
        // Server clocks and second-granular timestamps: allow some slack.
        expect(Math.abs(info.lastModified.getTime() - before)).toBeLessThan(60_000);
      });

      it('defaults the content type to application/octet-stream', async () => {
        const { key } = await store.put(Buffer.from('raw'));
        expect((await store.stat(key)).contentType).toBe('application/octet-stream');
      });
    });

    describe('list', () => {
      it('yields keys in order, filtered by a string prefix', async () => {
        const puts = await Promise.all(['a', 'b', 'c', 'd', 'e', 'f'].map((s) => store.put(Buffer.from(s.repeat(3)))));
        const expected = puts.map(({ key, size }) => ({ key, size })).sort((x, y) => (x.key < y.key ? -1 : 1));
        expect(await collect(store.list(''))).toEqual(expected);
        expect(await collect(store.list('sha256/'))).toEqual(expected);
        expect(await collect(store.list('sha'))).toEqual(expected);

        const narrow = expected[0].key.slice(0, 'sha256/'.length + 1);
        const subset = expected.filter((e) => e.key.startsWith(narrow));
        expect(subset.length).toBeLessThan(expected.length); // the prefix really filters
        expect(await collect(store.list(narrow))).toEqual(subset);
        expect(await collect(store.list(expected[2].key))).toEqual([expected[2]]);
        expect(await collect(store.list('other/'))).toEqual([]);
      });

      it('is empty for an empty store', async () => {
        expect(await collect(store.list(''))).toEqual([]);
        expect(await collect(store.list('sha256/'))).toEqual([]);
      });
    });

    describe('missing keys', () => {
      it('raises NotFoundError from get, getBuffer and stat', async () => {
        await expect(store.get(MISSING_KEY)).rejects.toBeInstanceOf(NotFoundError);
        await expect(store.getBuffer(MISSING_KEY)).rejects.toBeInstanceOf(NotFoundError);
        await expect(store.stat(MISSING_KEY)).rejects.toBeInstanceOf(NotFoundError);
        expect(await store.exists(MISSING_KEY)).toBe(false);
      });

      it('treats a folder as no object', async () => {
        await store.put(Buffer.from('x'));
        await expect(store.get('sha256')).rejects.toBeInstanceOf(NotFoundError);
        await expect(store.stat('sha256')).rejects.toBeInstanceOf(NotFoundError);
        expect(await store.exists('sha256')).toBe(false);
      });
    });

    describe('delete', () => {
      it('removes the object, and deleting again is fine', async () => {
        const kept = await store.put(Buffer.from('kept'));
        const { key } = await store.put(Buffer.from('doomed'), { contentType: 'text/plain' });
        await store.delete(key);
        await expect(store.get(key)).rejects.toBeInstanceOf(NotFoundError);
        await expect(store.stat(key)).rejects.toBeInstanceOf(NotFoundError);
        expect(await store.exists(key)).toBe(false);
        await expect(store.delete(key)).resolves.toBeUndefined();
        await expect(store.delete(MISSING_KEY)).resolves.toBeUndefined();
        expect(await collect(store.list(''))).toEqual([{ key: kept.key, size: 4 }]);
      });

      it('lets deleted bytes be stored again', async () => {
        const { key } = await store.put(Buffer.from('phoenix'));
        await store.delete(key);
        const again = await store.put(Buffer.from('phoenix'));
        expect(again.created).toBe(true);
        expect((await store.getBuffer(key)).toString()).toBe('phoenix');
      });
    });

    describe('key validation', () => {
      it.each(ESCAPING_KEYS.map((key) => [JSON.stringify(key), key]))(
        'rejects %s everywhere and touches nothing',
        async (_label, badKey) => {
          const { key } = await store.put(Buffer.from('bystander'));
          const calls: [string, () => Promise<unknown>][] = [
            ['get', () => store.get(badKey)],
            ['getBuffer', () => store.getBuffer(badKey)],
            ['stat', () => store.stat(badKey)],
            ['exists', () => store.exists(badKey)],
            ['delete', () => store.delete(badKey)],
          ];
          if (options.presign) calls.push(['presignGet', () => presignGet(store, badKey, 60)]);
          for (const [method, call] of calls) {
            const error = await call().catch((err: unknown) => err);
            expect([method, error]).toEqual([method, expect.any(ValidationError)]);
            expect((error as ValidationError).message).toContain(JSON.stringify(badKey));
            expect((error as ValidationError).details).toEqual([expect.objectContaining({ path: 'key' })]);
          }
          expect(await collect(store.list(''))).toEqual([{ key, size: 9 }]);
        },
      );

      it.each(['../', '/abs', 'a/../b', 'a\\', 'a\u0000', './', 'a//', '%2e%2e/', '..%2f'])('rejects list prefix %j', async (prefix) => {
        await store.put(Buffer.from('bystander'));
        const error = await collect(store.list(prefix)).catch((err: unknown) => err);
        expect(error).toBeInstanceOf(ValidationError);
        expect((error as ValidationError).details).toEqual([expect.objectContaining({ path: 'prefix' })]);
      });
    });

    if (options.presign) {
      describe('presignGet', () => {
        it('returns a URL that plain fetch downloads', async () => {
          const bytes = randomBytes(5000);
          const { key } = await store.put(bytes, { contentType: 'application/octet-stream' });
          const url = await presignGet(store, key, 60);
          const response = await fetch(url);
          expect(response.status).toBe(200);
          expect(Buffer.from(await response.arrayBuffer()).equals(bytes)).toBe(true);
        });

        it('rejects an expiry outside 1 s to 7 days', async () => {
          const { key } = await store.put(Buffer.from('x'));
          await expect(presignGet(store, key, 0)).rejects.toBeInstanceOf(ValidationError);
          await expect(presignGet(store, key, 7 * 24 * 3600 + 1)).rejects.toBeInstanceOf(ValidationError);
          await expect(presignGet(store, key, 1.5)).rejects.toBeInstanceOf(ValidationError);
        });
      });
    } else {
      it('offers no presignGet', () => {
        expect(store.presignGet).toBeUndefined();
      });
    }
  });
}

/** Calls presignGet, failing the test if the adapter lacks it. */
function presignGet(store: ArtifactStore, key: string, expiresSeconds: number): Promise<string> {
  if (!store.presignGet) throw new Error('the adapter has no presignGet although the suite was told it does');
  return store.presignGet(key, expiresSeconds);
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** Hashes a stream without holding it in memory. */
async function hashStream(stream: Readable): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Uint8Array);
    size += (chunk as Uint8Array).byteLength;
  }
  return { sha256: hash.digest('hex'), size };
}

async function collect(entries: AsyncIterable<ArtifactListEntry>): Promise<ArtifactListEntry[]> {
  const out: ArtifactListEntry[] = [];
  for await (const entry of entries) out.push(entry);
  return out;
}

/** A stream of `total` random bytes made on demand; digest() is valid once it has been read. */
function randomStream(total: number): { stream: Readable; digest(): string } {
  const hash = createHash('sha256');
  let sent = 0;
  let hex: string | undefined;
  const stream = new Readable({
    read() {
      if (sent >= total) {
        this.push(null);
        return;
      }
      const chunk = randomBytes(Math.min(1 << 20, total - sent));
      hash.update(chunk);
      sent += chunk.length;
      this.push(chunk);
    },
  });
  return { stream, digest: () => (hex ??= hash.digest('hex')) };
}
