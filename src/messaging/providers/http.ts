import { createHash } from 'node:crypto';
import { errorMessage } from '../../core/errors.js';
import { ProviderError } from './provider.js';

/**
 * Shared by the HTTP providers (Twilio, Slack, Mastodon, webhooks): Retry-After parsing, error
 * classification of `fetch` failures, bounded response reading.
 */

/** Retry-After as milliseconds: delay-seconds (RFC 9110) or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

/** Low-level codes meaning the request never reached the server: safe to send elsewhere. */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);

function causeCode(err: unknown): string | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    current = current.cause;
  }
  return undefined;
}

export interface FetchFailure {
  error: ProviderError;
  /** The request may have reached the server (connection dropped after it was written, or timed out). */
  maybeDelivered: boolean;
}

/** Map a rejected `fetch` (network error, abort, timeout) to a ProviderError. */
export function classifyFetchError(err: unknown, signal: AbortSignal, what: string): FetchFailure {
  if (err instanceof ProviderError) return { error: err, maybeDelivered: false };
  const name = err instanceof Error ? err.name : '';
  const code = causeCode(err);
  if (signal.aborted || name === 'TimeoutError' || name === 'AbortError' || (code !== undefined && TIMEOUT_CODES.has(code))) {
    const reason = signal.aborted && signal.reason instanceof Error ? signal.reason.name : name;
    return {
      error: new ProviderError('timeout', `${what}: no answer in time (${reason || code || 'aborted'})`, {
        code: 'timeout',
        cause: err,
      }),
      maybeDelivered: code !== 'UND_ERR_CONNECT_TIMEOUT',
    };
  }
  const detail = err instanceof Error && err.cause instanceof Error ? err.cause.message : errorMessage(err);
  return {
    error: new ProviderError('connection', `${what}: ${detail}`, { code: code ?? 'network', cause: err }),
    maybeDelivered: code === undefined || !NOT_CONNECTED.has(code),
  };
}

/** Read at most `limit` characters of a response body (error bodies can be large HTML pages). */
export async function readText(response: Response, limit = 64 * 1024): Promise<string> {
  try {
    const text = await response.text();
    return text.length > limit ? text.slice(0, limit) : text;
  } catch {
    return '';
  }
}

export function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A short, single-line excerpt of a response body for error messages. */
export function excerpt(text: string, max = 200): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

/**
 * An idempotency key as an HTTP header value: as is when it is printable ASCII of a sane length,
 * otherwise a stable SHA-256 digest of it (header values cannot carry other characters).
 */
export function headerSafeKey(key: string): string {
  return /^[\x21-\x7e][\x20-\x7e]{0,254}$/.test(key) ? key : `sha256-${createHash('sha256').update(key).digest('hex')}`;
}
