import type { OutboundChannel, Purpose } from '../messaging.js';

/** What a provider is asked to deliver: fully rendered, with everything its protocol needs. */
export interface OutboundMessage {
  /** Keepwarm's message id. */
  id: string;
  /** Stable across retries; providers pass it on where their protocol allows (Message-ID, Idempotency-Key). */
  idempotencyKey: string;
  channel: OutboundChannel;
  /** Email address, E.164 phone number, or (slack/social/webhook) the target's name. */
  to: string;
  toName?: string | undefined;
  subject?: string | undefined;
  text: string;
  html?: string | undefined;
  purpose: Purpose;
  /** Email: signed one-click unsubscribe URL (List-Unsubscribe, RFC 8058). */
  unsubscribeUrl?: string | undefined;
  /** SMS: where the provider reports delivery status. */
  statusCallbackUrl?: string | undefined;
  /** A previous attempt may have reached the provider (the worker stopped mid-send). */
  inDoubt?: boolean | undefined;
  metadata: Record<string, unknown>;
}

export interface SendResult {
  providerMessageId: string;
  /** What the provider said: accepted for delivery (sent) or already delivered (sinks). */
  status: 'sent' | 'delivered';
  detail?: string | undefined;
}

/**
 * How a send failed:
 * - connection / timeout / transient: worth another provider now, or a retry later;
 * - rate_limited: back off (retryAfterMs), same provider, no failover;
 * - permanent: the request itself is wrong (bad credentials, rejected payload): no retry;
 * - recipient: the recipient cannot receive this (invalid, opted out): no retry, maybe suppress.
 */
export type ProviderErrorKind = 'connection' | 'timeout' | 'transient' | 'rate_limited' | 'permanent' | 'recipient';

export class ProviderError extends Error {
  readonly kind: ProviderErrorKind;
  readonly code: string | undefined;
  readonly retryAfterMs: number | undefined;
  /** The recipient asked not to be contacted on this channel (e.g. Twilio 21610): suppress the address. */
  readonly suppress: boolean;

  constructor(
    kind: ProviderErrorKind,
    message: string,
    options: { code?: string | undefined; retryAfterMs?: number | undefined; suppress?: boolean; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ProviderError';
    this.kind = kind;
    this.code = options.code;
    this.retryAfterMs = options.retryAfterMs;
    this.suppress = options.suppress ?? false;
  }
}

/** Failover to the secondary provider: on connection errors, timeouts and transient codes only. */
export function warrantsFailover(err: unknown): boolean {
  return err instanceof ProviderError ? ['connection', 'timeout', 'transient'].includes(err.kind) : true;
}

export interface Provider {
  readonly name: string;
  readonly channel: OutboundChannel;
  /** Rate-limit bucket this message draws from (e.g. the SMS sender number), or null for none. */
  rateKey(message: OutboundMessage): string | null;
  send(message: OutboundMessage, signal: AbortSignal): Promise<SendResult>;
  /**
   * For a message whose earlier attempt may have reached the provider: ask whether it did, where
   * the protocol allows (null: not found or cannot tell). SMTP cannot; Twilio can.
   */
  lookup?(message: OutboundMessage, since: number): Promise<SendResult | null>;
  close(): Promise<void>;
}
