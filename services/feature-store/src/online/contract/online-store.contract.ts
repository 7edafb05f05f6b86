import { ValidationError } from '@mlp/contracts';
import type { OnlineRow, OnlineStore, OnlineValue } from '../online-store';

export interface OnlineStoreContractOptions {
  /** Generous per-test timeout for networked backends (ms). */
  timeoutMs?: number;
  /**
   * Opens a second handle on the same backend as `store` (what another
   * process would see). Adapters that can be shared pass it; the cross-handle
   * cases run only then.
   */
  sibling?: (store: OnlineStore) => Promise<OnlineStore>;
}

export function onlineRow(
  entityKey: string,
  eventTimestamp: string,
  values: Record<string, OnlineValue>,
  materializationId = 'mat-1',
): OnlineRow {
  return { entityKey, eventTimestamp, values, materializationId };
}

/** Deterministic shuffle (the contract must not depend on luck). */
function shuffled<T>(items: T[], seed = 7): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

const minute = (i: number) => new Date(Date.UTC(2024, 0, 1, 0, i)).toISOString();

/**
 * The one suite every OnlineStore adapter passes. `factory` returns a fresh,
 * empty store per test.
 */
export function describeOnlineStoreContract(
  name: string,
  factory: () => Promise<OnlineStore>,
  options: OnlineStoreContractOptions = {},
): void {
  describe(`OnlineStore contract: ${name}`, () => {
    let store: OnlineStore;
    const extra: OnlineStore[] = [];
    jest.setTimeout(options.timeoutMs ?? 30_000);

    beforeEach(async () => {
      store = await factory();
    });
    afterEach(async () => {
      await Promise.all(extra.splice(0).map((s) => s.close()));
      await store.close();
    });

    async function one(view: string, key: string, features: string[] | null = null) {
      const result = await store.read(view, [key], features);
      expect([...result.keys()]).toEqual([key]);
      return result.get(key)!;
    }

    describe('write and read', () => {
      it('round-trips values with their types: integers, floats, strings, booleans and null', async () => {
        const values: Record<string, OnlineValue> = {
          int: 42,
          negative: -7,
          zero: 0,
          tenth: 0.1,
          third: 1 / 3,
          tiniest: 5e-324,
          huge: 1.7976931348623157e308,
          maxSafe: Number.MAX_SAFE_INTEGER,
          text: 'héllo "quoted" \\ back\nslash\t日本 😀',
          empty: '',
          numericText: '42',
          yes: true,
          no: false,
          nothing: null,
        };
        const ts = '2024-03-01T12:00:00.123456+02:00';
        expect(await store.write('types', [onlineRow('e1', ts, values)])).toEqual({ written: 1, skipped: 0 });
        const got = await one('types', 'e1');
        expect(got).toEqual({ eventTimestamp: ts, values });
        for (const [feature, value] of Object.entries(values)) {
          expect(typeof got!.values[feature]).toBe(typeof value);
          expect(Object.is(got!.values[feature], value)).toBe(true);
        }
      });

      it('returns null for a missing entity and for a view that was never written', async () => {
        await store.write('present', [onlineRow('e1', minute(0), { a: 1 })]);
        expect(await one('present', 'e2')).toBeNull();
        expect(await one('never-written', 'e1')).toBeNull();
        expect((await store.read('present', [], null)).size).toBe(0);
      });

      it('reads 500 entities in one call, in request order, with null for the missing ones', async () => {
        const rows = Array.from({ length: 500 }, (_, i) => onlineRow(`e-${i}`, minute(i % 60), { i, ratio: i / 7, label: `n${i}` }));
        expect(await store.write('many', rows)).toEqual({ written: 500, skipped: 0 });
        const wanted = shuffled([...rows.map((r) => r.entityKey), ...Array.from({ length: 20 }, (_, i) => `missing-${i}`)]);
        const result = await store.read('many', [...wanted, wanted[0], wanted[1]], null);
        expect([...result.keys()]).toEqual(wanted);
        for (const key of wanted) {
          const got = result.get(key);
          if (key.startsWith('missing-')) {
            expect(got).toBeNull();
          } else {
            const i = Number(key.slice(2));
            expect(got).toEqual({ eventTimestamp: minute(i % 60), values: { i, ratio: i / 7, label: `n${i}` } });
          }
        }
      });

      it('returns only the requested features that the row has', async () => {
        await store.write('subset', [onlineRow('e1', minute(0), { a: 1, b: 'two', c: null, d: false })]);
        expect(await one('subset', 'e1', ['b', 'c', 'not-a-feature'])).toEqual({ eventTimestamp: minute(0), values: { b: 'two', c: null } });
        expect(await one('subset', 'e1', [])).toEqual({ eventTimestamp: minute(0), values: {} });
        expect((await one('subset', 'e1', null))!.values).toEqual({ a: 1, b: 'two', c: null, d: false });
      });

      it('returns copies: changing a read result or a written row does not change the store', async () => {
        const values: Record<string, OnlineValue> = { a: 1 };
        await store.write('copies', [onlineRow('e1', minute(0), values)]);
        values.a = 2;
        (await one('copies', 'e1'))!.values.a = 3;
        expect((await one('copies', 'e1'))!.values).toEqual({ a: 1 });
      });
    });

    describe('idempotent, monotonic writes', () => {
      it('skips the same rows written again', async () => {
        const rows = [onlineRow('e1', minute(1), { a: 1 }), onlineRow('e2', minute(2), { a: 2.5 }), onlineRow('e3', minute(3), { a: null })];
        expect(await store.write('idem', rows)).toEqual({ written: 3, skipped: 0 });
        expect(await store.write('idem', rows)).toEqual({ written: 0, skipped: 3 });
        // Same content with the keys in another order is the same row.
        expect(await store.write('idem', [onlineRow('e1', minute(1), { a: 1 })])).toEqual({ written: 0, skipped: 1 });
        expect(await store.count('idem')).toBe(3);
        expect((await one('idem', 'e2'))!.values).toEqual({ a: 2.5 });
      });

      it('skips an older row and replaces with a newer one', async () => {
        expect(await store.write('mono', [onlineRow('e1', minute(10), { v: 'ten' })])).toEqual({ written: 1, skipped: 0 });
        expect(await store.write('mono', [onlineRow('e1', minute(5), { v: 'five' }, 'mat-2')])).toEqual({ written: 0, skipped: 1 });
        expect(await one('mono', 'e1')).toEqual({ eventTimestamp: minute(10), values: { v: 'ten' } });
        expect(await store.write('mono', [onlineRow('e1', minute(11), { v: 'eleven', extra: 1 }, 'mat-3')])).toEqual({ written: 1, skipped: 0 });
        expect(await one('mono', 'e1')).toEqual({ eventTimestamp: minute(11), values: { v: 'eleven', extra: 1 } });
        expect(await store.count('mono')).toBe(1);
      });

      it('orders timestamps as instants: offsets applied, sub-millisecond digits kept, no zone read as UTC', async () => {
        await store.write('instants', [onlineRow('e1', '2024-01-01T00:00:00Z', { v: 1 })]);
        // 01:30+02:00 is 23:30Z the day before: older, although it sorts later as text.
        expect((await store.write('instants', [onlineRow('e1', '2024-01-01T01:30:00+02:00', { v: 2 })])).skipped).toBe(1);
        // 19:30-05:00 is 00:30Z: newer, although it sorts earlier as text.
        expect((await store.write('instants', [onlineRow('e1', '2023-12-31T19:30:00-05:00', { v: 3 })])).written).toBe(1);
        expect((await store.write('instants', [onlineRow('e1', '2024-01-01T00:30:00.000001Z', { v: 4 })])).written).toBe(1);
        expect((await store.write('instants', [onlineRow('e1', '2024-01-01T00:30:00.0000009Z', { v: 5 })])).skipped).toBe(1);
        expect((await store.write('instants', [onlineRow('e1', '2024-01-01 00:31:00', { v: 6 })])).written).toBe(1);
        expect(await one('instants', 'e1')).toEqual({ eventTimestamp: '2024-01-01 00:31:00', values: { v: 6 } });
      });

      it('at an equal timestamp replaces a row with other values or materialization, and skips an identical one', async () => {
        await store.write('ties', [onlineRow('e1', minute(1), { v: 1 }, 'mat-1')]);
        expect(await store.write('ties', [onlineRow('e1', '2024-01-01T02:01:00+02:00', { v: 2 }, 'mat-1')])).toEqual({ written: 1, skipped: 0 });
        expect((await one('ties', 'e1'))!.values).toEqual({ v: 2 });
        expect(await store.write('ties', [onlineRow('e1', minute(1), { v: 2 }, 'mat-2')])).toEqual({ written: 1, skipped: 0 });
        expect(await store.write('ties', [onlineRow('e1', minute(1), { v: 2 }, 'mat-2')])).toEqual({ written: 0, skipped: 1 });
      });

      it('keeps the newest row per entity within one batch', async () => {
        const result = await store.write('batch', [
          onlineRow('e1', minute(1), { v: 1 }),
          onlineRow('e1', minute(3), { v: 3 }),
          onlineRow('e2', minute(1), { v: 10 }),
          onlineRow('e1', minute(2), { v: 2 }),
        ]);
        expect(result).toEqual({ written: 2, skipped: 2 });
        expect(await one('batch', 'e1')).toEqual({ eventTimestamp: minute(3), values: { v: 3 } });
        expect(await store.count('batch')).toBe(2);
      });

      it('ends with the newest timestamp when writers race on the same entities', async () => {
        const writers = [store];
        if (options.sibling) {
          for (let i = 0; i < 2; i++) {
            const s = await options.sibling(store);
            extra.push(s);
            writers.push(s);
          }
        }
        const entities = ['hot-1', 'hot-2', 'hot-3'];
        const rows = entities.flatMap((e) => Array.from({ length: 20 }, (_, i) => onlineRow(e, minute(i), { i, writer: `w${i}` }, `mat-${i}`)));
        const results = await Promise.all(shuffled(rows).map((row, n) => writers[n % writers.length].write('race', [row])));
        const written = results.reduce((sum, r) => sum + r.written, 0);
        expect(results.reduce((sum, r) => sum + r.skipped, 0)).toBe(rows.length - written);
        expect(written).toBeGreaterThanOrEqual(entities.length);
        const final = await store.read('race', entities, null);
        for (const e of entities) expect(final.get(e)).toEqual({ eventTimestamp: minute(19), values: { i: 19, writer: 'w19' } });
        expect(await store.count('race')).toBe(entities.length);
      });
    });

    describe('views and entity keys', () => {
      it('keeps views apart, including names that differ only in case or in - versus _', async () => {
        const views = ['credit', 'Credit', 'CREDIT', 'credit-x', 'credit_x'];
        for (const [n, view] of views.entries()) await store.write(view, [onlineRow('e1', minute(0), { n })]);
        for (const [n, view] of views.entries()) {
          expect((await one(view, 'e1'))!.values).toEqual({ n });
          expect(await store.count(view)).toBe(1);
        }
        await store.deleteView('credit');
        expect(await one('credit', 'e1')).toBeNull();
        expect((await one('Credit', 'e1'))!.values).toEqual({ n: 1 });
        expect((await one('credit_x', 'e1'))!.values).toEqual({ n: 4 });
      });

      it('round-trips entity keys with tricky characters without collisions', async () => {
        const single = ['a/b', 'a.b', '.lead', 'trail.', 'a b', ' ', 'ünïcødé', '日本', '😀', 'a=b', '==', 'a|b', 'a%7Cb', '%', '', '*', '>', 'a\u0000b', 'a+b', 'A/B'];
        const keys = [
          ...single.map((v) => store.entityKey(['id'], { id: v })),
          store.entityKey(['a', 'b'], { a: 'a', b: 'b' }),
          store.entityKey(['a', 'b'], { a: 'a|b', b: '' }),
          store.entityKey(['a', 'b'], { a: '', b: 'a|b' }),
          // Entity keys are opaque to the store: raw strings work too.
          'raw key/with.dots=and|pipes é',
          'raw key/with.dots=and|pipes e',
          '=',
        ];
        expect(new Set(keys).size).toBe(keys.length);
        expect(store.entityKey(['id'], { id: 'a|b' })).not.toBe(store.entityKey(['a', 'b'], { a: 'a', b: 'b' }));
        const result = await store.write('tricky', keys.map((key, n) => onlineRow(key, minute(0), { n })));
        expect(result).toEqual({ written: keys.length, skipped: 0 });
        expect(await store.count('tricky')).toBe(keys.length);
        const read = await store.read('tricky', keys, null);
        keys.forEach((key, n) => expect(read.get(key)).toEqual({ eventTimestamp: minute(0), values: { n } }));
      });

      it('builds entity keys from join keys in declared order', () => {
        expect(store.entityKey(['a', 'b'], { b: 2, a: 1 })).toBe('1|2');
        expect(store.entityKey(['b', 'a'], { b: 2, a: 1 })).toBe('2|1');
        expect(store.entityKey(['id'], { id: 42 })).toBe(store.entityKey(['id'], { id: '42' }));
        expect(() => store.entityKey(['a', 'b'], { a: 1 })).toThrow(ValidationError);
      });
    });

    describe('count and deleteView', () => {
      it('counts entities per view and deletes a view with every row', async () => {
        expect(await store.count('counted')).toBe(0);
        await store.write('counted', Array.from({ length: 5 }, (_, i) => onlineRow(`e${i}`, minute(0), { i })));
        await store.write('counted', [onlineRow('e0', minute(1), { i: 0 })]);
        await store.write('other', [onlineRow('e0', minute(0), { i: 0 })]);
        expect(await store.count('counted')).toBe(5);
        await store.deleteView('counted');
        expect(await store.count('counted')).toBe(0);
        expect(await one('counted', 'e1')).toBeNull();
        expect(await store.count('other')).toBe(1);
        await store.deleteView('counted');
        await store.deleteView('never-written');
        // An older row than the deleted one is accepted: deletion forgets.
        expect(await store.write('counted', [onlineRow('e1', minute(0), { i: 1 })])).toEqual({ written: 1, skipped: 0 });
        expect(await store.count('counted')).toBe(1);
      });
    });

    describe('input checks', () => {
      it('rejects a batch with a bad row as a whole, naming the row', async () => {
        const err = await store
          .write('checked', [onlineRow('ok', minute(0), { a: 1 }), onlineRow('bad', 'yesterday', { a: 1 })])
          .catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ValidationError);
        expect((err as ValidationError).details).toEqual([expect.objectContaining({ path: 'rows[1].eventTimestamp' })]);
        expect(await store.count('checked')).toBe(0);
      });

      it('rejects values that JSON would not keep, and impossible timestamps', async () => {
        for (const bad of [NaN, Infinity, undefined, { nested: 1 }, [1]]) {
          const row = onlineRow('e1', minute(0), { a: bad as unknown as OnlineValue });
          await expect(store.write('checked', [row])).rejects.toThrow(ValidationError);
        }
        for (const ts of ['2024-02-30T00:00:00Z', '2024-01-01T24:00:00Z', 'Mon, 01 Jan 2024 00:00:00 GMT', '1704067200000']) {
          await expect(store.write('checked', [onlineRow('e1', ts, { a: 1 })])).rejects.toThrow(ValidationError);
        }
        expect(await store.count('checked')).toBe(0);
      });

      it('rejects view names outside the feature view name rule', async () => {
        for (const view of ['', 'a.b', 'a b', '_lead', 'a/b', 'x'.repeat(101)]) {
          await expect(store.write(view, [onlineRow('e1', minute(0), { a: 1 })])).rejects.toThrow(ValidationError);
          await expect(store.read(view, ['e1'], null)).rejects.toThrow(ValidationError);
        }
      });
    });

    describe('lifecycle', () => {
      it('pings while open and refuses work once closed', async () => {
        await expect(store.ping()).resolves.toBeUndefined();
        await store.close();
        await expect(store.read('v', ['e1'], null)).rejects.toThrow(/closed/);
        await expect(store.write('v', [])).rejects.toThrow(/closed/);
      });
    });

    if (options.sibling) {
      describe('two handles on one backend', () => {
        it('share rows and the write rule', async () => {
          const other = await options.sibling!(store);
          extra.push(other);
          await store.write('shared', [onlineRow('e1', minute(5), { v: 5 })]);
          expect((await other.read('shared', ['e1'], null)).get('e1')).toEqual({ eventTimestamp: minute(5), values: { v: 5 } });
          expect(await other.write('shared', [onlineRow('e1', minute(4), { v: 4 })])).toEqual({ written: 0, skipped: 1 });
          expect(await other.write('shared', [onlineRow('e1', minute(6), { v: 6 })])).toEqual({ written: 1, skipped: 0 });
          expect((await one('shared', 'e1'))!.values).toEqual({ v: 6 });
        });

        it('keep working after the other handle deleted the view', async () => {
          const other = await options.sibling!(store);
          extra.push(other);
          await store.write('dropped', [onlineRow('e1', minute(5), { v: 5 })]);
          expect(await one('dropped', 'e1')).not.toBeNull();
          await other.deleteView('dropped');
          expect(await one('dropped', 'e1')).toBeNull();
          expect(await store.write('dropped', [onlineRow('e2', minute(1), { v: 1 })])).toEqual({ written: 1, skipped: 0 });
          expect((await other.read('dropped', ['e1', 'e2'], null)).get('e2')).toEqual({ eventTimestamp: minute(1), values: { v: 1 } });
          expect(await other.count('dropped')).toBe(1);
        });
      });
    }
  });
}
