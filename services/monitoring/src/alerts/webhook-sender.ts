import { ValidationError } from '@mlp/contracts';
import { HttpStatusError, pinnedRequest, withRetry, type OnRetry, type RetryOptions, type RetryPolicy, type UrlPolicy } from '@mlp/service-kit';

export interface WebhookDelivery {
  status: number;
  attempts: number;
}

export interface WebhookSenderOptions {
  allow: UrlPolicy;
  retry: RetryPolicy;
  timeoutMs: number;
  /** The URL to send to, from the stored one (secret references resolved); the stored one names it in errors. */
  resolve?: (webhook: string) => string;
  onRetry?: OnRetry;
  /** Test seams of withRetry (jitter and sleep). */
  retryOptions?: Pick<RetryOptions, 'random' | 'sleep'>;
}

/**
 * POSTs JSON to webhooks: the host must pass the allow-list (checked before
 * every attempt, and the connection is pinned to the checked addresses);
 * 5xx, 429 and connection failures are retried with full-jitter exponential
 * backoff; other statuses fail at once. `idempotencyKey` goes out as
 * `Idempotency-Key` so a receiver can drop a repeat of a delivery it has seen.
 */
export class WebhookSender {
  constructor(private readonly opts: WebhookSenderOptions) {}

  async post(webhook: string, body: unknown, idempotencyKey: string): Promise<WebhookDelivery> {
    let url: URL;
    let shown: URL;
    try {
      shown = new URL(webhook);
    } catch {
      throw new ValidationError('not a valid webhook URL', [{ path: 'alerts.webhook', message: 'not a valid URL' }]);
    }
    try {
      url = new URL(this.opts.resolve ? this.opts.resolve(webhook) : webhook);
    } catch (err) {
      if (err instanceof ValidationError) throw err;
      throw new ValidationError('not a valid webhook URL once its secrets are filled in', [{ path: 'alerts.webhook', message: 'not a valid URL' }]);
    }
    const payload = JSON.stringify(body);
    const label = `webhook ${shown.origin}${shown.pathname}`;
    let attempts = 0;
    const status = await withRetry(
      async () => {
        attempts++;
        const addresses = await this.opts.allow.resolve(url);
        const signal = AbortSignal.timeout(this.opts.timeoutMs);
        const res = await pinnedRequest(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), 'user-agent': 'mlp-monitoring', 'idempotency-key': idempotencyKey },
          addresses,
          signal,
          body: payload,
        });
        res.resume();
        const code = res.statusCode ?? 0;
        if (code < 200 || code > 299) throw new HttpStatusError(code, res.statusMessage ?? '', label);
        return code;
      },
      this.opts.retry,
      this.opts.onRetry ?? (async () => undefined),
      { label: `delivery to ${label}`, ...this.opts.retryOptions },
    );
    return { status, attempts };
  }
}
