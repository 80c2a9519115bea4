import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { classifyFetchError, excerpt, parseRetryAfter, readText } from './http.js';
import { type OutboundMessage, type Provider, ProviderError, type SendResult } from './provider.js';

/**
 * Outbound webhooks signed per the Standard Webhooks specification (standardwebhooks.com, v1):
 * headers webhook-id, webhook-timestamp (unix seconds) and webhook-signature, a space-separated list
 * of `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, one per secret (rotation).
 *
 * Secrets: the specification's form is `whsec_` + base64 of 24 to 64 random bytes; the bytes are
 * the HMAC key. A secret configured without the prefix is read the way the specification's reference
 * libraries read it, as base64, when it is strict base64 of at least 24 bytes; otherwise (a
 * passphrase such as "correct-horse-battery-staple…") its UTF-8 bytes are the key, and the receiver
 * must use the same bytes. Prefer `whsec_` secrets: every Standard Webhooks library accepts them.
 */

export const WEBHOOK_SECRET_PREFIX = 'whsec_';
export const WEBHOOK_EVENT_TYPE = 'keepwarm.message';
/** How far webhook-timestamp may be from the receiver's clock (the specification suggests 5 minutes). */
export const WEBHOOK_TOLERANCE_SECONDS = 5 * 60;

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const MIN_KEY_BYTES = 24;
const MAX_KEY_BYTES = 64;

/** The HMAC key of a configured secret (see the module comment). Throws on a malformed whsec_ secret. */
export function decodeWebhookSecret(secret: string): Buffer {
  if (secret.startsWith(WEBHOOK_SECRET_PREFIX)) {
    const encoded = secret.slice(WEBHOOK_SECRET_PREFIX.length);
    const key = STRICT_BASE64.test(encoded) ? Buffer.from(encoded, 'base64') : null;
    if (!key || key.length < MIN_KEY_BYTES || key.length > MAX_KEY_BYTES) {
      throw new Error(`expected whsec_ followed by base64 of ${MIN_KEY_BYTES} to ${MAX_KEY_BYTES} bytes`);
    }
    return key;
  }
  if (STRICT_BASE64.test(secret)) {
    const key = Buffer.from(secret, 'base64');
    if (key.length >= MIN_KEY_BYTES) return key;
  }
  return Buffer.from(secret, 'utf8');
}

function signOne(key: Buffer, id: string, timestamp: number, body: string): string {
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`, 'utf8').digest('base64')}`;
}

/**
 * The webhook-signature header value for one delivery: one `v1,…` entry per secret (give the
 * current and the previous secret while rotating). `id` must not contain "." or whitespace.
 */
export function signWebhook(input: {
  id: string;
  /** Unix seconds. */
  timestamp: number;
  /** The exact body sent. */
  body: string;
  secret: string | readonly string[];
}): string {
  if (!/^[^\s.]+$/.test(input.id)) throw new Error('webhook id must be non-empty, without "." or whitespace');
  if (!Number.isSafeInteger(input.timestamp) || input.timestamp < 0) throw new Error('webhook timestamp must be unix seconds');
  const secrets = typeof input.secret === 'string' ? [input.secret] : input.secret;
  return secrets.map((s) => signOne(decodeWebhookSecret(s), input.id, input.timestamp, input.body)).join(' ');
}

/** The three Standard Webhooks headers for one delivery. */
export function webhookHeaders(input: Parameters<typeof signWebhook>[0]): Record<string, string> {
  return {
    'webhook-id': input.id,
    'webhook-timestamp': String(input.timestamp),
    'webhook-signature': signWebhook(input),
  };
}

/**
 * Verify a received webhook: the timestamp is within tolerance of `now` and one `v1` entry of the
 * signature header matches one of the secrets (constant-time comparison).
 */
export function verifyWebhook(input: {
  id: string | null | undefined;
  timestamp: string | number | null | undefined;
  signature: string | null | undefined;
  /** The raw body, exactly as received. */
  body: string;
  secret: string | readonly string[];
  /** Epoch milliseconds (default: now). */
  now?: number | undefined;
  toleranceSeconds?: number | undefined;
}): boolean {
  if (!input.id || input.timestamp === null || input.timestamp === undefined || !input.signature) return false;
  const timestamp =
    typeof input.timestamp === 'number' ? input.timestamp : /^\d{1,12}$/.test(input.timestamp) ? Number(input.timestamp) : NaN;
  if (!Number.isSafeInteger(timestamp)) return false;
  const nowSeconds = Math.floor((input.now ?? Date.now()) / 1000);
  if (Math.abs(nowSeconds - timestamp) > (input.toleranceSeconds ?? WEBHOOK_TOLERANCE_SECONDS)) return false;
  const secrets = typeof input.secret === 'string' ? [input.secret] : input.secret;
  const received = input.signature
    .split(' ')
    .filter((entry) => entry.startsWith('v1,'))
    .map((entry) => Buffer.from(entry.slice(3), 'base64'));
  for (const secret of secrets) {
    let key: Buffer;
    try {
      key = decodeWebhookSecret(secret);
    } catch {
      continue;
    }
    const expected = createHmac('sha256', key).update(`${input.id}.${timestamp}.${input.body}`, 'utf8').digest();
    if (received.some((sig) => sig.length === expected.length && timingSafeEqual(sig, expected))) return true;
  }
  return false;
}

/**
 * The webhook-id of a message: stable across retries (receivers dedupe on it), derived from the
 * idempotency key, which may hold "." and other characters the specification keeps out of ids.
 */
export function webhookMessageId(idempotencyKey: string): string {
  return `msg_${createHash('sha256').update(idempotencyKey, 'utf8').digest('hex').slice(0, 32)}`;
}

/** The body of a Keepwarm message webhook. */
export interface WebhookPayload {
  type: typeof WEBHOOK_EVENT_TYPE;
  data: {
    messageId: string;
    idempotencyKey: string;
    /** The configured webhook's name (message.to). */
    webhook: string;
    purpose: string;
    subject?: string;
    /** The rendered text, exactly. */
    text: string;
    /** The text parsed, when the template produced a JSON object or array. */
    json?: unknown;
  };
}

export function buildWebhookPayload(message: OutboundMessage): WebhookPayload {
  const data: WebhookPayload['data'] = {
    messageId: message.id,
    idempotencyKey: message.idempotencyKey,
    webhook: message.to,
    purpose: message.purpose,
    ...(message.subject !== undefined && { subject: message.subject }),
    text: message.text,
  };
  const trimmed = message.text.trim();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      data.json = JSON.parse(trimmed) as unknown;
    } catch {
      // Not JSON after all: the text alone is sent.
    }
  }
  return { type: WEBHOOK_EVENT_TYPE, data };
}

export interface WebhookTarget {
  name: string;
  url: string;
  secret: string;
}

export interface WebhookProviderOptions {
  name?: string | undefined;
  targets: readonly WebhookTarget[];
  /** Epoch milliseconds (tests pin it). */
  now?: (() => number) | undefined;
}

/**
 * Posts a message to the configured webhook named by `message.to`, as a signed Standard Webhooks
 * delivery. 2xx: delivered to the receiver; 410: the receiver wants no more (permanent); 429:
 * rate limited; 408, 5xx, timeouts and network errors: transient; other answers: permanent.
 */
export class WebhookProvider implements Provider {
  readonly name: string;
  readonly channel = 'webhook' as const;
  readonly #targets = new Map<string, WebhookTarget>();
  readonly #now: () => number;

  constructor(options: WebhookProviderOptions) {
    this.name = options.name ?? 'webhook';
    this.#now = options.now ?? Date.now;
    for (const target of options.targets) {
      try {
        decodeWebhookSecret(target.secret);
      } catch (err) {
        throw new Error(`webhooks "${target.name}": secret: ${(err as Error).message}`);
      }
      this.#targets.set(target.name, target);
    }
  }

  get targets(): string[] {
    return [...this.#targets.keys()];
  }

  rateKey(): string | null {
    return null;
  }

  async send(message: OutboundMessage, signal: AbortSignal): Promise<SendResult> {
    const target = this.#targets.get(message.to);
    if (!target) {
      throw new ProviderError('permanent', `no webhook named ${JSON.stringify(message.to)} is configured`, {
        code: 'unknown_webhook',
      });
    }
    const id = webhookMessageId(message.idempotencyKey);
    const timestamp = Math.floor(this.#now() / 1000);
    const body = JSON.stringify(buildWebhookPayload(message));
    const what = `webhook ${target.name}`;
    let response: Response;
    let text: string;
    try {
      response = await fetch(target.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'Keepwarm-Webhooks/1',
          ...webhookHeaders({ id, timestamp, body, secret: target.secret }),
        },
        body,
        signal,
        redirect: 'manual',
      });
      text = await readText(response, 4 * 1024);
    } catch (err) {
      throw classifyFetchError(err, signal, what).error;
    }
    const status = response.status;
    if (status >= 200 && status < 300) return { providerMessageId: id, status: 'sent', detail: `${target.name}: ${status}` };
    const label = `${what}: ${status} ${excerpt(text, 120) || response.statusText}`.trim();
    const code = `http_${status}`;
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
    if (status === 429) throw new ProviderError('rate_limited', label, { code, retryAfterMs });
    if (status === 410) throw new ProviderError('permanent', `${label} (the receiver no longer wants these webhooks)`, { code });
    if (status >= 500 || status === 408) throw new ProviderError('transient', label, { code, retryAfterMs });
    // 3xx (redirects are not followed: update the URL instead), 400, 401, 403, 404, 413, …
    throw new ProviderError('permanent', label, { code });
  }

  async close(): Promise<void> {}
}
