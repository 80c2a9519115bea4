import { classifyFetchError, excerpt, parseRetryAfter, readText } from './http.js';
import { type OutboundMessage, type Provider, ProviderError, type SendResult } from './provider.js';

export interface SlackProviderOptions {
  name?: string | undefined;
  /** Incoming webhook URL (https://hooks.slack.com/services/…). */
  webhookUrl: string;
}

/**
 * Internal updates to a Slack channel through an incoming webhook: POST {"text": …}. Slack answers
 * 200 "ok", or a status with a short error word in the body (invalid_payload, no_service,
 * channel_is_archived, …). The webhook has no message id, so the idempotency key stands in for it.
 * `message.to` (the target's name) is not used: the webhook URL decides the channel.
 */
export class SlackProvider implements Provider {
  readonly name: string;
  readonly channel = 'slack' as const;
  readonly #url: string;

  constructor(options: SlackProviderOptions) {
    this.name = options.name ?? 'slack';
    this.#url = options.webhookUrl;
  }

  rateKey(): string | null {
    // Slack allows about one message a second per webhook and says so with 429 + Retry-After.
    return null;
  }

  async send(message: OutboundMessage, signal: AbortSignal): Promise<SendResult> {
    let response: Response;
    let text: string;
    try {
      response = await fetch(this.#url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify({ text: message.text }),
        signal,
        redirect: 'manual',
      });
      text = await readText(response);
    } catch (err) {
      throw classifyFetchError(err, signal, 'Slack').error;
    }
    if (response.status >= 200 && response.status < 300) {
      return { providerMessageId: message.idempotencyKey, status: 'sent', detail: excerpt(text) || 'ok' };
    }
    const word = excerpt(text, 80) || response.statusText;
    const label = `Slack: ${response.status} ${word}`;
    const code = /^[a-z_]+$/.test(word) ? word : `http_${response.status}`;
    if (response.status === 429) {
      throw new ProviderError('rate_limited', label, {
        code,
        retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
      });
    }
    if (response.status >= 500) {
      throw new ProviderError('transient', label, { code, retryAfterMs: parseRetryAfter(response.headers.get('retry-after')) });
    }
    throw new ProviderError('permanent', label, { code });
  }

  async close(): Promise<void> {}
}
