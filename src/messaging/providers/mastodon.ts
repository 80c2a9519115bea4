import { classifyFetchError, excerpt, headerSafeKey, parseRetryAfter, readText, tryParseJson } from './http.js';
import { type OutboundMessage, type Provider, ProviderError, type SendResult } from './provider.js';

export interface MastodonProviderOptions {
  name?: string | undefined;
  /** Instance URL, https://mastodon.example. */
  url: string;
  accessToken: string;
  visibility: 'public' | 'unlisted' | 'private';
  /** The instance's status length (500 on stock Mastodon). */
  characterLimit: number;
  now?: (() => number) | undefined;
}

/** Mastodon counts every link as 23 characters, whatever its length. */
const URL_PATTERN = /https?:\/\/[^\s<>"]+/g;
const URL_WEIGHT = 23;

/** The length of a status as Mastodon counts it (code points, links as 23). */
export function mastodonLength(text: string): number {
  let length = 0;
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    length += [...text.slice(last, match.index)].length + URL_WEIGHT;
    last = match.index + match[0].length;
  }
  return length + [...text.slice(last)].length;
}

/**
 * Public posts through the Mastodon statuses API: POST /api/v1/statuses with a bearer token. The
 * idempotency key goes in the Idempotency-Key header, so Mastodon itself drops a repeated post (it
 * remembers keys for an hour); no lookup is needed.
 */
export class MastodonProvider implements Provider {
  readonly name: string;
  readonly channel = 'social' as const;
  readonly #endpoint: string;
  readonly #token: string;
  readonly #visibility: MastodonProviderOptions['visibility'];
  readonly #limit: number;
  readonly #now: () => number;

  constructor(options: MastodonProviderOptions) {
    this.name = options.name ?? 'mastodon';
    this.#endpoint = `${options.url.replace(/\/+$/, '')}/api/v1/statuses`;
    this.#token = options.accessToken;
    this.#visibility = options.visibility;
    this.#limit = options.characterLimit;
    this.#now = options.now ?? Date.now;
  }

  rateKey(): string | null {
    // Mastodon publishes its limits in X-RateLimit-* headers and answers 429 when they are spent.
    return null;
  }

  async send(message: OutboundMessage, signal: AbortSignal): Promise<SendResult> {
    const length = mastodonLength(message.text);
    if (length > this.#limit) {
      throw new ProviderError('permanent', `Mastodon: the post is ${length} characters, the instance allows ${this.#limit}`, {
        code: 'too_long',
      });
    }
    let response: Response;
    let text: string;
    try {
      response = await fetch(this.#endpoint, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${this.#token}`,
          'content-type': 'application/json; charset=utf-8',
          accept: 'application/json',
          'idempotency-key': headerSafeKey(message.idempotencyKey),
        },
        body: JSON.stringify({ status: message.text, visibility: this.#visibility }),
        signal,
        redirect: 'manual',
      });
      text = await readText(response);
    } catch (err) {
      throw classifyFetchError(err, signal, 'Mastodon').error;
    }
    const body = tryParseJson(text) as { id?: unknown; url?: unknown; error?: unknown } | undefined;
    if (response.status >= 200 && response.status < 300) {
      if (typeof body?.id !== 'string' && typeof body?.id !== 'number') {
        throw new ProviderError('transient', `Mastodon: ${response.status} without a status id: ${excerpt(text)}`, {
          code: 'bad_response',
        });
      }
      return {
        providerMessageId: String(body.id),
        status: 'sent',
        detail: typeof body.url === 'string' ? body.url : undefined,
      };
    }
    const reason = typeof body?.error === 'string' ? body.error : excerpt(text) || response.statusText;
    const label = `Mastodon: ${response.status} ${reason}`;
    const code = `http_${response.status}`;
    if (response.status === 429) {
      throw new ProviderError('rate_limited', label, { code, retryAfterMs: this.#retryAfter(response) });
    }
    if (response.status >= 500) {
      throw new ProviderError('transient', label, { code, retryAfterMs: parseRetryAfter(response.headers.get('retry-after')) });
    }
    // 401/403 (token revoked or lacking write:statuses), 422 (too long, validation): retrying cannot help.
    throw new ProviderError('permanent', label, { code });
  }

  /** Retry-After if given, else the X-RateLimit-Reset time (ISO 8601). */
  #retryAfter(response: Response): number | undefined {
    const now = this.#now();
    const retryAfter = parseRetryAfter(response.headers.get('retry-after'), now);
    if (retryAfter !== undefined) return retryAfter;
    const reset = response.headers.get('x-ratelimit-reset');
    if (!reset) return undefined;
    const at = Date.parse(reset);
    return Number.isNaN(at) ? undefined : Math.max(0, at - now);
  }

  async close(): Promise<void> {}
}
