import { categories, streams, type ApiKeyScope, type ApiKeyView, type RecordedEvent } from '@mlp/contracts';
import type { EventStore, Subscription } from '@mlp/eventstore';
import type { Logger } from '../logging/logger';
import { evolve, initialState, type ApiKeyEvent, type ApiKeyState } from './api-key';
import { hashToken, sameHash, tokenId } from './api-key-token';

/** Who a request acts as, once its key checked out. */
export interface Principal {
  keyId: string;
  name: string;
  scopes: readonly ApiKeyScope[];
  source: 'store' | 'env';
}

interface Entry {
  state: Exclude<ApiKeyState, { status: 'Empty' }>;
  /** Last applied revision of the key's stream: events at or below it are not applied again. */
  revision: number;
  createdAt: string;
  revokedAt?: string;
}

interface EnvKey {
  id: string;
  name: string;
  scopes: readonly ApiKeyScope[];
  hash: string;
}

const RESUBSCRIBE_MS = 1000;

/**
 * The API keys one service accepts: a read model of the `apikey` streams
 * (catch-up subscription, so keys created or revoked anywhere reach every
 * service), plus keys from the environment, hashed in memory. A token of an
 * unknown id is looked up in its stream at once, so a key created on another
 * service works here before the subscription delivers it.
 */
export class ApiKeyRing {
  private readonly entries = new Map<string, Entry>();
  private readonly envKeys: EnvKey[] = [];
  private subscription?: Subscription;
  private position = 0;
  private stopped = false;
  private retry?: NodeJS.Timeout;

  constructor(
    private readonly store?: EventStore,
    private readonly logger?: Logger,
  ) {}

  /** Keys stored as events: without a store, only env keys exist. */
  get storeBacked(): boolean {
    return this.store !== undefined;
  }

  /** Adds keys from the environment (MLP_ADMIN_KEY, MLP_INGEST_API_KEYS…); only their hashes are kept. */
  addEnvKeys(name: string, tokens: readonly string[], scopes: readonly ApiKeyScope[]): void {
    const unique = [...new Set(tokens.map((t) => t.trim()).filter(Boolean))];
    unique.forEach((token, i) => {
      this.envKeys.push({ id: unique.length === 1 ? `env-${name}` : `env-${name}-${i + 1}`, name, scopes: [...scopes], hash: hashToken(token) });
    });
  }

  /** True when some key (env or stored, active) holds `admin`: otherwise nobody can manage keys once auth is on. */
  hasAdmin(): boolean {
    return (
      this.envKeys.some((k) => k.scopes.includes('admin')) ||
      [...this.entries.values()].some((e) => e.state.status === 'Active' && e.state.scopes.includes('admin'))
    );
  }

  async start(): Promise<void> {
    if (!this.store) return;
    this.stopped = false;
    await this.subscribe();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    await this.subscription?.close().catch(() => undefined);
    this.subscription = undefined;
  }

  /** The principal of a presented token, or undefined when no active key matches it. */
  async authenticate(token: string): Promise<Principal | undefined> {
    const id = tokenId(token);
    const hash = hashToken(token);
    if (id !== undefined && this.store) {
      let entry = this.entries.get(id);
      if (!entry) {
        await this.load(id);
        entry = this.entries.get(id);
      }
      if (entry && entry.state.status === 'Active' && sameHash(hash, entry.state.hash)) {
        const { name, scopes } = entry.state;
        return { keyId: id, name, scopes, source: 'store' };
      }
      return undefined;
    }
    // Env keys have any format: compare with every one, in constant time each.
    let found: EnvKey | undefined;
    for (const key of this.envKeys) if (sameHash(hash, key.hash)) found ??= key;
    return found && { keyId: found.id, name: found.name, scopes: found.scopes, source: 'env' };
  }

  /** Every key, newest last; never a token or a hash. */
  list(): ApiKeyView[] {
    const env: ApiKeyView[] = this.envKeys.map((k) => ({ id: k.id, name: k.name, scopes: [...k.scopes], prefix: '', status: 'active', source: 'env' }));
    const stored = [...this.entries.values()]
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
      .map((e): ApiKeyView => this.view(e));
    return [...env, ...stored];
  }

  get(id: string): ApiKeyView | undefined {
    const entry = this.entries.get(id);
    return entry && this.view(entry);
  }

  /** Applies one recorded event of an `apikey-<id>` stream (idempotent by revision). */
  apply(event: RecordedEvent): void {
    if (event.type !== 'ApiKeyCreated' && event.type !== 'ApiKeyRevoked') return;
    const id = (event.data as { id: string }).id;
    const entry = this.entries.get(id);
    if (entry && event.revision <= entry.revision) return;
    const state = evolve(entry?.state ?? initialState(), { type: event.type, data: event.data } as ApiKeyEvent);
    if (state.status === 'Empty') return;
    this.entries.set(id, {
      state,
      revision: event.revision,
      createdAt: entry?.createdAt ?? event.occurredAt,
      revokedAt: event.type === 'ApiKeyRevoked' ? event.occurredAt : entry?.revokedAt,
    });
  }

  /** Reads one key's stream now (a key created on another service a moment ago). */
  async load(id: string): Promise<void> {
    if (!this.store) return;
    for (const event of await this.store.readStream(streams.apiKey(id))) this.apply(event);
  }

  private view(e: Entry): ApiKeyView {
    const s = e.state;
    return {
      id: s.id,
      name: s.name,
      scopes: [...s.scopes],
      prefix: s.prefix,
      status: s.status === 'Active' ? 'active' : 'revoked',
      source: 'store',
      createdAt: e.createdAt,
      createdBy: s.createdBy,
      ...(s.status === 'Revoked' ? { revokedAt: e.revokedAt, revokedBy: s.revokedBy } : {}),
    };
  }

  private async subscribe(): Promise<void> {
    const store = this.store;
    if (!store || this.stopped) return;
    const subscription = store.subscribe({ filter: { category: categories.apiKey }, fromCheckpoint: this.position }, (event) => {
      this.apply(event);
      this.position = Math.max(this.position, event.position);
    });
    this.subscription = subscription;
    subscription.done.catch((err: unknown) => {
      if (this.stopped) return;
      // Keys already known keep working; new ones are still found by load(). Resume where it stopped.
      this.logger?.warn({ err }, 'API key subscription failed; resubscribing');
      this.retry = setTimeout(() => void this.subscribe().catch(() => undefined), RESUBSCRIBE_MS);
    });
    await subscription.caughtUp;
  }
}
