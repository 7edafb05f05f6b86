import { createServer } from 'node:net';
import { freePort } from './free-port';

describe('freePort', () => {
  const handed: number[] = [];

  it('hands out distinct ports, also to concurrent callers', async () => {
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    expect(new Set(ports).size).toBe(20);
    handed.push(...ports);
  });

  it('never hands a port out again in this process, even from a fresh copy of the module (as jest loads one per test file)', async () => {
    handed.push(...(await Promise.all(Array.from({ length: 10 }, () => freePort()))));
    let reloaded!: typeof freePort;
    jest.isolateModules(() => {
      reloaded = (require('./free-port') as typeof import('./free-port')).freePort;
    });
    expect(reloaded).not.toBe(freePort);
    const later = await Promise.all(Array.from({ length: 10 }, () => reloaded()));
    expect(later.filter((p) => handed.includes(p))).toEqual([]);
  });

  it('hands out a port a server can listen on', async () => {
    const port = await freePort();
    const srv = createServer();
    await new Promise<void>((resolve, reject) => srv.once('error', reject).listen(port, '127.0.0.1', resolve));
    await new Promise((r) => srv.close(r));
  });
});
