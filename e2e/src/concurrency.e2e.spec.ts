import { randomUUID } from 'node:crypto';
import { streams, type NewEvent, type RecordedEvent } from '@mlp/contracts';
import { aggregate, JetStreamEventStore } from '@mlp/eventstore';
import { registeredModelDecider } from '@mlp/service-registry';
import { eventually, ingestPenguins, penguinsSpec, startDistributedPlatform, type CallResult, type DistributedPlatform } from '@mlp/testing';

const N = 100;

/** Status → count, and the codes of the non-2xx answers. */
function tally(results: CallResult[]): { statuses: Record<number, number>; codes: Record<string, number> } {
  const statuses: Record<number, number> = {};
  const codes: Record<string, number> = {};
  for (const r of results) {
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    if (r.status >= 300) codes[r.body?.code ?? '?'] = (codes[r.body?.code ?? '?'] ?? 0) + 1;
  }
  return { statuses, codes };
}

/** The stream is consistent: revisions 0..n-1 in order, positions increasing, no event id twice. */
function expectConsistent(events: RecordedEvent[]): void {
  expect(events.map((e) => e.revision)).toEqual(events.map((_, i) => i));
  for (let i = 1; i < events.length; i++) expect(events[i].position).toBeGreaterThan(events[i - 1].position);
  expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
}

/**
 * Concurrency across processes (ingestion, training, the registry: each its
 * own OS process on a real nats-server with JetStream, auth on): 100
 * commands sent at once against one registered model. Exactly the valid ones
 * win, the others get a clear 409/412; the model's stream stays consistent
 * (contiguous revisions, unique ids) and folds with the registry's decider to
 * what the registry's query shows. The same command sent 100× records once
 * (an idempotent assignment, or any command under one Idempotency-Key), and
 * so does the same event appended 100× at once.
 */
describe('concurrency: 100 conflicting commands against one aggregate', () => {
  jest.setTimeout(600_000);
  let platform: DistributedPlatform;
  let events: JetStreamEventStore;
  let runId: string;
  const model = 'penguins';
  const all = <T>(n: number, f: (i: number) => Promise<T>) => Promise.all(Array.from({ length: n }, (_, i) => f(i)));
  const modelEvents = () => events.readStream(streams.model(model));

  beforeAll(async () => {
    platform = await startDistributedPlatform({ prefix: 'e2e-concurrency', env: { MLP_TRAINING_WORKERS: '1' } });
    await Promise.all([platform.start('ingestion', 'ingestion'), platform.start('training', 'training'), platform.start('registry', 'registry')]);
    events = await JetStreamEventStore.connect({ servers: platform.nats.url });
    // Manual registration: the version is registered by the commands below, not by the registration process manager.
    expect((await platform.call('registry', 'POST', '/models', { name: model })).status).toBe(201);
    expect((await platform.call('registry', 'PUT', `/models/${model}/policy`, { registration: 'manual' })).status).toBe(200);
    await ingestPenguins(platform.url('ingestion', ''), { headers: { 'x-api-key': platform.adminKey } });
    runId = (await platform.call('training', 'POST', '/runs', penguinsSpec({ seed: 4 }), { contentType: 'text/yaml' })).body.runId as string;
    await eventually(async () => (await events.readStream(streams.run(runId))).some((e) => e.type === 'TrainingRunCompleted'), 300_000, 'the run completed');
  });

  afterAll(async () => {
    await events?.close();
    await platform?.stop();
  });

  it('registers one run 100× at once: one version, 99 × 409 RUN_ALREADY_REGISTERED', async () => {
    const results = await all(N, () => platform.call('registry', 'POST', `/models/${model}/versions`, { runId }));
    const t = tally(results);
    console.log(`register the same run ×${N}: ${JSON.stringify(t)}`);
    expect(t).toEqual({ statuses: { 201: 1, 409: N - 1 }, codes: { RUN_ALREADY_REGISTERED: N - 1 } });
    const registered = (await modelEvents()).filter((e) => e.type === 'ModelVersionRegistered');
    expect(registered).toHaveLength(1);
    expect(registered[0].data).toMatchObject({ version: 1, runId });
  });

  it('100 alias assignments at once, all made against the same revision: exactly one wins, 99 × 412 with a clear code', async () => {
    const { revision } = (await platform.call('registry', 'GET', `/models/${model}`)).body as { revision: number };
    const results = await all(N, (i) => platform.call('registry', 'PUT', `/models/${model}/aliases/a${i}`, { version: 1, expectedRevision: revision, reason: 'race' }));
    const t = tally(results);
    console.log(`assign a0..a${N - 1} with expectedRevision ${revision}: ${JSON.stringify(t)}`);
    expect(t.statuses).toEqual({ 200: 1, 412: N - 1 });
    expect(Object.keys(t.codes)).toHaveLength(1);
    const loser = results.find((r) => r.status === 412)!.body as { code: string; message: string };
    expect(loser.message).toMatch(/revision|changed|concurren/i);
    const winner = results.findIndex((r) => r.status === 200);
    const assigned = (await modelEvents()).filter((e) => e.type === 'ModelAliasAssigned');
    expect(assigned.map((e) => (e.data as { alias: string }).alias)).toEqual([`a${winner}`]);
  });

  it('the same assignment 100× at once (no expected revision): every answer 2xx, recorded once', async () => {
    const before = (await modelEvents()).length;
    const results = await all(N, () => platform.call('registry', 'PUT', `/models/${model}/aliases/production`, { version: 1, reason: 'same command' }));
    const t = tally(results);
    console.log(`the same production assignment ×${N}: ${JSON.stringify(t)}`);
    expect(t.statuses).toEqual({ 200: N });
    const after = await modelEvents();
    expect(after.length).toBe(before + 1);
    expect(after.at(-1)).toMatchObject({ type: 'ModelAliasAssigned', data: { alias: 'production', version: 1 } });
  });

  it('creating one model 100× at once: one 201, 99 × 409 MODEL_EXISTS; one event', async () => {
    const results = await all(N, () => platform.call('registry', 'POST', '/models', { name: 'race' }));
    const t = tally(results);
    console.log(`create 'race' ×${N}: ${JSON.stringify(t)}`);
    expect(t).toEqual({ statuses: { 201: 1, 409: N - 1 }, codes: { MODEL_EXISTS: N - 1 } });
    const stream = await events.readStream(streams.model('race'));
    expect(stream.map((e) => e.type)).toEqual(['RegisteredModelCreated']);
  });

  it('with one Idempotency-Key, registering the run 100× at once records one version and answers 201 with it every time', async () => {
    const send = (key: string) =>
      fetch(platform.url('registry', `/models/keyed/versions`), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': platform.adminKey, 'idempotency-key': key },
        body: JSON.stringify({ runId }),
      }).then(async (res) => ({ status: res.status, body: (await res.json()) as { version?: number; code?: string } }));
    const results = await all(N, () => send('register-keyed-1'));
    const t = tally(results.map((r) => ({ ...r, headers: new Headers() })));
    console.log(`register with one Idempotency-Key ×${N}: ${JSON.stringify(t)}`);
    expect(t.statuses).toEqual({ 201: N });
    expect(new Set(results.map((r) => r.body.version))).toEqual(new Set([1]));
    const stream = await events.readStream(streams.model('keyed'));
    expect(stream.filter((e) => e.type === 'ModelVersionRegistered')).toHaveLength(1);
    expectConsistent(stream);
    // A new key is a new command: the run is registered already.
    expect(await send('register-keyed-2')).toMatchObject({ status: 409, body: { code: 'RUN_ALREADY_REGISTERED' } });
    expect((await send('not a valid key!')).status).toBe(400);
  });

  it('the stream stays consistent: contiguous revisions, unique ids, and its fold equals the query', async () => {
    const stream = await modelEvents();
    expectConsistent(stream);
    const state = aggregate(registeredModelDecider, stream) as { status: string; aliases?: Record<string, number>; versions?: Record<string, unknown> | unknown[] };
    const view = (await platform.call('registry', 'GET', `/models/${model}`)).body as { aliases: Record<string, number>; revision: number; latestVersion?: number };
    expect(state.status).toBe('Active');
    expect(view.revision).toBe(stream.at(-1)!.revision);
    expect(view.aliases).toEqual(state.aliases);
    expect(Object.keys(view.aliases).sort()).toEqual(['production', expect.stringMatching(/^a\d+$/)].sort());
  });

  it('the same event appended 100× at once (over 10 connections) is stored once; every append answers the same', async () => {
    const event: NewEvent = { id: randomUUID(), type: 'ConcurrencyProbe', schemaVersion: 1, data: { n: 1 }, occurredAt: new Date().toISOString(), correlationId: 'probe', causationId: null, actor: 'e2e', codeVersion: 'test' };
    const stores = await all(N / 10, () => JetStreamEventStore.connect({ servers: platform.nats.url }));
    try {
      const results = await all(N, (i) => stores[i % stores.length].appendToStream('probe-idempotent', [event], { expectedRevision: 'no_stream' }));
      expect(new Set(results.map((r) => JSON.stringify(r))).size).toBe(1);
      const stored = await events.readStream('probe-idempotent');
      expect(stored.map((e) => e.id)).toEqual([event.id]);
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });
});
