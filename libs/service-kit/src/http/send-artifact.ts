import type { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { ArtifactStore } from '@mlp/artifacts';

export interface SendArtifactOptions {
  /** Default: the content type the artifact was stored with. */
  contentType?: string;
  /** Sent as `content-disposition: attachment; filename="…"` (characters outside [A-Za-z0-9._-] become `_`). */
  filename?: string;
}

const CONTENT_KEY = /^sha256\/([0-9a-f]{64})$/;

/** The hex sha256 of a stored artifact, from its stat or its content key. */
export function artifactSha256(key: string, statSha256?: string): string | undefined {
  return statSha256 ?? CONTENT_KEY.exec(key)?.[1];
}

/**
 * Streams one artifact of the store as the response body: `content-length`
 * from its stat, `x-content-sha256` (and a strong `etag`) when its hash is
 * known, so a client can check what it wrote. Only store keys are read,
 * never a server path; the bytes are piped, never buffered whole.
 *
 * A missing key throws NotFoundError before anything is sent. A read that
 * fails half-way destroys the connection (the client sees a short body, not
 * a complete-looking one) and rethrows for the error filter to log.
 */
export async function sendArtifact(res: ServerResponse, store: ArtifactStore, key: string, opts: SendArtifactOptions = {}): Promise<void> {
  const stat = await store.stat(key);
  const body = await store.get(key);
  res.statusCode = 200;
  res.setHeader('content-type', opts.contentType ?? stat.contentType);
  res.setHeader('content-length', String(stat.size));
  const sha256 = artifactSha256(key, stat.sha256);
  if (sha256) {
    res.setHeader('x-content-sha256', sha256);
    res.setHeader('etag', `"${sha256}"`);
  }
  if (opts.filename) res.setHeader('content-disposition', `attachment; filename="${opts.filename.replace(/[^A-Za-z0-9._-]/g, '_')}"`);
  try {
    await pipeline(body, res);
  } catch (err) {
    res.destroy();
    throw err;
  }
}
