import { randomBytes } from 'node:crypto';
import { connect } from 'nats';
import { subjects, type RegisteredModelView } from '@mlp/contracts';
import { JetStreamEventStore } from '@mlp/eventstore';
import { MlpClient, type MessagingConfig } from '@mlp/messaging';
import { eventually, natsAuthEnv, spawnTs, startDistributedPlatform, type DistributedPlatform, type NatsServerAuth } from '@mlp/testing';

const SECRET = randomBytes(24).toString('hex');

/** The two ways a service can hold NATS credentials that nats-server checks itself, each with a wrong variant. */
const kinds: [string, NatsServerAuth, NatsServerAuth][] = [
  ['a token (--auth)', { token: SECRET }, { token: 'not-the-token' }],
  ['a user and password (--user/--pass)', { user: 'mlp-services', pass: SECRET }, { user: 'mlp-services', pass: 'not-the-password' }],
];

/**
 * NATS is the platform's internal trust boundary: a real nats-server started
 * with `--auth <token>` (or `--user`/`--pass`). Services given MLP_NATS_TOKEN
 * (or MLP_NATS_USER/MLP_NATS_PASSWORD) talk over it (commands, queries,
 * JetStream events); a client without credentials, or with wrong ones, is
 * refused at connect, so it cannot send the commands that HTTP guards with
 * API keys. The secret never shows up in logs or events.
 */
describe.each(kinds)('NATS auth with %s: services connect with MLP_NATS_*, others are refused', (_kind, auth, wrong) => {
  jest.setTimeout(120_000);
  let platform: DistributedPlatform;
  const clients: MlpClient[] = [];
  const mlpClient = (extra: Partial<MessagingConfig> = {}) => {
    const c = new MlpClient({ MLP_TRANSPORT: 'nats', NATS_URL: platform.nats.url, MLP_RPC_TIMEOUT_MS: 5_000, ...extra });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    platform = await startDistributedPlatform({ prefix: 'e2e-nats-auth', natsAuth: auth, env: { LOG_LEVEL: 'debug' } });
    await Promise.all([platform.start('registry', 'registry'), platform.start('monitoring', 'monitoring')]);
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await platform?.stop();
  });

  it('refuses a connection without credentials or with wrong ones (the server enforces it)', async () => {
    await expect(connect({ servers: platform.nats.url, reconnect: false })).rejects.toMatchObject({ code: 'AUTHORIZATION_VIOLATION' });
    await expect(connect({ servers: platform.nats.url, reconnect: false, ...wrong })).rejects.toMatchObject({ code: 'AUTHORIZATION_VIOLATION' });
    const nc = await connect({ servers: platform.nats.url, reconnect: false, ...auth });
    await nc.close();
  });

  it('services with the credentials serve commands and queries and react to each other’s events; a client without them cannot send a command', async () => {
    const created = await platform.call('registry', 'POST', '/models', { name: 'churn' });
    expect(created.status).toBe(201);

    // Over NATS with the credentials: the registry answers.
    const withCredentials = mlpClient(natsAuthEnv(auth) as Partial<MessagingConfig>);
    expect(await withCredentials.send<RegisteredModelView>(subjects.qry.registry.getModel, { name: 'churn' })).toMatchObject({ name: 'churn' });

    // Without it: no command reaches the registry (HTTP would have asked for a write key).
    const anonymous = mlpClient();
    const refused = await anonymous.send(subjects.cmd.registry.createModel, { name: 'sneaky' }).then(() => undefined, (err: Error) => err);
    expect(refused?.message).toMatch(/authorization violation/i);
    expect((await platform.call('registry', 'GET', '/models/sneaky')).status).toBe(404);

    // Monitoring (its own process) heard the registry's event on JetStream and asks the registry over NATS.
    const monitor = await eventually(async () => {
      const res = await platform.call('monitoring', 'GET', '/monitors/churn');
      return res.status === 200 && (res.body as { registeredModel: RegisteredModelView });
    }, 30_000, 'monitor for churn');
    expect(monitor.registeredModel).toMatchObject({ name: 'churn' });
  });

  it('a service without the credentials does not start, and says why without printing secrets', async () => {
    const env = { ...platform.env, ...Object.fromEntries(Object.keys(natsAuthEnv(auth)).map((k) => [k, ''])), MLP_REGISTRY_PORT: '0' };
    const child = spawnTs('services/registry/src/main.ts', [], env);
    const code = await child.exited;
    expect(code).not.toBe(0);
    expect(child.output()).toMatch(/authorization violation/i);
    expect(child.fullOutput()).not.toContain(SECRET);
  });

  it('keeps the secret out of every log line and every event', async () => {
    for (const name of ['registry', 'monitoring']) {
      const output = platform.processes[name].fullOutput();
      expect(output.length).toBeGreaterThan(0);
      expect(output).not.toContain(SECRET);
    }
    const events = await JetStreamEventStore.connect({ servers: platform.nats.url, auth });
    try {
      const all = await events.readAll();
      expect(all.length).toBeGreaterThan(0);
      expect(JSON.stringify(all)).not.toContain(SECRET);
    } finally {
      await events.close();
    }
  });
});
