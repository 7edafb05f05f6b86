import { describeOnlineStoreContract } from '../contract/online-store.contract';
import { MemoryOnlineStore } from './memory-online-store';

describeOnlineStoreContract('memory', async () => new MemoryOnlineStore());
