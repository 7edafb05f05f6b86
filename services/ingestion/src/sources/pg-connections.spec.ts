import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValidationError } from '@mlp/contracts';
import { passwordVariable, PgConnections } from './pg-connections';

const SECRET = 'p@ss:w/rd%20 x';

function parseError(value: string, env: NodeJS.ProcessEnv = {}): ValidationError {
  try {
    PgConnections.parse(value, env);
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw err;
  }
  throw new Error('expected a configuration error');
}

describe('PgConnections', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'pg-connections-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the list form and the JSON form', async () => {
    const list = PgConnections.parse('warehouse=postgres://reader@db:5432/wh?sslmode=require, crm=postgresql://crm@crm-db/crm', {});
    expect(list.names()).toEqual(['warehouse', 'crm']);
    expect(await list.resolve('crm')).toEqual({ name: 'crm', connectionString: 'postgresql://crm@crm-db/crm' });
    const json = PgConnections.parse('{"warehouse": "postgres://reader@db/wh"}', {});
    expect((await json.resolve('warehouse')).connectionString).toBe('postgres://reader@db/wh');
  });

  it('fills the password from MLP_PG_<NAME>_PASSWORD, URL-encoded', async () => {
    const env = { [passwordVariable('data-lake')]: SECRET };
    expect(passwordVariable('data-lake')).toBe('MLP_PG_DATA_LAKE_PASSWORD');
    const c = await PgConnections.parse('data-lake=postgres://reader@db/lake', env).resolve('data-lake');
    const url = new URL(c.connectionString);
    expect(decodeURIComponent(url.password)).toBe(SECRET);
    expect(url.username).toBe('reader');
  });

  it('fills the password from a file (…_PASSWORD_FILE), read again at each use', async () => {
    const file = join(dir, 'pw');
    writeFileSync(file, 'first\n');
    const connections = PgConnections.parse('wh=postgres://reader@db/wh', { MLP_PG_WH_PASSWORD_FILE: file });
    expect(new URL((await connections.resolve('wh')).connectionString).password).toBe('first');
    writeFileSync(file, 'rotated\n');
    expect(new URL((await connections.resolve('wh')).connectionString).password).toBe('rotated');
  });

  it('replaces ${VAR} references, URL-encoded, and takes a whole URL from a lone reference', async () => {
    const env = { WH_USER: 'reader', WH_PASS: SECRET, WH_URL: 'postgres://u:pw@host:5433/db' };
    const connections = PgConnections.parse('a=postgres://${WH_USER}:${WH_PASS}@db/wh,b=${WH_URL}', env);
    const a = new URL((await connections.resolve('a')).connectionString);
    expect([a.username, decodeURIComponent(a.password), a.hostname]).toEqual(['reader', SECRET, 'db']);
    expect((await connections.resolve('b')).connectionString).toBe('postgres://u:pw@host:5433/db');
  });

  it('says which variable is missing, never the values', () => {
    const err = parseError('a=postgres://reader:${NOPE_PASS}@db/wh,b=${NOPE_URL}');
    expect(err.code).toBe('INVALID_CONFIG');
    expect(err.details.map((d) => d.path)).toEqual(['NOPE_PASS', 'NOPE_URL']);
    expect(err.message).toBe(
      'invalid configuration:\n  NOPE_PASS: is not set (referenced by connection "a" in MLP_PG_CONNECTIONS)\n  NOPE_URL: is not set (referenced by connection "b" in MLP_PG_CONNECTIONS)',
    );
  });

  it('refuses entries that are not postgres URLs without echoing them', () => {
    const err = parseError(`a=mysql://root:${SECRET}@db/x`);
    expect(err.message).not.toContain(SECRET);
    expect(err.message).toBe('invalid configuration:\n  MLP_PG_CONNECTIONS: connection "a" is not a postgres:// URL');
    const json = parseError(`{"a": "postgres://root:${SECRET}@db/x"`);
    expect(json.message).not.toContain(SECRET);
    expect(json.message).toContain('not valid JSON');
    expect(parseError('1bad=postgres://db/x').message).toContain('"1bad" is not a connection name');
  });

  it('answers an unknown name with a 400 on source.connection that lists the configured ones', () => {
    const connections = PgConnections.parse('warehouse=postgres://db/wh', {});
    let err: unknown;
    try {
      connections.check('crm');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect(err).toMatchObject({ code: 'UNKNOWN_CONNECTION', details: [{ path: 'source.connection', message: 'one of warehouse' }] });
    expect(() => PgConnections.parse(undefined, {}).check('x')).toThrow("unknown PostgreSQL connection 'x': none is configured (MLP_PG_CONNECTIONS)");
  });
});
