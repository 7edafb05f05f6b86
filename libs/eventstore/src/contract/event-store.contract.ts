import { randomUUID } from 'node:crypto';
import { ValidationError, type NewEvent, type RecordedEvent } from '@mlp/contracts';
import type { EventStore } from '../event-store';
import { ExpectedVersionConflictError } from '../errors';

export interface EventStoreContractOptions {
  /** Generous per-test timeout for networked backends (ms). */
  timeoutMs?: number;
}

/** Builds an append envelope for contract tests. */
export function testEvent(type = 'ThingHappened', data: unknown = {}, overrides: Partial<NewEvent> = {}): NewEvent {
  return {
    id: randomUUID(),
    type,
    schemaVersion: 1,
    data,
    occurredAt: '2026-01-01T00:00:00.000Z',
    correlationId: 'corr-1',
    causationId: null,
    actor: 'contract-test',
    codeVersion: 'test',
    ...overrides,
  };
}

/**
 * Position of the last stored event (0 for an empty store). Log-wide cases
 * start after it, so the suite also runs against a server that keeps the
 * earlier cases' events (EventStoreDB cannot be emptied between tests).
 */
async function headPosition(store: EventStore): Promise<number> {
  let head = 0;
  for (;;) {
    const page = await store.readAll({ fromPosition: head + 1, maxCount: 1000 });
    if (page.length === 0) return head;
    head = page[page.length - 1].position;
  }
}

async function waitFor(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * The one suite every EventStore adapter passes. `factory` returns a fresh,
 * empty store per test.
 */
export function describeEventStoreContract(
  name: string,
  factory: () => Promise<EventStore>,
  options: EventStoreContractOptions = {},
): void {
  describe(`EventStore contract: ${name}`, () => {
    let store: EventStore;
    jest.setTimeout(options.timeoutMs ?? 30_000);

    beforeEach(async () => {
      store = await factory();
    });
    afterEach(async () => {
      await store.close();
    });

    describe('append and read', () => {
      it('keeps order, numbers revisions from 0 and positions strictly increasing', async () => {
        const events = [testEvent('A', { n: 1 }), testEvent('B', { n: 2 }), testEvent('C', { n: 3 })];
        const result = await store.appendToStream('order-1', events, { expectedRevision: 'no_stream' });
        expect(result.nextExpectedRevision).toBe(2);

        const read = await store.readStream('order-1');
        expect(read.map((e) => e.type)).toEqual(['A', 'B', 'C']);
        expect(read.map((e) => e.revision)).toEqual([0, 1, 2]);
        expect(read.map((e) => e.data)).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
        expect(read[0].position).toBeGreaterThanOrEqual(1);
        expect(read[1].position).toBeGreaterThan(read[0].position);
        expect(read[2].position).toBeGreaterThan(read[1].position);
        expect(result.position).toBe(read[2].position);
        expect(read[0]).toMatchObject({
          id: events[0].id,
          stream: 'order-1',
          schemaVersion: 1,
          occurredAt: events[0].occurredAt,
          correlationId: 'corr-1',
          causationId: null,
          actor: 'contract-test',
          codeVersion: 'test',
        });
      });

      it('reads a window forwards and backwards', async () => {
        await store.appendToStream('order-2', [0, 1, 2, 3, 4].map((n) => testEvent('N', { n })));
        const fwd = await store.readStream('order-2', { from: 1, maxCount: 2 });
        expect(fwd.map((e) => e.revision)).toEqual([1, 2]);
        const bwd = await store.readStream('order-2', { direction: 'backward', maxCount: 2 });
        expect(bwd.map((e) => e.revision)).toEqual([4, 3]);
        const bwdFrom = await store.readStream('order-2', { direction: 'backward', from: 1 });
        expect(bwdFrom.map((e) => e.revision)).toEqual([1, 0]);
      });

      it('returns [] for a missing stream and reports existence', async () => {
        expect(await store.readStream('order-missing')).toEqual([]);
        expect(await store.streamExists('order-missing')).toBe(false);
        await store.appendToStream('order-present', [testEvent()]);
        expect(await store.streamExists('order-present')).toBe(true);
      });

      it('continues revisions across appends', async () => {
        await store.appendToStream('order-3', [testEvent()]);
        const second = await store.appendToStream('order-3', [testEvent(), testEvent()]);
        expect(second.nextExpectedRevision).toBe(2);
        expect((await store.readStream('order-3')).map((e) => e.revision)).toEqual([0, 1, 2]);
      });

      it('rejects bad stream names and malformed envelopes', async () => {
        await expect(store.appendToStream('bad name', [testEvent()])).rejects.toBeInstanceOf(ValidationError);
        await expect(store.appendToStream('bad.name', [testEvent()])).rejects.toBeInstanceOf(ValidationError);
        await expect(store.appendToStream('order-4', [testEvent('x lower')])).rejects.toBeInstanceOf(ValidationError);
        await expect(store.appendToStream('order-4', [{ ...testEvent(), id: 'not-a-uuid' }])).rejects.toBeInstanceOf(ValidationError);
        expect(await store.streamExists('order-4')).toBe(false);
      });
    });

    describe('expectedRevision', () => {
      it('no_stream: succeeds on a new stream, conflicts on an existing one', async () => {
        await store.appendToStream('exp-1', [testEvent()], { expectedRevision: 'no_stream' });
        await expect(store.appendToStream('exp-1', [testEvent()], { expectedRevision: 'no_stream' })).rejects.toBeInstanceOf(
          ExpectedVersionConflictError,
        );
        expect(await store.readStream('exp-1')).toHaveLength(1);
      });

      it('stream_exists: conflicts on a missing stream, succeeds on an existing one', async () => {
        await expect(store.appendToStream('exp-2', [testEvent()], { expectedRevision: 'stream_exists' })).rejects.toBeInstanceOf(
          ExpectedVersionConflictError,
        );
        expect(await store.streamExists('exp-2')).toBe(false);
        await store.appendToStream('exp-2', [testEvent()]);
        const r = await store.appendToStream('exp-2', [testEvent()], { expectedRevision: 'stream_exists' });
        expect(r.nextExpectedRevision).toBe(1);
      });

      it('exact revision: succeeds when it matches, conflicts with details otherwise', async () => {
        await store.appendToStream('exp-3', [testEvent(), testEvent()]);
        const ok = await store.appendToStream('exp-3', [testEvent()], { expectedRevision: 1 });
        expect(ok.nextExpectedRevision).toBe(2);
        const err = await store.appendToStream('exp-3', [testEvent()], { expectedRevision: 1 }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(ExpectedVersionConflictError);
        expect(err).toMatchObject({ stream: 'exp-3', expected: 1, actual: 2, code: 'WRONG_EXPECTED_REVISION' });
        await expect(store.appendToStream('exp-4', [testEvent()], { expectedRevision: 0 })).rejects.toBeInstanceOf(
          ExpectedVersionConflictError,
        );
        expect(await store.readStream('exp-3')).toHaveLength(3);
      });

      it('any: always appends', async () => {
        await store.appendToStream('exp-5', [testEvent()], { expectedRevision: 'any' });
        await store.appendToStream('exp-5', [testEvent()], { expectedRevision: 'any' });
        expect(await store.readStream('exp-5')).toHaveLength(2);
      });
    });

    describe('concurrency', () => {
      it('50 appends racing on one revision: exactly one wins', async () => {
        await store.appendToStream('race-1', [testEvent('Opened')]);
        const attempts = Array.from({ length: 50 }, (_, i) =>
          store.appendToStream('race-1', [testEvent('Raced', { i })], { expectedRevision: 0 }),
        );
        const settled = await Promise.allSettled(attempts);
        const won = settled.filter((s) => s.status === 'fulfilled');
        const lost = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(49);
        for (const l of lost) expect(l.reason).toBeInstanceOf(ExpectedVersionConflictError);
        const events = await store.readStream('race-1');
        expect(events.map((e) => e.revision)).toEqual([0, 1]);
      });

      it('50 writers retrying on conflict: every event stored once, one per revision', async () => {
        const writer = async (i: number) => {
          const event = testEvent('Raced', { i });
          for (;;) {
            const current = await store.readStream('race-2', { direction: 'backward', maxCount: 1 });
            const expectedRevision = current.length === 0 ? ('no_stream' as const) : current[0].revision;
            try {
              return await store.appendToStream('race-2', [event], { expectedRevision });
            } catch (err) {
              if (!(err instanceof ExpectedVersionConflictError)) throw err;
            }
          }
        };
        const results = await Promise.all(Array.from({ length: 50 }, (_, i) => writer(i)));
        expect(new Set(results.map((r) => r.nextExpectedRevision)).size).toBe(50);
        const events = await store.readStream('race-2');
        expect(events.map((e) => e.revision)).toEqual(Array.from({ length: 50 }, (_, i) => i));
        expect(events.map((e) => (e.data as { i: number }).i).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
      });
    });

    describe('idempotency', () => {
      it('re-appending the same event id stores it once and returns the original result', async () => {
        const e = testEvent();
        const first = await store.appendToStream('idem-1', [e], { expectedRevision: 'no_stream' });
        const again = await store.appendToStream('idem-1', [e], { expectedRevision: 'no_stream' });
        expect(again).toEqual(first);
        const anyAgain = await store.appendToStream('idem-1', [e]);
        expect(anyAgain).toEqual(first);
        expect(await store.readStream('idem-1')).toHaveLength(1);
      });

      it('a re-appended batch is stored once, even after the stream moved on', async () => {
        const batch = [testEvent(), testEvent()];
        const first = await store.appendToStream('idem-2', batch);
        await store.appendToStream('idem-2', [testEvent()]);
        const again = await store.appendToStream('idem-2', batch, { expectedRevision: 'no_stream' });
        expect(again).toEqual(first);
        expect(await store.readStream('idem-2')).toHaveLength(3);
      });

      it('a retried batch whose prefix is stored appends only the rest', async () => {
        const [a, b] = [testEvent(), testEvent()];
        await store.appendToStream('idem-3', [a], { expectedRevision: 'no_stream' });
        const r = await store.appendToStream('idem-3', [a, b], { expectedRevision: 'no_stream' });
        expect(r.nextExpectedRevision).toBe(1);
        expect((await store.readStream('idem-3')).map((e) => e.id)).toEqual([a.id, b.id]);
      });

      it('an event id already used in another stream is a conflict', async () => {
        const e = testEvent();
        await store.appendToStream('idem-4', [e]);
        await expect(store.appendToStream('idem-5', [e])).rejects.toBeInstanceOf(ExpectedVersionConflictError);
        expect(await store.streamExists('idem-5')).toBe(false);
      });
    });

    describe('readAll', () => {
      it('reads across streams in position order, pages, and filters by category', async () => {
        const base = await headPosition(store);
        await store.appendToStream('alpha-1', [testEvent('A1')]);
        await store.appendToStream('beta-1', [testEvent('B1')]);
        await store.appendToStream('alpha-2', [testEvent('A2'), testEvent('A3')]);
        await store.appendToStream('beta-1', [testEvent('B2')]);

        const all = await store.readAll({ fromPosition: base + 1 });
        expect(all.map((e) => e.type)).toEqual(['A1', 'B1', 'A2', 'A3', 'B2']);
        for (let i = 1; i < all.length; i++) expect(all[i].position).toBeGreaterThan(all[i - 1].position);

        const page = await store.readAll({ fromPosition: all[1].position, maxCount: 2 });
        expect(page.map((e) => e.type)).toEqual(['B1', 'A2']);

        const alpha = await store.readAll({ filter: { category: 'alpha' }, fromPosition: base + 1 });
        expect(alpha.map((e) => e.type)).toEqual(['A1', 'A2', 'A3']);
        const betaAfter = await store.readAll({ filter: { category: 'beta' }, fromPosition: all[2].position });
        expect(betaAfter.map((e) => e.type)).toEqual(['B2']);
        expect(await store.readAll({ fromPosition: all[4].position + 1 })).toEqual([]);
      });
    });

    describe('subscriptions', () => {
      it('catches up on stored events, then receives live ones, in order', async () => {
        const base = await headPosition(store);
        for (let i = 0; i < 5; i++) await store.appendToStream(`sub-${i % 2}`, [testEvent('Old', { i })]);
        await store.appendToStream('other-1', [testEvent('Ignored')]);
        const seen: RecordedEvent[] = [];
        const sub = store.subscribe({ filter: { category: 'sub' }, fromCheckpoint: base }, (e) => {
          seen.push(e);
        });
        await sub.caughtUp;
        expect(seen.map((e) => (e.data as { i: number }).i)).toEqual([0, 1, 2, 3, 4]);

        for (let i = 5; i < 8; i++) await store.appendToStream(`sub-${i % 2}`, [testEvent('New', { i })]);
        await store.appendToStream('other-1', [testEvent('Ignored')]);
        await waitFor(() => seen.length >= 8);
        await sub.close();
        expect(seen.map((e) => (e.data as { i: number }).i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
        expect(seen.every((e) => e.stream.startsWith('sub-'))).toBe(true);
        for (let i = 1; i < seen.length; i++) expect(seen[i].position).toBeGreaterThan(seen[i - 1].position);
      });

      it('resumes from a saved checkpoint and sees each event once', async () => {
        const checkpoints = store.checkpoints();
        expect(await checkpoints.load('contract-consumer')).toBeUndefined();
        const base = await headPosition(store);
        for (let i = 0; i < 4; i++) await store.appendToStream('cp-1', [testEvent('E', { i })]);

        const firstRun: number[] = [];
        const sub1 = store.subscribe({ filter: 'all', fromCheckpoint: (await checkpoints.load('contract-consumer')) ?? base }, async (e) => {
          firstRun.push((e.data as { i: number }).i);
          await checkpoints.save('contract-consumer', e.position);
        });
        await sub1.caughtUp;
        await sub1.close();
        expect(firstRun).toEqual([0, 1, 2, 3]);

        for (let i = 4; i < 7; i++) await store.appendToStream('cp-1', [testEvent('E', { i })]);
        const secondRun: number[] = [];
        const sub2 = store.subscribe({ filter: 'all', fromCheckpoint: await checkpoints.load('contract-consumer') }, async (e) => {
          secondRun.push((e.data as { i: number }).i);
          await checkpoints.save('contract-consumer', e.position);
        });
        await sub2.caughtUp;
        await waitFor(() => secondRun.length >= 3);
        await sub2.close();
        expect(secondRun).toEqual([4, 5, 6]);
      });

      it('stops and reports when the handler fails', async () => {
        await store.appendToStream('fail-1', [testEvent()]);
        const sub = store.subscribe({}, () => {
          throw new Error('handler broke');
        });
        await expect(sub.done).rejects.toThrow('handler broke');
        await expect(sub.caughtUp).rejects.toThrow('handler broke');
      });
    });

    describe('upcasting', () => {
      it('upcasts old schema versions on every read path, without rewriting them', async () => {
        const base = await headPosition(store);
        const v1 = testEvent('RegisteredModelCreated', { name: 'churn' }, { schemaVersion: 1 });
        await store.appendToStream('model-churn', [v1]);
        const expected = { schemaVersion: 2, data: { name: 'churn', description: '', tags: {} } };

        const [fromStream] = await store.readStream('model-churn');
        expect(fromStream).toMatchObject(expected);
        const [fromAll] = await store.readAll({ filter: { category: 'model' }, fromPosition: base + 1 });
        expect(fromAll).toMatchObject(expected);

        const seen: RecordedEvent[] = [];
        const sub = store.subscribe({ filter: { category: 'model' }, fromCheckpoint: base }, (e) => {
          seen.push(e);
        });
        await sub.caughtUp;
        await sub.close();
        expect(seen[0]).toMatchObject(expected);

        // Re-appending the v1 event is still recognised as the same event.
        expect((await store.appendToStream('model-churn', [v1])).nextExpectedRevision).toBe(0);
      });
    });

    describe('checkpoints', () => {
      it('loads what was saved, per name', async () => {
        const cp = store.checkpoints();
        await cp.save('a', 5);
        await cp.save('b', 7);
        await cp.save('a', 9);
        expect(await cp.load('a')).toBe(9);
        expect(await cp.load('b')).toBe(7);
        expect(await cp.load('c')).toBeUndefined();
      });

      it('lists every saved checkpoint by name, where the backend can', async () => {
        const cp = store.checkpoints();
        if (!cp.list) return; // EventStoreDB: needs server-side projections
        await cp.save('contract-list-b', 3);
        await cp.save('contract-list-a', 1);
        await cp.save('contract-list-b', 4);
        const listed = (await cp.list()).filter((c) => c.name.startsWith('contract-list-'));
        expect(listed).toEqual([
          { name: 'contract-list-a', position: 1 },
          { name: 'contract-list-b', position: 4 },
        ]);
      });
    });

    it('answers ping', async () => {
      await expect(store.ping()).resolves.toBeUndefined();
    });
  });
}
