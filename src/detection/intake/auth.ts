import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { AppError } from '../../core/errors.js';
import type { IntakeAdapter, SignatureScheme } from './adapter.js';

/** detection.intake.<source>: a bearer token, and/or an HMAC key for sources that sign. */
export interface IntakeSecrets {
  token?: string | undefined;
  hmacSecret?: string | undefined;
}

/** Constant-time equality of two strings of any length (both are hashed first). */
export function digestEqual(a: string, b: string): boolean {
  const x = createHash('sha256').update(a, 'utf8').digest();
  const y = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(x, y);
}

export function hmacHex(secret: string, body: Buffer | string): string {
  return createHmac('sha256', secret).update(body).digest('hex');
}

/** The header value a signing sender puts on a body: "v1=<hex>" (PagerDuty), "sha256=<hex>" (generic). */
export function signatureFor(scheme: SignatureScheme, secret: string, body: Buffer | string): string {
  return `${scheme.prefix}${hmacHex(secret, body)}`;
}

/**
 * Check a signature header against the raw body: several comma-separated signatures are allowed
 * (PagerDuty sends one per secret while a secret is rotated); one match is enough.
 */
export function verifySignature(
  scheme: SignatureScheme,
  header: string | undefined,
  secret: string,
  body: Buffer | string,
): 'missing' | 'invalid' | 'valid' {
  if (!header?.trim()) return 'missing';
  const expected = Buffer.from(hmacHex(secret, body), 'hex');
  let valid = false;
  for (const part of header.split(',')) {
    const item = part.trim();
    if (!item.toLowerCase().startsWith(scheme.prefix)) continue;
    const hex = item.slice(scheme.prefix.length).trim();
    if (!/^[0-9a-fA-F]{64}$/.test(hex)) continue;
    // Every candidate is compared (no early exit), each in constant time.
    if (timingSafeEqual(Buffer.from(hex, 'hex'), expected)) valid = true;
  }
  return valid ? 'valid' : 'invalid';
}

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(',') : value;
}

function queryToken(query: unknown): string | undefined {
  if (typeof query !== 'object' || query === null) return undefined;
  const value = (query as Record<string, unknown>).token;
  const first = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' && first !== '' ? first : undefined;
}

const WWW_AUTHENTICATE = { 'www-authenticate': 'Bearer realm="keepwarm-intake"' };

/**
 * Authenticate an alert webhook with the source's own secrets (never a Keepwarm API token). Every
 * configured credential must be present and right: 503 when the source has none (the endpoint
 * is never open), 401 when a credential is missing, 403 when one is wrong.
 */
export function authenticateIntake(input: {
  adapter: IntakeAdapter;
  secrets: IntakeSecrets | undefined;
  headers: IncomingHttpHeaders;
  query: unknown;
  rawBody: Buffer | undefined;
}): void {
  const { adapter, secrets, headers } = input;
  const source = adapter.source;
  const setting = `detection.intake.${source}`;
  const token = secrets?.token;
  const hmacSecret = adapter.signature ? secrets?.hmacSecret : undefined;

  if (!token && !hmacSecret) {
    const unusable = secrets?.hmacSecret && !adapter.signature;
    throw new AppError(
      503,
      'intake_not_configured',
      unusable
        ? `${adapter.title} does not sign its webhooks, so ${setting}.hmacSecret cannot authenticate it: set ${setting}.token and send it as Authorization: Bearer <token>.`
        : `Alert intake from ${adapter.title} is not set up: set ${setting}.token${adapter.signature ? ` or ${setting}.hmacSecret` : ''} in the configuration.`,
      { source, settings: adapter.signature ? [`${setting}.token`, `${setting}.hmacSecret`] : [`${setting}.token`] },
    );
  }

  if (token) {
    const authorization = headerText(headers.authorization)?.trim();
    let presented: string | undefined;
    if (authorization) {
      const match = /^Bearer\s+(\S+)$/i.exec(authorization);
      if (!match?.[1]) {
        throw new AppError(
          401,
          'unauthenticated',
          `The Authorization header must be "Bearer <${setting}.token>".`,
          { source },
          WWW_AUTHENTICATE,
        );
      }
      presented = match[1];
    } else if (adapter.tokenInQuery) {
      presented = queryToken(input.query);
    }
    if (presented === undefined) {
      throw new AppError(
        401,
        'unauthenticated',
        `Send ${setting}.token as Authorization: Bearer <token>${adapter.tokenInQuery ? ' or in the URL as ?token=<token>' : ''}.`,
        { source },
        WWW_AUTHENTICATE,
      );
    }
    if (!digestEqual(presented, token)) {
      throw new AppError(403, 'invalid_token', `That is not the token configured in ${setting}.token.`, { source });
    }
  }

  if (hmacSecret && adapter.signature) {
    const scheme = adapter.signature;
    const header = headerText(headers[scheme.header]);
    const verdict = verifySignature(scheme, header, hmacSecret, input.rawBody ?? Buffer.alloc(0));
    if (verdict === 'missing') {
      throw new AppError(
        401,
        'signature_missing',
        `Sign the raw body with ${setting}.hmacSecret: ${scheme.header}: ${scheme.prefix}<hex HMAC-SHA256>.`,
        { source, header: scheme.header },
      );
    }
    if (verdict === 'invalid') {
      throw new AppError(
        403,
        'invalid_signature',
        `${scheme.header} does not match the body signed with ${setting}.hmacSecret (HMAC-SHA256 over the exact bytes sent).`,
        { source, header: scheme.header },
      );
    }
  }
}
