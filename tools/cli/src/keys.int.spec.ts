import { join } from 'node:path';
import type { ApiKeyView, CreatedApiKey } from '@mlp/contracts';
import { repoRoot } from '@mlp/testing';
import { mlp, startCliPlatform, type CliPlatform } from './cli-platform.fixture';

const ADMIN = 'cli-admin-key-0123456789abcdefghij';

describe('mlp keys against a platform with auth on', () => {
  jest.setTimeout(120_000);
  let platform: CliPlatform;
  /** The CLI with `key` as MLP_API_KEY (none: no key at all). */
  const as = (key: string | undefined, ...args: string[]) => mlp(args, { ...platform.env, MLP_ADMIN_KEY: '', MLP_API_KEY: key ?? '' });

  beforeAll(async () => {
    platform = await startCliPlatform('keys', { MLP_AUTH: 'on', MLP_ADMIN_KEY: ADMIN });
  });

  afterAll(() => platform?.close());

  it('refuses a CLI without a key, saying how to send one', async () => {
    const r = await as(undefined, 'models');
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('missing API key');
    expect(r.stderr).toContain('MLP_API_KEY');
  });

  it('creates, uses, lists and revokes keys', async () => {
    const created = await as(ADMIN, 'keys', 'create', '--name', 'ci-reader', '--scopes', 'read', '--json');
    expect(created.status).toBe(0);
    const reader = JSON.parse(created.stdout) as CreatedApiKey;
    expect(reader).toMatchObject({ name: 'ci-reader', scopes: ['read'], status: 'active' });
    expect(reader.token).toMatch(/^mlp_[0-9a-f]{12}_/);

    const human = await as(ADMIN, 'keys', 'create', '--name', 'ci-writer', '--scopes', 'read,write');
    expect(human.status).toBe(0);
    const writerToken = /^\s+(mlp_\S+)$/m.exec(human.stdout)?.[1];
    expect(writerToken).toBeDefined();
    expect(human.stdout).toContain('only time the key is shown');

    // Read may not write; write may (a streamed upload carries the key too).
    const denied = await as(reader.token, 'models', 'create', 'nope');
    expect(denied.status).toBe(1);
    expect(denied.stderr).toContain('write scope');
    const ingested = await as(writerToken, 'ingest', join(repoRoot, 'examples/data/penguins.csv'), '--dataset', 'penguins', '--null', 'NA', '--json');
    expect(ingested.status).toBe(0);

    const listed = await as(ADMIN, 'keys', 'list', '--json');
    expect(listed.status).toBe(0);
    const keys = JSON.parse(listed.stdout) as ApiKeyView[];
    expect(keys.map((k) => k.name)).toEqual(expect.arrayContaining(['admin', 'ci-reader', 'ci-writer']));
    expect(listed.stdout).not.toContain(reader.token);
    expect(listed.stdout).not.toContain(writerToken);
    const table = await as(ADMIN, 'keys', 'list');
    expect(table.stdout).toMatch(/ID\s+NAME\s+SCOPES\s+STATUS/);
    expect(table.stdout).toContain(`mlp_${reader.id}`);

    const revoked = await as(ADMIN, 'keys', 'revoke', reader.id, '--json');
    expect(revoked.status).toBe(0);
    expect(JSON.parse(revoked.stdout)).toMatchObject({ id: reader.id, status: 'revoked' });
    const registry = platform.platform.services.find((x) => x.service === 'registry')!;
    expect((await fetch(`${registry.url}/models`, { headers: { 'x-api-key': reader.token } })).status).toBe(401);
  });

  it('checks its arguments', async () => {
    expect((await as(ADMIN, 'keys', 'create', '--name', 'x', '--scopes', 'read,root')).status).toBe(2);
    const missing = await as(ADMIN, 'keys', 'revoke', '0123456789ab');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('does not exist');
  });
});

describe('mlp keys on the embedded platform (loopback, auth off)', () => {
  jest.setTimeout(120_000);
  let platform: CliPlatform;

  beforeAll(async () => {
    platform = await startCliPlatform('keys-off');
  });

  afterAll(() => platform?.close());

  it('creates the first admin key without one (bootstrap)', async () => {
    const r = await mlp(['keys', 'create', '--name', 'first-admin', '--scopes', 'admin', '--json'], { ...platform.env, MLP_API_KEY: '', MLP_ADMIN_KEY: '' });
    expect(r.status).toBe(0);
    const key = JSON.parse(r.stdout) as CreatedApiKey;
    expect(key).toMatchObject({ name: 'first-admin', scopes: ['admin'], createdBy: 'anonymous' });
    // The same event store, later served with auth on, accepts it.
    const events = await platform.platform.services[0].runtime.eventStore.readAll({ filter: { category: 'apikey' } });
    expect(events.map((e) => e.type)).toEqual(['ApiKeyCreated']);
    expect(JSON.stringify(events)).not.toContain(key.token);
  });
});
