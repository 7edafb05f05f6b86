import { BaseOnlineStore } from '../base-online-store';
import { supersedes, type PreparedRow } from '../online-rows';
import type { OnlineFeatures } from '../online-store';

/** For tests and single-process demos: rows kept as canonical JSON, so reads return fresh copies. */
export class MemoryOnlineStore extends BaseOnlineStore {
  readonly kind = 'memory';
  private readonly views = new Map<string, Map<string, PreparedRow>>();

  protected async writeRows(view: string, rows: PreparedRow[]): Promise<number> {
    let entities = this.views.get(view);
    if (!entities) this.views.set(view, (entities = new Map()));
    let written = 0;
    for (const row of rows) {
      if (!supersedes(row, entities.get(row.entityKey))) continue;
      entities.set(row.entityKey, row);
      written++;
    }
    return written;
  }

  protected async readRows(view: string, keys: string[]): Promise<Map<string, OnlineFeatures>> {
    const entities = this.views.get(view);
    const out = new Map<string, OnlineFeatures>();
    if (!entities) return out;
    for (const key of keys) {
      const row = entities.get(key);
      if (row) out.set(key, { eventTimestamp: row.eventTimestamp, values: JSON.parse(row.valuesJson) });
    }
    return out;
  }

  protected async deleteRows(view: string): Promise<void> {
    this.views.delete(view);
  }

  protected async countRows(view: string): Promise<number> {
    return this.views.get(view)?.size ?? 0;
  }

  protected async pingBackend(): Promise<void> {
    return; // always reachable
  }

  protected async closeBackend(): Promise<void> {
    this.views.clear();
  }
}
