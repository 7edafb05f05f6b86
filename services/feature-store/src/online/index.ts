export * from './online-store';
export { entityKey } from './entity-key';
export { timestampKey, MAX_ENTITY_KEY } from './online-rows';
export { BaseOnlineStore } from './base-online-store';
export { MemoryOnlineStore } from './memory/memory-online-store';
export { SqliteOnlineStore, type SqliteOnlineStoreOptions } from './sqlite/sqlite-online-store';
export {
  JetStreamKvOnlineStore,
  onlineBucketName,
  onlineKvKey,
  type JetStreamKvOnlineStoreOptions,
  type KvOnlineValue,
} from './nats/jetstream-kv-online-store';
export { createOnlineStore, onlineStoreSchemes } from './create-online-store';
