import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Client, types as pgTypes, type CustomTypesConfig, type FieldDef } from 'pg';
import Cursor from 'pg-cursor';
import { InfrastructureError, ValidationError } from '@mlp/contracts';
import { ident } from '@mlp/data';
import type { AcquiredSource } from './acquired-source';
import { HashingFileWriter, type DigestResult } from './content-digest';
import type { PgConnection } from './pg-connections';
import { withRetry, type OnRetry, type RetryPolicy } from '@mlp/service-kit';

export interface PostgresSourceOptions {
  /** A named connection from MLP_PG_CONNECTIONS, its secrets filled in (PgConnections.resolve). */
  connection: PgConnection;
  /** One SELECT (or any row-returning statement); it runs in a read-only transaction. */
  query: string;
  /** Incremental reads: rows whose `column` is above `after`, in ascending order of it. */
  watermark?: { column: string; after?: string | null };
  /** Rows fetched per round trip. Default 5000. */
  batchSize?: number;
}

export interface PostgresRunOptions {
  retry: RetryPolicy;
  onRetry: OnRetry;
  /** Abandon (and retry) a connection attempt after this long. Default 30 000. */
  connectTimeoutMs?: number;
}

export type PostgresAcquiredSource = AcquiredSource & { watermark: string | null; rows: number };

const DEFAULT_BATCH_SIZE = 5000;
const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;
const QUERY_IN_DESCRIPTION = 120;

/**
 * Runs a query against PostgreSQL and writes its rows to an NDJSON file in
 * `workDir`, streaming through a cursor (`batchSize` rows per round trip) and
 * hashing as it writes. Keys follow the result's column order; values are
 * JSON: int8/numeric stay strings, timestamps become ISO 8601 with their full
 * precision (timestamptz in UTC), dates stay `YYYY-MM-DD`, bytea is base64.
 *
 * With a watermark the query is wrapped as
 * `SELECT * FROM (<query>) AS q [WHERE q."col" > $1] ORDER BY q."col"`, so the
 * returned watermark (the last, i.e. largest, non-null value) lets the next run
 * read only newer rows; with no rows the previous watermark is returned.
 *
 * The connection is named (MLP_PG_CONNECTIONS); its connection string and
 * password never appear in the description or in any error. Connection failures
 * and transient server states are retried; other errors fail at once with the
 * server's message.
 */
export async function postgresSource(opts: PostgresSourceOptions, workDir: string, run: PostgresRunOptions): Promise<PostgresAcquiredSource> {
  const batchSize = opts.batchSize ?? DEFAULT_BATCH_SIZE;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new ValidationError('batchSize must be an integer ≥ 1', [{ path: 'batchSize', message: 'an integer ≥ 1' }]);
  }
  const query = opts.query.trim().replace(/;\s*$/, '');
  if (!query) throw new ValidationError('the query is empty', [{ path: 'query', message: 'required' }]);
  const watermark = opts.watermark ? { column: checkColumn(opts.watermark.column), after: opts.watermark.after ?? null } : undefined;
  const connectionString = checkConnectionString(opts.connection);
  const origin = `connection ${opts.connection.name}`;
  const secrets = secretsOf(connectionString);
  const description = describeQuery(origin, query, watermark);
  const sql = watermark ? wrapForWatermark(query, watermark.column, watermark.after !== null) : query;
  const params = watermark?.after != null ? [watermark.after] : [];

  await mkdir(workDir, { recursive: true });
  const base = join(resolve(workDir), `postgres-${randomUUID()}`);
  const partPath = `${base}.part`;

  let result: { digest: DigestResult; rows: number; last: string | null };
  try {
    result = await withRetry(
      async () => {
        try {
          return await readRows({ connectionString, sql, params, batchSize, watermarkColumn: watermark?.column, path: partPath, connectTimeoutMs: run.connectTimeoutMs });
        } catch (err) {
          throw sanitize(err, secrets);
        }
      },
      run.retry,
      run.onRetry,
      { label: `postgres query (${origin})` },
    );
  } catch (err) {
    throw toDomainError(err, origin, description);
  }

  const path = `${base}.ndjson`;
  await rename(partPath, path);
  return {
    path,
    format: 'ndjson',
    sha256: result.digest.sha256,
    sizeBytes: result.digest.sizeBytes,
    description,
    rows: result.rows,
    watermark: watermark ? (result.last ?? watermark.after) : null,
  };
}

/** The watermark query; the newline keeps a trailing `-- comment` in the user's query from eating the rest. */
export function wrapForWatermark(query: string, column: string, withAfter: boolean): string {
  const col = `q.${ident(column)}`;
  return `SELECT * FROM (\n${query}\n) AS q${withAfter ? ` WHERE ${col} > $1` : ''} ORDER BY ${col} ASC NULLS LAST`;
}

function checkColumn(column: string): string {
  if (!column || column.includes('\0')) {
    throw new ValidationError('invalid watermark column name', [{ path: 'watermark.column', message: 'a non-empty name without NUL' }]);
  }
  return column;
}

/** node-postgres takes URLs; anything else would be misread (and echoed) by its parser. */
function checkConnectionString(connection: PgConnection): string {
  if (/^(postgres|postgresql):\/\//i.test(connection.connectionString)) return connection.connectionString;
  throw new ValidationError(`connection ${connection.name} is not a postgres:// or postgresql:// URL`, [{ path: 'source.connection', message: 'not a postgres:// URL' }]);
}

/** The strings that must not leak: the connection string, its password and its decoded password. */
function secretsOf(connectionString: string): string[] {
  const secrets = [connectionString];
  const password = /^[a-z]+:\/\/[^/@]*?:([^/@]*)@/i.exec(connectionString)?.[1]; // also when the URL does not parse
  if (password) secrets.push(password, safeDecode(password));
  try {
    const url = new URL(connectionString);
    if (url.password) secrets.push(url.password, safeDecode(url.password));
    const query = url.searchParams.get('password');
    if (query) secrets.push(query);
  } catch {
    // not a URL: the whole string is still redacted
  }
  return [...new Set(secrets.filter((s) => s.length >= 3))].sort((a, b) => b.length - a.length);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function redact(text: string, secrets: string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join('[redacted]');
  return out;
}

function describeQuery(origin: string, query: string, watermark: { column: string; after: string | null } | undefined): string {
  const oneLine = query.replace(/\s+/g, ' ');
  const shown = oneLine.length > QUERY_IN_DESCRIPTION ? `${oneLine.slice(0, QUERY_IN_DESCRIPTION - 1)}…` : oneLine;
  const mark = watermark ? ` [watermark ${ident(watermark.column)}${watermark.after === null ? '' : ` > ${watermark.after}`}]` : '';
  return `postgres query (${origin}): ${shown}${mark}`;
}

/**
 * An error as thrown by pg, rebuilt with only safe fields (message, SQLSTATE
 * and hints, redacted): the original may carry the connection string in
 * properties (`input` of an invalid-URL error) or causes.
 */
class PostgresFailure extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
    readonly detail: string | undefined,
    readonly hint: string | undefined,
    readonly position: string | undefined,
  ) {
    super(message);
    this.name = 'PostgresFailure';
  }
}

function sanitize(err: unknown, secrets: string[]): Error {
  if (err instanceof ValidationError) return err; // ours, built without secrets
  const e = (err ?? {}) as { message?: unknown; code?: unknown; detail?: unknown; hint?: unknown; position?: unknown; errors?: unknown };
  const text = (v: unknown) => (typeof v === 'string' && v ? redact(v, secrets) : undefined);
  const inner = Array.isArray(e.errors) ? (e.errors[0] as { message?: unknown } | undefined) : undefined;
  const message = text(e.message) ?? text(inner?.message) ?? (typeof e.code === 'string' ? e.code : 'unknown error');
  return new PostgresFailure(message, typeof e.code === 'string' ? e.code : undefined, text(e.detail), text(e.hint), text(e.position));
}

/** Final errors: a bad query or value is the user's input (ValidationError); the rest is infrastructure. */
function toDomainError(err: unknown, origin: string, description: string): Error {
  if (!(err instanceof PostgresFailure)) return err as Error; // ValidationError, or retries spent (already safe)
  const extra = [err.detail, err.hint ? `hint: ${err.hint}` : undefined].filter(Boolean).join('; ');
  const message = `postgres query failed: ${err.message}${extra ? ` (${extra})` : ''}`;
  if (err.code === 'ERR_INVALID_URL') {
    return new ValidationError(`the URL of ${origin} is not valid`, [{ path: 'source.connection', message: 'not a valid URL' }]);
  }
  const cls = err.code?.slice(0, 2);
  // 42 syntax/undefined names/permissions, 22 bad data or watermark value, 25006 the query tried to write.
  if (cls === '42' || cls === '22' || err.code === '25006') {
    return new ValidationError(message, [{ path: 'query', message: err.message }], { code: 'POSTGRES_QUERY_INVALID', cause: err });
  }
  return new InfrastructureError(message, { code: 'POSTGRES_FAILED', details: { sqlState: err.code ?? null, source: description }, cause: err });
}

interface ReadRequest {
  connectionString: string;
  sql: string;
  params: string[];
  batchSize: number;
  watermarkColumn?: string;
  path: string;
  connectTimeoutMs?: number;
}

/** One attempt: connect, stream the cursor into a fresh file, disconnect. */
async function readRows(req: ReadRequest): Promise<{ digest: DigestResult; rows: number; last: string | null }> {
  const client = new Client({
    connectionString: req.connectionString,
    connectionTimeoutMillis: req.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    application_name: 'mlp-ingestion',
  });
  // A connection lost while idle is emitted as 'error'; the next query then fails.
  client.on('error', () => undefined);
  await rm(req.path, { force: true }); // a previous attempt's leftovers, if its cleanup failed
  const writer = await HashingFileWriter.create(req.path);
  try {
    await client.connect();
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const cursor = client.query(new Cursor(req.sql, req.params, { rowMode: 'array', types: exactTypes }));
    let fields: FieldDef[] | undefined;
    let encoders: ((row: unknown[]) => string) | undefined;
    let markIndex = -1;
    let rows = 0;
    let last: string | null = null;
    for (;;) {
      const { rows: batch, fields: batchFields } = await readBatch(cursor, req.batchSize);
      if (!fields && batchFields.length > 0) {
        fields = batchFields;
        encoders = rowEncoder(fields);
        markIndex = req.watermarkColumn === undefined ? -1 : fields.findIndex((f) => f.name === req.watermarkColumn);
      }
      if (batch.length === 0) break;
      if (!encoders) throw new Error('rows without a row description');
      let chunk = '';
      for (const row of batch) {
        chunk += encoders(row);
        if (markIndex >= 0 && row[markIndex] !== null && row[markIndex] !== undefined) last = watermarkText(row[markIndex]);
      }
      await writer.write(chunk);
      rows += batch.length;
    }
    await cursor.close();
    await client.query('COMMIT');
    return { digest: await writer.finish(), rows, last };
  } catch (err) {
    await writer.discard();
    throw err;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function readBatch(cursor: Cursor, size: number): Promise<{ rows: unknown[][]; fields: FieldDef[] }> {
  return new Promise((resolvePromise, reject) => {
    cursor.read(size, (err, rows, result) => {
      if (err) reject(err);
      else resolvePromise({ rows: rows as unknown[][], fields: result?.fields ?? [] });
    });
  });
}

/** `{"a":1,"b":"x"}\n` with keys in the result's order (a plain object would move integer-like names first). */
function rowEncoder(fields: FieldDef[]): (row: unknown[]) => string {
  const seen = new Set<string>();
  for (const f of fields) {
    if (seen.has(f.name)) {
      throw new ValidationError(`the query returns the column "${f.name}" twice: give the columns distinct names`, [
        { path: 'query', message: `duplicate column "${f.name}"` },
      ]);
    }
    seen.add(f.name);
  }
  const keys = fields.map((f) => `${JSON.stringify(f.name)}:`);
  return (row) => {
    let line = '{';
    for (let i = 0; i < keys.length; i++) line += `${i > 0 ? ',' : ''}${keys[i]}${JSON.stringify(jsonValue(row[i]))}`;
    return `${line}}\n`;
  };
}

/** A pg value as JSON: Date → ISO, Buffer → base64, bigint → string, non-finite numbers → their name. */
export function jsonValue(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString('base64');
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (Array.isArray(value)) return value.map(jsonValue);
  if (typeof value === 'object' && typeof (value as { toPostgres?: unknown }).toPostgres === 'function') {
    return (value as { toPostgres(): string }).toPostgres(); // e.g. a parsed interval: back to its text
  }
  return value;
}

function watermarkText(value: unknown): string {
  const json = jsonValue(value);
  return typeof json === 'string' ? json : JSON.stringify(json);
}

// Type OIDs whose default parsing loses information.
const DATE = 1082;
const TIMESTAMP = 1114;
const TIMESTAMPTZ = 1184;

/**
 * pg's defaults, except: date stays its text (pg would make a local-midnight
 * Date), timestamps become exact ISO 8601 text (a Date would cut microseconds,
 * and re-reading a watermark cut to milliseconds would repeat rows).
 */
const exactTypes: CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (format !== 'binary') {
      if (oid === DATE) return (text: string) => text;
      if (oid === TIMESTAMP) return isoTimestamp;
      if (oid === TIMESTAMPTZ) return isoTimestamptz;
    }
    return pgTypes.getTypeParser(oid, format);
  }) as CustomTypesConfig['getTypeParser'],
};

/** `2024-01-02 03:04:05.123456` → `2024-01-02T03:04:05.123456`; `infinity` and BC values stay as they are. */
export function isoTimestamp(text: string): string {
  return /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)?$/.test(text) ? text.replace(' ', 'T') : text;
}

/** `2024-01-02 05:04:05.123456+02` → `2024-01-02T03:04:05.123456Z` (exact: offsets are whole seconds). */
export function isoTimestamptz(text: string): string {
  const m = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(\.\d+)?([+-])(\d\d)(?::?(\d\d))?(?::?(\d\d))?$/.exec(text);
  if (!m) return text;
  const [, y, mo, d, h, mi, s, fraction, sign, oh, om, os] = m;
  const offset = (sign === '-' ? -1 : 1) * (Number(oh) * 3600 + Number(om ?? 0) * 60 + Number(os ?? 0));
  const utc = new Date(0);
  utc.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  utc.setUTCHours(Number(h), Number(mi), Number(s) - offset, 0);
  const year = utc.getUTCFullYear();
  if (year < 1 || year > 9999) return text;
  return `${utc.toISOString().slice(0, 19)}${fraction ?? ''}Z`;
}
