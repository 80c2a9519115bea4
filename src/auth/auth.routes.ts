import { z } from 'zod';
import { errorBodySchema, type ResponseDoc, STANDARD_ERRORS } from '../app/openapi.js';
import {
  isSecureRequest,
  LOGIN_CSRF_COOKIE,
  resolveActor,
  SESSION_COOKIE,
  safeEqual,
  sessionCookieOptions,
} from '../app/plugins/auth.js';
import { ROLES } from '../app/roles.js';
import type { Router } from '../app/router.js';
import { sendPage } from '../console/layout.js';
import { AppError } from '../core/errors.js';
import { newSecret } from '../core/ids.js';
import { LoginPage } from './auth.pages.js';
import type { AuthService } from './auth.service.js';

const userSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  created_at: z.string(),
  disabled: z.boolean(),
});
const tokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  prefix: z.string(),
  created_at: z.string(),
  last_used_at: z.string().nullable(),
  revoked_at: z.string().nullable(),
});
const loginBody = z.object({ email: z.string().min(1), password: z.string().min(1) });

/** Only same-site console paths are followed after sign-in (no open redirects). */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/console(\/|$|\?)/.test(next) && !next.startsWith('//') ? next : '/console';
}

export function registerAuthRoutes(r: Router, auth: AuthService, publicUrl: string, sessionHours: number): void {
  const maxAge = Math.round(sessionHours * 3600);

  r.route({
    method: 'POST',
    url: '/api/v1/session',
    summary: 'Sign in with email and password; sets the session cookie and returns the CSRF token',
    tags: ['auth'],
    access: 'public',
    body: loginBody,
    responses: {
      200: { description: 'Signed in', schema: z.object({ user: userSchema, csrf_token: z.string() }) },
      401: STANDARD_ERRORS[401] as ResponseDoc,
      429: { description: 'Too many failed attempts', schema: errorBodySchema },
    },
    async handler({ body, req, reply }) {
      const session = await auth.login(body.email, body.password, req.ip);
      reply.setCookie(SESSION_COOKIE, session.token, sessionCookieOptions(isSecureRequest(req, publicUrl), maxAge));
      return { user: session.user, csrf_token: session.csrfToken };
    },
  });

  r.route({
    method: 'GET',
    url: '/api/v1/me',
    summary: 'Who the credentials belong to',
    tags: ['auth'],
    access: 'signed-in',
    responses: {
      200: {
        description: 'The caller',
        schema: z.object({ type: z.string(), id: z.string().nullable(), name: z.string(), role: z.string() }),
      },
      401: STANDARD_ERRORS[401] as ResponseDoc,
    },
    async handler({ actor }) {
      return { type: actor.type, id: actor.id, name: actor.name, role: actor.role };
    },
  });

  r.route({
    method: 'GET',
    url: '/api/v1/users',
    summary: 'List users',
    tags: ['auth'],
    access: 'users.read',
    responses: { 200: { description: 'Users', schema: z.object({ users: z.array(userSchema) }) }, ...STANDARD_ERRORS },
    async handler() {
      return { users: await auth.listUsers() };
    },
  });

  r.route({
    method: 'POST',
    url: '/api/v1/users',
    summary: 'Create a user',
    tags: ['auth'],
    access: 'users.manage',
    body: z.strictObject({
      email: z.email(),
      name: z.string().max(200).optional(),
      role: z.enum(ROLES),
      password: z.string().min(10, 'at least 10 characters').max(500),
    }),
    responses: {
      201: { description: 'Created', schema: userSchema },
      409: { description: 'Email already used', schema: errorBodySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ body, actor, reply }) {
      const user = await auth.createUser(actor, body);
      reply.code(201);
      return user;
    },
  });

  r.route({
    method: 'GET',
    url: '/api/v1/tokens',
    summary: 'List API tokens (never their secrets)',
    tags: ['auth'],
    access: 'tokens.manage',
    responses: { 200: { description: 'Tokens', schema: z.object({ tokens: z.array(tokenSchema) }) }, ...STANDARD_ERRORS },
    async handler() {
      return { tokens: await auth.listTokens() };
    },
  });

  r.route({
    method: 'POST',
    url: '/api/v1/tokens',
    summary: 'Create an API token; its secret is in this response only',
    tags: ['auth'],
    access: 'tokens.manage',
    body: z.strictObject({ name: z.string().min(1).max(200), role: z.enum(ROLES) }),
    responses: { 201: { description: 'Created', schema: tokenSchema.extend({ token: z.string() }) }, ...STANDARD_ERRORS },
    async handler({ body, actor, reply }) {
      const created = await auth.createToken(actor, body);
      reply.code(201);
      return { ...created.view, token: created.token };
    },
  });

  r.route({
    method: 'DELETE',
    url: '/api/v1/tokens/:id',
    summary: 'Revoke an API token',
    tags: ['auth'],
    access: 'tokens.manage',
    params: z.object({ id: z.string() }),
    responses: {
      204: { description: 'Revoked' },
      404: { description: 'No such token', schema: errorBodySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ params, actor, reply }) {
      await auth.revokeToken(actor, params.id);
      return reply.code(204).send();
    },
  });

  // Console sign-in: a form that works without JavaScript, protected by a double-submit cookie.
  r.route({
    method: 'GET',
    url: '/login',
    summary: 'Sign-in page',
    tags: ['console'],
    access: 'public',
    page: true,
    query: z.object({ next: z.string().optional() }),
    responses: { 200: { description: 'HTML page', contentType: 'text/html' } },
    async handler({ query, req, reply }) {
      if (await resolveActor(auth, req).catch(() => null)) return reply.redirect(safeNext(query.next), 303);
      const csrf = newSecret(24);
      reply.setCookie(LOGIN_CSRF_COOKIE, csrf, sessionCookieOptions(isSecureRequest(req, publicUrl), 3600));
      return sendPage(reply, LoginPage({ csrf, next: safeNext(query.next) }));
    },
  });

  r.route({
    method: 'POST',
    url: '/login',
    summary: 'Sign in from the console form',
    tags: ['console'],
    access: 'public',
    page: true,
    bodyContentType: 'application/x-www-form-urlencoded',
    body: z.object({
      email: z.string().default(''),
      password: z.string().default(''),
      next: z.string().optional(),
      _csrf: z.string().default(''),
    }),
    responses: {
      303: { description: 'Signed in: redirect to the console' },
      401: { description: 'Wrong email or password: the form again', contentType: 'text/html' },
    },
    async handler({ body, req, reply }) {
      const cookie = req.cookies[LOGIN_CSRF_COOKIE] ?? '';
      const next = safeNext(body.next);
      const again = (status: number, error: string) => {
        const csrf = newSecret(24);
        reply.setCookie(LOGIN_CSRF_COOKIE, csrf, sessionCookieOptions(isSecureRequest(req, publicUrl), 3600));
        return sendPage(reply, LoginPage({ csrf, next, email: body.email, error }), status);
      };
      if (!cookie || !safeEqual(cookie, body._csrf)) {
        return again(403, 'The sign-in form expired. Please try again.');
      }
      try {
        const session = await auth.login(body.email, body.password, req.ip);
        reply.clearCookie(LOGIN_CSRF_COOKIE, { path: '/' });
        reply.setCookie(SESSION_COOKIE, session.token, sessionCookieOptions(isSecureRequest(req, publicUrl), maxAge));
        return reply.redirect(next, 303);
      } catch (err) {
        if (err instanceof AppError && (err.status === 401 || err.status === 429)) {
          if (err.headers) reply.headers(err.headers);
          return again(err.status, err.message);
        }
        throw err;
      }
    },
  });

  r.route({
    method: 'POST',
    url: '/logout',
    summary: 'Sign out of the console',
    tags: ['console'],
    access: 'signed-in',
    page: true,
    bodyContentType: 'application/x-www-form-urlencoded',
    body: z.object({ _csrf: z.string().optional() }),
    responses: { 303: { description: 'Signed out: redirect to the sign-in page' } },
    async handler({ actor, req, reply }) {
      const token = req.cookies[SESSION_COOKIE];
      if (token) await auth.logout(actor, token);
      reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return reply.redirect('/login', 303);
    },
  });
}
