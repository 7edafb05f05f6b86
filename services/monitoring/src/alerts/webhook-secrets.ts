import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ValidationError } from '@mlp/contracts';

/** `${env:MLP_SECRET_…}` (resolved from the environment when sending) or `${sealed:…}` (AES-256-GCM, sealed at apply). */
const REFERENCE = /\$\{(env|sealed):([A-Za-z0-9_.-]+)\}/g;
/** Only these variables may be named by `${env:…}`, so a policy cannot send e.g. MLP_ADMIN_KEY to its webhook. */
const ENV_PREFIX = 'MLP_SECRET_';
/** A path segment that looks like a token (Slack/Teams-style webhook URLs): 16+ characters mixing letters and digits. */
const TOKEN_SEGMENT = /^(?=[^/]*[0-9])(?=[^/]*[A-Za-z])[A-Za-z0-9_-]{16,}$/;
const SEALED = 'v1';

/**
 * Webhook URLs often carry a credential (userinfo, a query token, a token
 * path segment). The policy event must not hold it, so at apply time each
 * such part of a literal URL is replaced by `${sealed:…}`: the part encrypted
 * with AES-256-GCM under a key derived from MLP_SECRETS_KEY, else
 * MLP_ADMIN_KEY, else a random key kept in `<MLP_HOME>/secrets.key` (0600).
 * The IV is an HMAC of the plain text, so the same policy seals to the same
 * text (and its sha256 recognises a repeat). `${env:MLP_SECRET_<NAME>}`
 * references are kept as written and read from the environment at delivery.
 * Either way, events, the policy view and logs only ever show references.
 */
export class WebhookSecrets {
  private readonly encKey: Buffer;
  private readonly ivKey: Buffer;

  constructor(
    secret: Buffer,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.encKey = Buffer.from(hkdfSync('sha256', secret, 'mlp', 'webhook-secrets/enc', 32));
    this.ivKey = Buffer.from(hkdfSync('sha256', secret, 'mlp', 'webhook-secrets/iv', 32));
  }

  /** The key material: MLP_SECRETS_KEY, MLP_ADMIN_KEY, or `<home>/secrets.key` (created on first use). */
  static fromEnv(env: NodeJS.ProcessEnv, home: string): WebhookSecrets {
    const given = env.MLP_SECRETS_KEY?.trim() || env.MLP_ADMIN_KEY?.trim();
    if (given) return new WebhookSecrets(Buffer.from(given, 'utf8'), env);
    const file = join(home, 'secrets.key');
    mkdirSync(home, { recursive: true });
    try {
      writeFileSync(file, randomBytes(32).toString('hex'), { flag: 'wx', mode: 0o600 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    return new WebhookSecrets(Buffer.from(readFileSync(file, 'utf8').trim(), 'utf8'), env);
  }

  /** The URL with its secret-bearing parts sealed; references already there are checked and kept. */
  seal(webhook: string): string {
    this.checkReferences(webhook);
    const m = /^(https?:\/\/)(?:([^/?#@]*)@)?([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$/i.exec(webhook);
    if (!m) return webhook;
    const [, scheme, userinfo, host, path, query = '', fragment = ''] = m;
    const part = (text: string) => (text === '' || isReference(text) ? text : `\${sealed:${this.encrypt(text)}}`);
    let auth = '';
    if (userinfo !== undefined) {
      const colon = userinfo.indexOf(':');
      auth = colon < 0 ? `${part(userinfo)}@` : `${userinfo.slice(0, colon)}:${part(userinfo.slice(colon + 1))}@`;
    }
    const sealedPath = path
      .split('/')
      .map((s) => (TOKEN_SEGMENT.test(s) ? part(s) : s))
      .join('/');
    const sealedQuery = query
      ? `?${query
          .slice(1)
          .split('&')
          .map((kv) => {
            const eq = kv.indexOf('=');
            return eq < 0 ? kv : `${kv.slice(0, eq)}=${part(kv.slice(eq + 1))}`;
          })
          .join('&')}`
      : '';
    return `${scheme}${auth}${host}${sealedPath}${sealedQuery}${fragment}`;
  }

  /** The URL to send to: every reference replaced by its value. */
  resolve(webhook: string): string {
    return webhook.replace(REFERENCE, (_all, kind: string, value: string) => {
      if (kind === 'env') {
        const v = value.startsWith(ENV_PREFIX) ? this.env[value] : undefined;
        if (v === undefined || v === '') throw new ValidationError(`the webhook refers to \${env:${value}}, which is not set on the monitoring service`, [{ path: 'alerts.webhook', message: `set ${value}` }]);
        return v;
      }
      return this.decrypt(value);
    });
  }

  private checkReferences(webhook: string): void {
    for (const [, kind, value] of webhook.matchAll(REFERENCE)) {
      if (kind === 'env' && !value.startsWith(ENV_PREFIX)) {
        throw new ValidationError(`invalid monitoring policy: alerts.webhook: \${env:${value}}: only variables named ${ENV_PREFIX}* may be referenced`, [
          { path: 'alerts.webhook', message: `only \${env:${ENV_PREFIX}<NAME>} references are allowed` },
        ]);
      }
      if (kind === 'sealed') this.decrypt(value); // sealed under another key: refuse now rather than at the first alert
    }
  }

  private encrypt(text: string): string {
    const plain = Buffer.from(text, 'utf8');
    const iv = createHmac('sha256', this.ivKey).update(plain).digest().subarray(0, 12);
    const cipher = createCipheriv('aes-256-gcm', this.encKey, iv);
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return `${SEALED}.${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url')}`;
  }

  private decrypt(value: string): string {
    const [version, data] = value.split('.');
    const raw = Buffer.from(data ?? '', 'base64url');
    try {
      if (version !== SEALED || raw.length < 28) throw new Error('malformed');
      const decipher = createDecipheriv('aes-256-gcm', this.encKey, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      throw new ValidationError('a sealed webhook secret cannot be opened with this service’s key (MLP_SECRETS_KEY or MLP_ADMIN_KEY changed?): apply the policy again with the plain URL', [
        { path: 'alerts.webhook', message: 'sealed under another key' },
      ]);
    }
  }
}

function isReference(text: string): boolean {
  return /^\$\{(env|sealed):[A-Za-z0-9_.-]+\}$/.test(text);
}
