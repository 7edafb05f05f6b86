import { InfrastructureError, ValidationError } from '@mlp/contracts';
import { entityKey } from './entity-key';
import { checkEntityKey, checkView, prepareRows, selectFeatures, type PreparedRow } from './online-rows';
import type { OnlineFeatures, OnlineRow, OnlineStore, WriteResult } from './online-store';

/**
 * What every adapter shares, written once: argument checks, entity keys, the
 * per-batch fold (one row per entity reaches the backend), de-duplicated
 * batch reads, feature selection and the closed state. Adapters implement
 * storage only; the write rule itself is `supersedes` (online-rows.ts).
 */
export abstract class BaseOnlineStore implements OnlineStore {
  abstract readonly kind: string;
  private closed = false;

  /** Stores one row per entity (already folded); returns how many became the stored value. */
  protected abstract writeRows(view: string, rows: PreparedRow[]): Promise<number>;
  /** Stored rows of the distinct `keys`; absent entities are simply missing from the map. */
  protected abstract readRows(view: string, keys: string[]): Promise<Map<string, OnlineFeatures>>;
  protected abstract deleteRows(view: string): Promise<void>;
  protected abstract countRows(view: string): Promise<number>;
  protected abstract pingBackend(): Promise<void>;
  protected abstract closeBackend(): Promise<void>;

  entityKey(joinKeys: readonly string[], values: Record<string, unknown>): string {
    return entityKey(joinKeys, values);
  }

  async write(view: string, rows: readonly OnlineRow[]): Promise<WriteResult> {
    this.assertOpen();
    checkView(view);
    const prepared = prepareRows(rows);
    const written = prepared.length === 0 ? 0 : await this.writeRows(view, prepared);
    return { written, skipped: rows.length - written };
  }

  async read(view: string, entityKeys: readonly string[], features: readonly string[] | null): Promise<Map<string, OnlineFeatures | null>> {
    this.assertOpen();
    checkView(view);
    if (!Array.isArray(entityKeys)) throw new ValidationError('entityKeys must be an array', [{ path: 'entityKeys', message: 'must be an array' }]);
    if (features !== null && (!Array.isArray(features) || features.some((f) => typeof f !== 'string'))) {
      throw new ValidationError('features must be null or an array of names', [{ path: 'features', message: 'must be null or string[]' }]);
    }
    const distinct = [...new Set(entityKeys)];
    distinct.forEach((key, i) => checkEntityKey(key, `entityKeys[${i}]`));
    const out = new Map<string, OnlineFeatures | null>();
    if (distinct.length === 0) return out;
    const found = await this.readRows(view, distinct);
    for (const key of distinct) {
      const row = found.get(key);
      out.set(key, row ? { eventTimestamp: row.eventTimestamp, values: selectFeatures(row.values, features) } : null);
    }
    return out;
  }

  async deleteView(view: string): Promise<void> {
    this.assertOpen();
    await this.deleteRows(checkView(view));
  }

  async count(view: string): Promise<number> {
    this.assertOpen();
    return this.countRows(checkView(view));
  }

  async ping(): Promise<void> {
    this.assertOpen();
    await this.pingBackend();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.closeBackend();
  }

  private assertOpen(): void {
    if (this.closed) throw new InfrastructureError(`${this.kind} online store is closed`, { code: 'ONLINE_STORE_CLOSED' });
  }
}
