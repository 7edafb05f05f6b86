import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/**
 * Tokens are `mlp_<id>_<secret>`: a 12-hex-character id (public: it names
 * the key's stream and its listing prefix) and 32 random bytes. Only the
 * sha256 of the whole token is stored; a 256-bit random secret needs no
 * slow hash.
 */
const TOKEN = /^mlp_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$/;

export interface NewToken {
  id: string;
  token: string;
  prefix: string;
  hash: string;
}

export function newApiKeyToken(): NewToken {
  const id = randomBytes(6).toString('hex');
  const token = `mlp_${id}_${randomBytes(32).toString('base64url')}`;
  return { id, token, prefix: `mlp_${id}`, hash: hashToken(token) };
}

/** sha256 hex of a token. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** The key id inside a token of this platform's format, else undefined (an env key, or garbage). */
export function tokenId(token: string): string | undefined {
  return TOKEN.exec(token)?.[1];
}

/** Constant-time comparison of two sha256 hex digests. */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex');
  const y = Buffer.from(b, 'hex');
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/** The key a request presents: `x-api-key`, else `authorization: Bearer <key>`. */
export function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const header = headers['x-api-key'];
  const key = Array.isArray(header) ? header[0] : header;
  if (key && key.trim()) return key.trim();
  const auth = headers.authorization;
  const m = auth ? /^Bearer\s+(.+)$/i.exec(auth.trim()) : null;
  return m ? m[1].trim() : undefined;
}
