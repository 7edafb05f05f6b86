import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { UnauthorizedError, ValidationError } from '@mlp/contracts';

const digest = (key: string): Buffer => createHash('sha256').update(key, 'utf8').digest();

/**
 * API keys for push. A presented key is compared with every configured key in
 * constant time (sha256 digests, so lengths leak nothing either). With no key
 * configured every request is refused: push is never open by accident.
 */
export class ApiKeys {
  private readonly digests: Buffer[];

  constructor(keys: readonly string[]) {
    this.digests = [...new Set(keys.map((k) => k.trim()).filter(Boolean))].map(digest);
  }

  /** Keys from `MLP_INGEST_API_KEYS` (comma-separated) and `MLP_INGEST_API_KEYS_FILE` (one per line). */
  static fromConfig(config: { MLP_INGEST_API_KEYS?: string; MLP_INGEST_API_KEYS_FILE?: string }): ApiKeys {
    const keys = (config.MLP_INGEST_API_KEYS ?? '').split(',');
    if (config.MLP_INGEST_API_KEYS_FILE) {
      let text: string;
      try {
        text = readFileSync(config.MLP_INGEST_API_KEYS_FILE, 'utf8');
      } catch (err) {
        throw new ValidationError(`cannot read MLP_INGEST_API_KEYS_FILE: ${(err as Error).message}`, [
          { path: 'MLP_INGEST_API_KEYS_FILE', message: 'an existing, readable file with one key per line' },
        ], { code: 'INVALID_CONFIG' });
      }
      keys.push(...text.split(/\r?\n/).filter((line) => !line.trim().startsWith('#')));
    }
    return new ApiKeys(keys);
  }

  get size(): number {
    return this.digests.length;
  }

  /** Throws UnauthorizedError unless the request carries a configured key (`x-api-key` or `authorization: Bearer`). */
  verify(headers: IncomingHttpHeaders): void {
    if (this.digests.length === 0) {
      throw new UnauthorizedError(
        'push is disabled: no API key is configured. Set MLP_INGEST_API_KEYS (comma-separated keys) or MLP_INGEST_API_KEYS_FILE (one key per line) and send the key as the x-api-key header or "authorization: Bearer <key>"',
      );
    }
    const presented = presentedKey(headers);
    if (presented === undefined) throw new UnauthorizedError('missing API key: send the x-api-key header or "authorization: Bearer <key>"');
    const candidate = digest(presented);
    let ok = false;
    for (const d of this.digests) ok = timingSafeEqual(candidate, d) || ok;
    if (!ok) throw new UnauthorizedError('invalid API key');
  }
}

function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const header = headers['x-api-key'];
  const key = Array.isArray(header) ? header[0] : header;
  if (key && key.trim()) return key.trim();
  const auth = headers.authorization;
  const m = auth ? /^Bearer\s+(.+)$/i.exec(auth.trim()) : null;
  return m ? m[1].trim() : undefined;
}
