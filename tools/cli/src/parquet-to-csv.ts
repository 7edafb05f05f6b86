import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fsOptionsFromUrl } from '@mlp/artifacts';
import { literal, openDuck } from '@mlp/duckdb';
import { CliError } from './api';

/** A content key as the artifact store gives it: `sha256/<64 hex>`. Anything else is not read from disk. */
const CONTENT_KEY = /^sha256\/[0-9a-f]{64}$/;

/**
 * Where the embedded platform keeps artifacts on this machine: the directory
 * of a `file://` ARTIFACTS_URL, else `<MLP_HOME>/artifacts` (the embedded
 * default). Null for any other store (s3://…): nothing is local then.
 */
export function localArtifactRoot(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string | null {
  const url = env.ARTIFACTS_URL;
  if (url) return url.startsWith('file://') ? fsOptionsFromUrl(url, cwd).root : null;
  return resolve(cwd, env.MLP_HOME || '.mlp', 'artifacts');
}

/** `<root>/objects/<key>` when the artifact is a file on this machine, else null. */
export function localArtifactPath(key: string, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string | null {
  const root = localArtifactRoot(env, cwd);
  if (!root || !CONTENT_KEY.test(key)) return null;
  const path = join(root, 'objects', ...key.split('/'));
  return existsSync(path) ? path : null;
}

/** sha256 (hex) of a file, streamed. */
export async function fileSha256(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/**
 * Copies a local artifact to `output` (written to a temp name, then renamed),
 * checking on the way that its bytes still hash to `sha256`: the output is
 * the Parquet the training set event names, or nothing.
 */
export async function copyVerified(source: string, output: string, sha256: string): Promise<void> {
  const temp = `${output}.${process.pid}.tmp`;
  const hash = createHash('sha256');
  const tee = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      done(null, chunk);
    },
  });
  try {
    await pipeline(createReadStream(source), tee, createWriteStream(temp));
    const actual = hash.digest('hex');
    if (actual !== sha256) throw new CliError(`the artifact at ${source} hashes to ${actual}, not ${sha256}: not written`);
    await rename(temp, output);
  } finally {
    await rm(temp, { force: true });
  }
}

/** The Parquet file as CSV with a header (DuckDB's rendering: timestamps as `2024-01-09 00:00:00`). */
export async function parquetToCsv(source: string, output: string, sha256: string): Promise<void> {
  const actual = await fileSha256(source);
  if (actual !== sha256) throw new CliError(`the artifact at ${source} hashes to ${actual}, not ${sha256}: not written`);
  const work = await mkdtemp(join(tmpdir(), 'mlp-csv-'));
  const temp = join(dirname(resolve(output)), `.${process.pid}.csv.tmp`);
  const duck = await openDuck(join(work, 'duck'), { threads: 1 });
  try {
    await duck.run(`COPY (SELECT * FROM read_parquet(${literal(source)})) TO ${literal(temp)} (FORMAT CSV, HEADER true)`);
    await rename(temp, output);
  } finally {
    duck.close();
    await rm(temp, { force: true });
    await rm(work, { recursive: true, force: true });
  }
}
