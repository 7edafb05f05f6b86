import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port';

/** The part of s3rver's (untyped, CommonJS) API used here. */
interface S3rverOptions {
  address: string;
  port: number;
  directory: string;
  silent: boolean;
  configureBuckets: { name: string }[];
}
interface S3rverInstance {
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}
type S3rverConstructor = new (options: S3rverOptions) => S3rverInstance;

export interface S3ServerOptions {
  /** Buckets that exist from the start. */
  buckets?: string[];
}

export interface RunningS3Server {
  /** `http://127.0.0.1:<port>`: the S3_ENDPOINT to give clients. */
  endpoint: string;
  port: number;
  accessKey: string;
  secretKey: string;
  /** Where the server keeps its data; removed by stop(). */
  dir: string;
  stop(): Promise<void>;
}

/** s3rver accepts only this one, hard-wired key pair. */
const S3RVER_KEY = 'S3RVER';

/**
 * Starts a real S3-compatible server (s3rver) in this process on a free port,
 * with a fresh temp directory. Limits worth knowing:
 * - it rejects unknown access keys but does not verify SigV4 signatures
 *   (presigned URLs are checked for expiry only), and it serves unsigned requests;
 * - it cannot list multipart uploads, which minio needs for multipart, so
 *   clients must upload each object in one PUT (minio: partSize above the object size).
 */
export async function startS3Server(opts: S3ServerOptions = {}): Promise<RunningS3Server> {
  // s3rver ships no typings and is CommonJS: require it and type the part we use.
  const S3rver = require('s3rver') as S3rverConstructor;
  const dir = mkdtempSync(join(tmpdir(), 'mlp-s3rver-'));
  try {
    const { server, port } = await listenOnFreePort(S3rver, dir, opts.buckets ?? []);
    let stopped = false;
    return {
      endpoint: `http://127.0.0.1:${port}`,
      port,
      accessKey: S3RVER_KEY,
      secretKey: S3RVER_KEY,
      dir,
      async stop() {
        if (stopped) return;
        stopped = true;
        try {
          await server.close();
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Another process may grab the port between freePort() and listen: retry a few times. */
async function listenOnFreePort(
  S3rver: S3rverConstructor,
  directory: string,
  buckets: string[],
): Promise<{ server: S3rverInstance; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const server = new S3rver({
      address: '127.0.0.1',
      port,
      directory,
      silent: true,
      configureBuckets: buckets.map((name) => ({ name })),
    });
    try {
      await server.run();
      return { server, port };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 5) throw err;
    }
  }
}
