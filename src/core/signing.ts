import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Tamper-proof tokens for links Keepwarm hands out (one-click unsubscribe, tracked redirects):
 * base64url(JSON payload) "." base64url(HMAC-SHA256). Not encrypted: never put secrets inside.
 */
export function signToken(secret: string, payload: Record<string, string | number | boolean>): string {
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  const mac = createHmac('sha256', secret).update(body).digest('base64url');
  return `${body}.${mac}`;
}

export function verifyToken<T extends Record<string, unknown>>(secret: string, token: string): T | null {
  const dot = token.indexOf('.');
  if (dot <= 0) return null;
  const body = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1), 'base64url');
  const expected = createHmac('sha256', secret).update(body).digest();
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  try {
    const value = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as unknown;
    return typeof value === 'object' && value !== null ? (value as T) : null;
  } catch {
    return null;
  }
}
