import { createWriteStream } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { PayloadTooLargeError } from '@mlp/contracts';
import { DEFAULT_MAX_BODY_BYTES } from '../config/service-config';

const BODY_LIMIT = Symbol('mlp.bodyLimit');
type LimitedRequest = Readable & { headers?: IncomingMessage['headers']; [BODY_LIMIT]?: number };

/** Stamps MLP_MAX_BODY_BYTES on every request, for readText and readBody. */
export function bodyLimitMiddleware(maxBytes: number) {
  return (req: IncomingMessage, _res: ServerResponse, next: () => void): void => {
    (req as LimitedRequest)[BODY_LIMIT] = maxBytes;
    next();
  };
}

/** The service's body limit (MLP_MAX_BODY_BYTES) for this request. */
export function bodyLimitOf(req: Readable): number {
  return (req as LimitedRequest)[BODY_LIMIT] ?? DEFAULT_MAX_BODY_BYTES;
}

function tooLarge(maxBytes: number, setting: string): PayloadTooLargeError {
  return new PayloadTooLargeError(`request body larger than ${maxBytes} bytes (${setting})`, { details: { limit: maxBytes, setting } });
}

function declaredLength(req: LimitedRequest): number | undefined {
  const value = req.headers?.['content-length'];
  const n = value === undefined ? NaN : Number(value);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * The chunks of a request body, refusing more than `maxBytes` (413): at once
 * when content-length says so, else as soon as the count passes the limit.
 * The request is not destroyed, so the 413 reaches the client (the error
 * filter closes the connection behind it).
 */
async function* limitedChunks(req: Readable, maxBytes: number, setting: string): AsyncGenerator<Buffer> {
  const declared = declaredLength(req as LimitedRequest);
  if (declared !== undefined && declared > maxBytes) throw tooLarge(maxBytes, setting);
  let size = 0;
  for await (const chunk of req.iterator({ destroyOnReturn: false })) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += buffer.length;
    if (size > maxBytes) throw tooLarge(maxBytes, setting);
    yield buffer;
  }
}

/** Streams a request body to `path`, refusing more than `maxBytes` (413 PAYLOAD_TOO_LARGE naming `setting`). */
export async function saveBody(req: Readable, path: string, maxBytes: number, setting = 'upload limit'): Promise<number> {
  const out = createWriteStream(path);
  // Kept, not emitted unheard: a write still buffered when the stream is destroyed
  // (413 mid-upload, before the file opened) fails asynchronously.
  let writeError: Error | undefined;
  out.on('error', (err) => (writeError ??= err));
  let size = 0;
  try {
    for await (const chunk of limitedChunks(req, maxBytes, setting)) {
      if (writeError) throw writeError;
      size += chunk.length;
      if (!out.write(chunk)) await once(out, 'drain');
    }
    out.end();
    await finished(out);
    return size;
  } catch (err) {
    out.destroy();
    throw err;
  }
}

/** A whole small body, at most `maxBytes` (default: MLP_MAX_BODY_BYTES), else 413. */
export async function readBody(req: Readable, maxBytes = bodyLimitOf(req), setting = 'MLP_MAX_BODY_BYTES'): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of limitedChunks(req, maxBytes, setting)) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Reads a small text body (YAML specs), at most MLP_MAX_BODY_BYTES unless `maxBytes` says otherwise. */
export async function readText(req: Readable, maxBytes?: number): Promise<string> {
  return (await readBody(req, maxBytes)).toString('utf8');
}

/** Whether a request's body was not read to its end (the connection must close after an early answer). */
export function bodyUnread(req: IncomingMessage): boolean {
  return !req.complete && req.readable;
}
