import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuthService } from '../../auth/auth.service.js';
import { AppError, forbidden, unauthorized } from '../../core/errors.js';
import type { Actor } from '../actor.js';
import type { Access } from '../openapi.js';
import { can, rolesFor } from '../roles.js';

export const SESSION_COOKIE = 'kw_session';
export const LOGIN_CSRF_COOKIE = 'kw_login_csrf';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

declare module 'fastify' {
  interface FastifyRequest {
    /** undefined: not resolved yet; null: no valid credentials. */
    keepwarmActor?: Actor | null;
  }
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Who is calling: an API token (Authorization: Bearer) or a console session cookie. */
export async function resolveActor(auth: AuthService, req: FastifyRequest): Promise<Actor | null> {
  if (req.keepwarmActor !== undefined) return req.keepwarmActor;
  let actor: Actor | null = null;
  const header = req.headers.authorization;
  if (header) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match?.[1]) throw new AppError(401, 'unauthenticated', 'The Authorization header must be "Bearer <token>".');
    actor = await auth.resolveToken(match[1], req.ip);
    if (!actor) throw new AppError(401, 'invalid_token', 'That API token is unknown or revoked.');
  } else {
    const cookie = req.cookies[SESSION_COOKIE];
    if (cookie) actor = await auth.resolveSession(cookie, req.ip);
  }
  req.keepwarmActor = actor;
  return actor;
}

export type AccessOutcome = { actor: Actor | null } | { redirected: true };

/**
 * Enforce a route's access rule: 401 without credentials (console pages redirect to sign-in),
 * 403 for a role without the permission, 403 for a session form post without its CSRF token.
 */
export async function enforceAccess(
  auth: AuthService,
  req: FastifyRequest,
  reply: FastifyReply,
  access: Access,
  page: boolean,
): Promise<AccessOutcome> {
  if (access === 'public') return { actor: null };
  const actor = await resolveActor(auth, req);
  if (!actor) {
    if (page && SAFE_METHODS.has(req.method)) {
      reply.redirect(`/login?next=${encodeURIComponent(req.url)}`, 303);
      return { redirected: true };
    }
    throw unauthorized();
  }
  if (access !== 'signed-in' && !can(actor.role, access)) {
    throw forbidden(
      'forbidden',
      `Your role (${actor.role}) may not do this (${access}); it needs one of: ${rolesFor(access).join(', ')}.`,
    );
  }
  if (actor.csrfToken && !SAFE_METHODS.has(req.method)) {
    const body = req.body as Record<string, unknown> | undefined;
    const sent = req.headers['x-csrf-token'] ?? (typeof body?._csrf === 'string' ? body._csrf : undefined);
    if (typeof sent !== 'string' || !safeEqual(sent, actor.csrfToken)) {
      throw forbidden('csrf_failed', 'This form expired or did not come from Keepwarm; reload the page and try again.');
    }
  }
  return { actor };
}

export function sessionCookieOptions(secure: boolean, maxAgeSeconds?: number) {
  return {
    path: '/',
    httpOnly: true,
    sameSite: 'lax' as const,
    secure,
    ...(maxAgeSeconds !== undefined && { maxAge: maxAgeSeconds }),
  };
}

/** Secure cookies when the request arrived over TLS (directly, or through a trusted proxy). */
export function isSecureRequest(req: FastifyRequest, publicUrl: string): boolean {
  return req.protocol === 'https' || publicUrl.startsWith('https://');
}
