import { ValidationError } from './errors';

/** Turns the `data` of `type`@`from` into the shape of `type`@`from+1`. Pure. */
export interface Upcaster {
  readonly type: string;
  readonly from: number;
  upcast(data: unknown): unknown;
}

/**
 * Upcasters chained per event type: a stored v1 event read today goes
 * v1 → v2 → … → latest. Stored events are never rewritten; upcasting
 * happens on every read.
 */
export class UpcasterRegistry {
  private readonly byKey = new Map<string, Upcaster>();

  register(upcaster: Upcaster): this {
    const key = `${upcaster.type}@${upcaster.from}`;
    if (this.byKey.has(key)) {
      throw new ValidationError(`duplicate upcaster for ${key}`, [{ path: 'upcaster', message: 'already registered' }]);
    }
    this.byKey.set(key, upcaster);
    return this;
  }

  /** Returns the event at its newest schema version (the same object when nothing applies). */
  upcast<E extends { type: string; schemaVersion: number; data: unknown }>(event: E): E {
    let current = event;
    for (;;) {
      const step = this.byKey.get(`${current.type}@${current.schemaVersion}`);
      if (!step) return current;
      current = { ...current, schemaVersion: current.schemaVersion + 1, data: step.upcast(current.data) };
    }
  }

  get size(): number {
    return this.byKey.size;
  }
}
