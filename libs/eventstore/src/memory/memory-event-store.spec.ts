import { describeEventStoreContract } from '../contract/event-store.contract';
import { MemoryEventStore } from './memory-event-store';

describeEventStoreContract('memory', async () => new MemoryEventStore({ pollIntervalMs: 20 }));
