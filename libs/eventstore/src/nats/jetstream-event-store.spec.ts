import { connect } from 'nats';
import { startNatsServer, type NatsServerHandle } from '@mlp/testing';
import { describeEventStoreContract, testEvent } from '../contract/event-store.contract';
import { JetStreamEventStore } from './jetstream-event-store';

let server: NatsServerHandle;
beforeAll(async () => {
  server = await startNatsServer();
});
afterAll(async () => {
  await server?.stop();
});

/** A fresh store per test: drop the event stream and the checkpoint bucket first. */
async function freshStore(): Promise<JetStreamEventStore> {
  const nc = await connect({ servers: server.url });
  const jsm = await nc.jetstreamManager();
  for (const name of ['MLP_EVENTS', 'KV_MLP_CHECKPOINTS']) await jsm.streams.delete(name).catch(() => undefined);
  await nc.close();
  return JetStreamEventStore.connect({ servers: server.url });
}

describeEventStoreContract('nats-jetstream', freshStore);

describe('JetStream event store across connections', () => {
  it('detects a conflict when another process extended the stream behind a cached tail', async () => {
    const a = await freshStore();
    const b = await JetStreamEventStore.connect({ servers: server.url });
    await a.appendToStream('tail-1', [testEvent('One')]);
    await b.appendToStream('tail-1', [testEvent('Two')], { expectedRevision: 0 });
    // a's cached tail says revision 0; the server knows better.
    await expect(a.appendToStream('tail-1', [testEvent('Three')], { expectedRevision: 0 })).rejects.toThrow(/expected revision 0/);
    const any = await a.appendToStream('tail-1', [testEvent('Four')]);
    expect(any.nextExpectedRevision).toBe(2);
    expect((await b.readStream('tail-1')).map((e) => e.type)).toEqual(['One', 'Two', 'Four']);
    await a.close();
    await b.close();
  });

  it('publishes one subject per aggregate stream', async () => {
    const store = await freshStore();
    await store.appendToStream('model-x', [testEvent()]);
    const nc = await connect({ servers: server.url });
    const jsm = await nc.jetstreamManager();
    const msg = await jsm.streams.getMessage('MLP_EVENTS', { last_by_subj: 'mlp.evt.model.model-x' });
    expect(msg.seq).toBe(1);
    await nc.close();
    await store.close();
  });
});
