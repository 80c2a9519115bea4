/** What one check found, before the runner stamps it with its monitor and time. */
export interface CheckOutcome {
  ok: boolean;
  degraded: boolean;
  latencyMs: number;
  error?: string;
  statusCode?: number;
}

/** A check's own deadline passed (the message is what people see: "timeout after 2000 ms"). */
export class TimeoutError extends Error {
  readonly code = 'KEEPWARM_TIMEOUT';
  constructor(readonly timeoutMs: number) {
    super(`timeout after ${timeoutMs} ms`);
    this.name = 'TimeoutError';
  }
}

export function failure(latencyMs: number, error: string, statusCode?: number): CheckOutcome {
  return { ok: false, degraded: false, latencyMs, error, ...(statusCode !== undefined && { statusCode }) };
}

/** Milliseconds since a performance.now() reading, to 0.1 ms. */
export function elapsedSince(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection reset',
  UND_ERR_SOCKET: 'connection closed by the server',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_HEADERS_TIMEOUT: 'no response headers in time',
  UND_ERR_BODY_TIMEOUT: 'response body stalled',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EADDRNOTAVAIL: 'address not available',
  ENOTFOUND: 'DNS: no such host',
  EAI_AGAIN: 'DNS lookup failed (temporary)',
  UND_ERR_INFO: 'invalid response',
  HPE_INVALID_CONSTANT: 'invalid HTTP response',
  HPE_INVALID_STATUS: 'invalid HTTP response',
  CERT_HAS_EXPIRED: 'TLS: certificate expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS: self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'TLS: self-signed certificate in the chain',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS: certificate not trusted (unable to verify)',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'TLS: certificate not trusted (unknown issuer)',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS: certificate does not match the host name',
  CERT_NOT_YET_VALID: 'TLS: certificate not yet valid',
  EPROTO: 'TLS handshake failed',
};

/** A network or protocol error in words for people ("connection refused", "timeout after 2000 ms"). */
export function describeNetworkError(err: unknown): string {
  if (err instanceof TimeoutError) return err.message;
  const seen = new Set<unknown>();
  let e = err as { code?: unknown; message?: unknown; cause?: unknown } | null | undefined;
  // undici wraps the socket's error in `cause` ("fetch failed" → ECONNREFUSED).
  while (e && typeof e === 'object' && !seen.has(e)) {
    seen.add(e);
    if (e instanceof TimeoutError) return e.message;
    const code = typeof e.code === 'string' ? e.code : '';
    const known = NETWORK_ERRORS[code];
    if (known) return known;
    if (code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_')) return `TLS: ${String(e.message ?? code)}`.slice(0, 200);
    if (!e.cause) break;
    e = e.cause as typeof e;
  }
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: unknown } | null)?.code;
  return (typeof code === 'string' && !message.includes(code) ? `${message} (${code})` : message).slice(0, 200);
}
