import { currentContext, runWithContext } from './request-context';

describe('request context', () => {
  it('is visible across awaits inside runWithContext and absent outside', async () => {
    expect(currentContext()).toBeUndefined();
    const seen = await runWithContext({ correlationId: 'c-1' }, async () => {
      await new Promise((r) => setTimeout(r, 1));
      return currentContext()?.correlationId;
    });
    expect(seen).toBe('c-1');
    expect(currentContext()).toBeUndefined();
  });

  it('keeps concurrent requests apart', async () => {
    const read = (id: string, delay: number) =>
      runWithContext({ correlationId: id }, async () => {
        await new Promise((r) => setTimeout(r, delay));
        return currentContext()?.correlationId;
      });
    expect(await Promise.all([read('a', 5), read('b', 1)])).toEqual(['a', 'b']);
  });
});
