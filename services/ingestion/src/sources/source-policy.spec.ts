import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSourcePolicy } from './source-policy';

describe('createSourcePolicy', () => {
  let dir: string;
  beforeAll(() => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'source-policy-')));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('embedded by default: creates <MLP_HOME>/inbox as the only root and allows loopback URLs only', async () => {
    const home = join(dir, 'embedded');
    const policy = await createSourcePolicy({ MLP_HOME: home, MLP_TRANSPORT: 'tcp' }, {});
    expect(existsSync(join(home, 'inbox'))).toBe(true);
    expect(policy.files.roots).toEqual([join(home, 'inbox')]);
    expect(await policy.urls.resolve(new URL('http://127.0.0.1:8080/a.csv'))).toEqual([{ address: '127.0.0.1', family: 4 }]);
    await expect(policy.urls.resolve(new URL('http://[::1]:8080/a.csv'))).resolves.toHaveLength(1);
    await expect(policy.urls.resolve(new URL('https://93.184.216.34/a.csv'))).rejects.toMatchObject({ code: 'SOURCE_NOT_ALLOWED' });
    expect(policy.postgres.names()).toEqual([]);
  });

  it('distributed (MLP_TRANSPORT=nats): no URL is allowed unless listed', async () => {
    const policy = await createSourcePolicy({ MLP_HOME: join(dir, 'nats'), MLP_TRANSPORT: 'nats' }, {});
    const err = await policy.urls.resolve(new URL('http://127.0.0.1/a.csv')).catch((e: Error) => e);
    expect(err).toMatchObject({ code: 'SOURCE_NOT_ALLOWED' });
    expect((err as Error).message).toContain('no host is allowed in distributed mode');
    const listed = await createSourcePolicy({ MLP_HOME: join(dir, 'nats'), MLP_TRANSPORT: 'nats', MLP_INGEST_URL_ALLOW: '127.0.0.1' }, {});
    await expect(listed.urls.resolve(new URL('http://127.0.0.1/a.csv'))).resolves.toHaveLength(1);
  });

  it('takes MLP_INGEST_ROOTS instead of the inbox, and checks each root exists', async () => {
    mkdirSync(join(dir, 'a'));
    mkdirSync(join(dir, 'b'));
    const policy = await createSourcePolicy({ MLP_HOME: join(dir, 'roots'), MLP_TRANSPORT: 'tcp', MLP_INGEST_ROOTS: `${join(dir, 'a')}:${join(dir, 'b')}` }, {});
    expect(policy.files.roots).toEqual([join(dir, 'a'), join(dir, 'b')]);
    expect(existsSync(join(dir, 'roots', 'inbox'))).toBe(false);
    await expect(createSourcePolicy({ MLP_HOME: dir, MLP_TRANSPORT: 'tcp', MLP_INGEST_ROOTS: join(dir, 'absent') }, {})).rejects.toMatchObject({ code: 'INVALID_CONFIG' });
  });
});
