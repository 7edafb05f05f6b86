import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Transform, type Readable } from 'node:stream';
import { ValidationError } from '@mlp/contracts';

/** Streams a request body to `path`, refusing more than `maxBytes` (413-style ValidationError). */
export async function saveBody(req: Readable, path: string, maxBytes: number): Promise<number> {
  let size = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      if (size > maxBytes) done(new ValidationError(`body larger than ${maxBytes} bytes`, [{ path: 'body', message: `at most ${maxBytes} bytes` }]));
      else done(null, chunk);
    },
  });
  await pipeline(req, limit, createWriteStream(path));
  return size;
}

/** Reads a small text body (YAML specs). */
export async function readText(req: Readable, maxBytes = 1024 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw new ValidationError(`body larger than ${maxBytes} bytes`, [{ path: 'body', message: `at most ${maxBytes} bytes` }]);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
