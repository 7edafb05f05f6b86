import {
  IllegalStateError,
  NotFoundError,
  apiKeyId,
  createApiKeySchema,
  parseOrThrow,
  streams,
  type ApiKeyView,
  type CreatedApiKey,
} from '@mlp/contracts';
import { handleCommand, type EventStore } from '@mlp/eventstore';
import { commandMetadata } from '../platform/command-metadata';
import { apiKeyDecider } from './api-key.decide';
import { newApiKeyToken } from './api-key-token';
import type { ApiKeyRing } from './api-key-ring';

/** Creates, lists and revokes API keys: events in `apikey-<id>`, the token returned once and never stored. */
export class ApiKeysService {
  constructor(
    private readonly store: EventStore,
    private readonly ring: ApiKeyRing,
  ) {}

  async create(input: unknown): Promise<CreatedApiKey> {
    const dto = parseOrThrow(createApiKeySchema, input, 'request');
    const meta = commandMetadata();
    const { id, token, prefix, hash } = newApiKeyToken();
    const result = await handleCommand(
      this.store,
      streams.apiKey(id),
      apiKeyDecider,
      { type: 'CreateApiKey', id, name: dto.name, scopes: dto.scopes, hash, prefix, createdBy: meta.actor },
      meta,
    );
    for (const event of result.events) this.ring.apply(event);
    return { ...this.view(id), token };
  }

  list(): ApiKeyView[] {
    return this.ring.list();
  }

  async get(id: string): Promise<ApiKeyView> {
    const key = parseOrThrow(apiKeyId, id, 'id');
    await this.ring.load(key);
    return this.view(key);
  }

  async revoke(id: string): Promise<ApiKeyView> {
    if (id.startsWith('env-')) {
      throw new IllegalStateError(`API key ${id} comes from the environment: remove it there and restart`, { code: 'API_KEY_FROM_ENV' });
    }
    const key = parseOrThrow(apiKeyId, id, 'id');
    const meta = commandMetadata();
    const result = await handleCommand(this.store, streams.apiKey(key), apiKeyDecider, { type: 'RevokeApiKey', id: key, revokedBy: meta.actor }, meta);
    for (const event of result.events) this.ring.apply(event);
    await this.ring.load(key);
    return this.view(key);
  }

  private view(id: string): ApiKeyView {
    const view = this.ring.get(id);
    if (!view) throw new NotFoundError(`API key ${id} does not exist`, { code: 'API_KEY_NOT_FOUND' });
    return view;
  }
}
