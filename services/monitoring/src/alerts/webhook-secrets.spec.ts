import { ValidationError } from '@mlp/contracts';
import { WebhookSecrets } from './webhook-secrets';

const TOKEN = 'tok3n-0f-the-hook-7f9a2c';
const key = Buffer.from('a-key-of-at-least-24-characters');

describe('WebhookSecrets', () => {
  const secrets = new WebhookSecrets(key, { MLP_SECRET_HOOK: 's3cr3t-from-env', MLP_ADMIN_KEY: 'admin-key-never-sent' });

  it.each([
    [`https://hooks.example.com/alert?token=${TOKEN}&channel=ops`],
    [`https://bot:${TOKEN}@hooks.example.com/alert`],
    [`https://${TOKEN}@hooks.example.com/alert`],
    [`https://hooks.example.com/services/T000/${TOKEN}`],
  ])('seals the secret part of %s (no plain token left) and resolves it back', (url) => {
    const sealed = secrets.seal(url);
    expect(sealed).not.toContain(TOKEN);
    expect(sealed).toMatch(/\$\{sealed:v1\.[A-Za-z0-9_-]+\}/);
    expect(sealed.startsWith('https://')).toBe(true);
    expect(secrets.resolve(sealed)).toBe(url);
  });

  it('seals the same URL to the same text (a re-applied policy is recognised) and leaves URLs without secrets alone', () => {
    const url = `https://hooks.example.com/alert?token=${TOKEN}`;
    expect(secrets.seal(url)).toBe(secrets.seal(url));
    expect(secrets.seal(secrets.seal(url))).toBe(secrets.seal(url));
    expect(secrets.seal('http://127.0.0.1:9999/hook')).toBe('http://127.0.0.1:9999/hook');
  });

  it('keeps ${env:MLP_SECRET_*} references and fills them in when sending; other variables are refused', () => {
    const url = 'https://hooks.example.com/alert?token=${env:MLP_SECRET_HOOK}';
    expect(secrets.seal(url)).toBe(url);
    expect(secrets.resolve(url)).toBe('https://hooks.example.com/alert?token=s3cr3t-from-env');
    expect(() => secrets.seal('https://hooks.example.com/alert?token=${env:MLP_ADMIN_KEY}')).toThrow(ValidationError);
    expect(() => secrets.resolve('https://h.example.com/?t=${env:MLP_SECRET_UNSET}')).toThrow(/MLP_SECRET_UNSET/);
  });

  it('cannot open a secret sealed under another key, and says so without the secret', () => {
    const sealed = secrets.seal(`https://hooks.example.com/alert?token=${TOKEN}`);
    const other = new WebhookSecrets(Buffer.from('another-key-of-24-characters-or-more'));
    expect(() => other.resolve(sealed)).toThrow(/another key|cannot be opened/);
    expect(() => other.seal(sealed)).toThrow(ValidationError);
  });
});
