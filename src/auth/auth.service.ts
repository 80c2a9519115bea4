import { createHash } from 'node:crypto';
import type { Actor } from '../app/actor.js';
import { isRole, ROLES, type Role } from '../app/roles.js';
import { recordAudit } from '../audit/audit.repo.js';
import { type Clock, HOUR, MINUTE, toIso, toIsoOrNull } from '../core/clock.js';
import { AppError, conflict, notFound, tooManyRequests, unprocessable } from '../core/errors.js';
import { newId, newSecret } from '../core/ids.js';
import { RateLimiter } from '../core/rate-limit.js';
import type { Database } from '../db/database.js';
import * as repo from './auth.repo.js';
import { DUMMY_HASH, hashPassword, verifyPassword } from './passwords.js';

export const TOKEN_PREFIX = 'kw_';

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export interface UserView {
  id: string;
  email: string;
  name: string;
  role: string;
  created_at: string;
  disabled: boolean;
}

export interface TokenView {
  id: string;
  name: string;
  role: string;
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

function toUserView(u: repo.UserRow): UserView {
  return {
    id: u.id,
    email: u.email,
    name: u.name,
    role: u.role,
    created_at: toIso(u.created_at),
    disabled: u.disabled_at !== null,
  };
}

function toTokenView(t: repo.TokenRow): TokenView {
  return {
    id: t.id,
    name: t.name,
    role: t.role,
    prefix: t.prefix,
    created_at: toIso(t.created_at),
    last_used_at: toIsoOrNull(t.last_used_at),
    revoked_at: toIsoOrNull(t.revoked_at),
  };
}

export interface AuthOptions {
  sessionHours: number;
  loginAttempts: number;
  loginWindowMinutes: number;
}

/** Users, console sessions and API tokens. Secrets are stored only as hashes. */
function requireRole(role: string): asserts role is Role {
  if (!isRole(role)) {
    throw unprocessable('unknown_role', `Role ${JSON.stringify(role)} does not exist; use one of ${ROLES.join(', ')}.`, {
      field: 'role',
    });
  }
}

export class AuthService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #options: AuthOptions;
  readonly #loginByAccount: RateLimiter;
  readonly #loginByAddress: RateLimiter;
  readonly #tokenTouched = new Map<string, number>();

  constructor(deps: { db: Database; clock: Clock; options: AuthOptions }) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#options = deps.options;
    const perMs = deps.options.loginWindowMinutes * MINUTE;
    this.#loginByAccount = new RateLimiter({ capacity: deps.options.loginAttempts, perMs, clock: deps.clock });
    this.#loginByAddress = new RateLimiter({ capacity: deps.options.loginAttempts * 4, perMs, clock: deps.clock });
  }

  async createUser(
    actor: Actor,
    input: { email: string; name?: string | undefined; role: string; password: string },
  ): Promise<UserView> {
    const email = normalizeEmail(input.email);
    requireRole(input.role);
    if (input.password.length < 10) {
      throw unprocessable('weak_password', 'Passwords need at least 10 characters.', { field: 'password' });
    }
    const now = this.#clock.now();
    const id = newId(now);
    const passwordHash = await hashPassword(input.password);
    return this.#db.tx(async (trx) => {
      if (await repo.findUserByEmail(trx, email)) {
        throw conflict('user_exists', `A user with email ${email} already exists.`, { field: 'email' });
      }
      await repo.insertUser(trx, {
        id,
        email,
        name: input.name?.trim() || email.split('@')[0] || email,
        role: input.role,
        password_hash: passwordHash,
        created_at: now,
        updated_at: now,
        disabled_at: null,
      });
      await recordAudit(trx, {
        at: now,
        actor,
        action: 'user.create',
        target: { type: 'user', id },
        details: { role: input.role },
      });
      return toUserView((await repo.findUserById(trx, id)) as repo.UserRow);
    });
  }

  async setPassword(actor: Actor, userId: string, password: string): Promise<void> {
    if (password.length < 10) {
      throw unprocessable('weak_password', 'Passwords need at least 10 characters.', { field: 'password' });
    }
    const hash = await hashPassword(password);
    const now = this.#clock.now();
    await this.#db.tx(async (trx) => {
      if (!(await repo.findUserById(trx, userId))) throw notFound('User', userId);
      await repo.updateUserPassword(trx, userId, hash, now);
      await trx.deleteFrom('sessions').where('user_id', '=', userId).execute();
      await recordAudit(trx, { at: now, actor, action: 'user.password_set', target: { type: 'user', id: userId } });
    });
  }

  async findUser(idOrEmail: string): Promise<UserView | undefined> {
    const ex = this.#db.kysely;
    const row = idOrEmail.includes('@')
      ? await repo.findUserByEmail(ex, normalizeEmail(idOrEmail))
      : await repo.findUserById(ex, idOrEmail);
    return row ? toUserView(row) : undefined;
  }

  async listUsers(): Promise<UserView[]> {
    return (await repo.listUsers(this.#db.kysely)).map(toUserView);
  }

  /**
   * Check a password and open a session. Failures are throttled per account and per address;
   * the answer never says whether the email exists.
   */
  async login(
    emailInput: string,
    password: string,
    ip: string | null,
  ): Promise<{ token: string; csrfToken: string; user: UserView; expiresAt: number }> {
    const email = normalizeEmail(emailInput);
    const accountKey = `${email}|${ip ?? ''}`;
    const addressKey = ip ?? 'unknown';
    for (const decision of [this.#loginByAccount.check(accountKey), this.#loginByAddress.check(addressKey)]) {
      if (!decision.ok) {
        throw tooManyRequests(
          'Too many failed sign-in attempts. Wait a few minutes and try again.',
          Math.ceil(decision.retryAfterMs / 1000),
        );
      }
    }
    const user = await repo.findUserByEmail(this.#db.kysely, email);
    const valid = await verifyPassword(password, user?.password_hash ?? DUMMY_HASH);
    const now = this.#clock.now();
    const anonymous: Actor = { type: 'anonymous', id: null, name: 'anonymous', role: 'viewer', ip };
    if (!user || !valid || user.disabled_at !== null) {
      this.#loginByAccount.take(accountKey);
      this.#loginByAddress.take(addressKey);
      await this.#db.tx((trx) => recordAudit(trx, { at: now, actor: anonymous, action: 'session.login_failed', details: {} }));
      throw new AppError(401, 'invalid_credentials', 'That email and password do not match an active user.');
    }
    this.#loginByAccount.reset(accountKey);
    const token = newSecret(32);
    const csrfToken = newSecret(24);
    const expiresAt = now + this.#options.sessionHours * HOUR;
    await this.#db.tx(async (trx) => {
      await repo.insertSession(trx, {
        id: hashSecret(token),
        user_id: user.id,
        csrf_token: csrfToken,
        created_at: now,
        last_seen_at: now,
        expires_at: expiresAt,
        ip,
      });
      const actor: Actor = { type: 'user', id: user.id, name: user.name, role: user.role as Role, ip };
      await recordAudit(trx, { at: now, actor, action: 'session.login', target: { type: 'user', id: user.id } });
    });
    return { token, csrfToken, user: toUserView(user), expiresAt };
  }

  /** The person behind a session cookie, or null. Sessions slide: use extends them. */
  async resolveSession(token: string, ip: string | null): Promise<Actor | null> {
    const id = hashSecret(token);
    const row = await repo.findSessionWithUser(this.#db.kysely, id);
    const now = this.#clock.now();
    if (!row || row.expires_at <= now || row.disabled_at !== null || !isRole(row.role)) return null;
    if (now - row.last_seen_at > MINUTE) {
      await repo.touchSession(this.#db.kysely, id, now, now + this.#options.sessionHours * HOUR);
    }
    return { type: 'user', id: row.user_id, name: row.name, role: row.role, ip, csrfToken: row.csrf_token };
  }

  async logout(actor: Actor, token: string): Promise<void> {
    const now = this.#clock.now();
    await this.#db.tx(async (trx) => {
      await repo.deleteSession(trx, hashSecret(token));
      await recordAudit(trx, {
        at: now,
        actor,
        action: 'session.logout',
        ...(actor.id && { target: { type: 'user', id: actor.id } }),
      });
    });
  }

  async purgeExpiredSessions(): Promise<number> {
    return repo.deleteExpiredSessions(this.#db.kysely, this.#clock.now());
  }

  /** A new API token. The secret is returned once and stored only as a hash. */
  async createToken(actor: Actor, input: { name: string; role: string }): Promise<{ token: string; view: TokenView }> {
    requireRole(input.role);
    const now = this.#clock.now();
    const id = newId(now);
    const secret = `${TOKEN_PREFIX}${newSecret(32)}`;
    const prefix = secret.slice(0, TOKEN_PREFIX.length + 6);
    await this.#db.tx(async (trx) => {
      await repo.insertToken(trx, {
        id,
        name: input.name,
        role: input.role,
        token_hash: hashSecret(secret),
        prefix,
        created_by: actor.type === 'user' ? actor.id : null,
        created_at: now,
        last_used_at: null,
        revoked_at: null,
      });
      await recordAudit(trx, {
        at: now,
        actor,
        action: 'token.create',
        target: { type: 'api_token', id },
        details: { role: input.role },
      });
    });
    const row = (await repo.listTokens(this.#db.kysely)).find((t) => t.id === id) as repo.TokenRow;
    return { token: secret, view: toTokenView(row) };
  }

  async resolveToken(secret: string, ip: string | null): Promise<Actor | null> {
    if (!secret.startsWith(TOKEN_PREFIX)) return null;
    const row = await repo.findTokenByHash(this.#db.kysely, hashSecret(secret));
    if (!row || row.revoked_at !== null || !isRole(row.role)) return null;
    const now = this.#clock.now();
    // Record use at most once a minute per token, so API traffic does not turn into writes.
    if (now - (this.#tokenTouched.get(row.id) ?? 0) > MINUTE) {
      this.#tokenTouched.set(row.id, now);
      await repo.markTokenUsed(this.#db.kysely, row.id, now);
    }
    return { type: 'token', id: row.id, name: row.name, role: row.role, ip };
  }

  async listTokens(): Promise<TokenView[]> {
    return (await repo.listTokens(this.#db.kysely)).map(toTokenView);
  }

  async revokeToken(actor: Actor, id: string): Promise<void> {
    const now = this.#clock.now();
    await this.#db.tx(async (trx) => {
      if (!(await repo.revokeToken(trx, id, now))) throw notFound('Token', id);
      await recordAudit(trx, { at: now, actor, action: 'token.revoke', target: { type: 'api_token', id } });
    });
  }
}
