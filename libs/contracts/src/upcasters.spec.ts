import { UpcasterRegistry } from './upcasters';
import { upcasters } from './catalogue';

describe('UpcasterRegistry', () => {
  it('chains steps from a stored version to the newest', () => {
    const registry = new UpcasterRegistry()
      .register({ type: 'PriceSet', from: 1, upcast: (d) => ({ cents: (d as { dollars: number }).dollars * 100 }) })
      .register({ type: 'PriceSet', from: 2, upcast: (d) => ({ ...(d as object), currency: 'EUR' }) });
    const stored = { type: 'PriceSet', schemaVersion: 1, data: { dollars: 3 } };
    expect(registry.upcast(stored)).toEqual({ type: 'PriceSet', schemaVersion: 3, data: { cents: 300, currency: 'EUR' } });
    expect(stored).toEqual({ type: 'PriceSet', schemaVersion: 1, data: { dollars: 3 } }); // never rewritten
  });

  it('leaves current versions and unknown types alone', () => {
    const e = { type: 'RegisteredModelCreated', schemaVersion: 2, data: { name: 'x', description: '', tags: {} } };
    expect(upcasters.upcast(e)).toBe(e);
    const other = { type: 'Unknown', schemaVersion: 1, data: 1 };
    expect(upcasters.upcast(other)).toBe(other);
  });

  it('upcasts RegisteredModelCreated v1 from the real catalogue', () => {
    expect(upcasters.upcast({ type: 'RegisteredModelCreated', schemaVersion: 1, data: { name: 'churn', description: 'd' } })).toEqual({
      type: 'RegisteredModelCreated',
      schemaVersion: 2,
      data: { name: 'churn', description: 'd', tags: {} },
    });
  });

  it('refuses two upcasters for the same step', () => {
    const registry = new UpcasterRegistry().register({ type: 'A', from: 1, upcast: (d) => d });
    expect(() => registry.register({ type: 'A', from: 1, upcast: (d) => d })).toThrow(/duplicate upcaster for A@1/);
  });
});
