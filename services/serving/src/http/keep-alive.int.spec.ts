import { Agent, request } from 'node:http';
import type { Socket } from 'node:net';
import { churnRows, promoteTinyModel } from '../testing/model.fixture';
import { startServingPlatform, type ServingPlatform } from '../testing/serving-platform.fixture';

jest.setTimeout(60_000);

const { rows } = churnRows(5, 4);

/**
 * Inference connections: clients are told to keep an idle connection 5 s
 * (Keep-Alive header), and serving keeps it open far longer, so a request a
 * client sends on a connection it still believes open is never met by a
 * close (ECONNRESET when the event loop runs late under load).
 */
describe('serving inference keep-alive', () => {
  let s: ServingPlatform;
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });

  beforeAll(async () => {
    s = await startServingPlatform({}, async (p) => void (await promoteTinyModel(p, { epochs: 2 })));
  });
  afterAll(async () => {
    agent.destroy();
    await s?.close();
  });

  const predict = () =>
    new Promise<{ status: number; headers: Record<string, unknown>; socket: Socket }>((resolve, reject) => {
      const body = JSON.stringify({ instances: rows.slice(0, 1) });
      const url = new URL(`${s.url}/v1/models/churn:predict`);
      const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, socket: req.socket as Socket }));
      });
      req.on('error', reject);
      req.end(body);
    });

  it('advertises 5 s and still answers on the same connection after 6 s idle', async () => {
    const first = await predict();
    expect(first.status).toBe(200);
    expect({ connection: first.headers.connection, keepAlive: first.headers['keep-alive'] }).toEqual({ connection: 'keep-alive', keepAlive: 'timeout=5' });
    let closed = false;
    first.socket.once('close', () => (closed = true));
    await new Promise((r) => setTimeout(r, 6_000));
    expect(closed).toBe(false);
    const second = await predict();
    expect(second.status).toBe(200);
    expect(second.socket).toBe(first.socket);
  });
});
