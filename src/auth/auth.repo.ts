import type { Executor } from '../db/database.js';
import type { NewRow, Row } from '../db/schema.js';

export type UserRow = Row<'users'>;
export type TokenRow = Row<'api_tokens'>;

export function findUserByEmail(ex: Executor, email: string): Promise<UserRow | undefined> {
  return ex.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
}

export function findUserById(ex: Executor, id: string): Promise<UserRow | undefined> {
  return ex.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export function listUsers(ex: Executor): Promise<UserRow[]> {
  return ex.selectFrom('users').selectAll().orderBy('email').execute();
}

export async function insertUser(ex: Executor, row: NewRow<'users'>): Promise<void> {
  await ex.insertInto('users').values(row).execute();
}

export async function updateUserPassword(ex: Executor, id: string, hash: string, now: number): Promise<void> {
  await ex.updateTable('users').set({ password_hash: hash, updated_at: now }).where('id', '=', id).execute();
}

export async function insertSession(ex: Executor, row: NewRow<'sessions'>): Promise<void> {
  await ex.insertInto('sessions').values(row).execute();
}

export function findSessionWithUser(ex: Executor, id: string) {
  return ex
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select([
      'sessions.id as session_id',
      'sessions.csrf_token',
      'sessions.expires_at',
      'sessions.last_seen_at',
      'users.id as user_id',
      'users.name',
      'users.email',
      'users.role',
      'users.disabled_at',
    ])
    .where('sessions.id', '=', id)
    .executeTakeFirst();
}

export async function touchSession(ex: Executor, id: string, now: number, expiresAt: number): Promise<void> {
  await ex.updateTable('sessions').set({ last_seen_at: now, expires_at: expiresAt }).where('id', '=', id).execute();
}

export async function deleteSession(ex: Executor, id: string): Promise<void> {
  await ex.deleteFrom('sessions').where('id', '=', id).execute();
}

export async function deleteExpiredSessions(ex: Executor, now: number): Promise<number> {
  const res = await ex.deleteFrom('sessions').where('expires_at', '<=', now).executeTakeFirst();
  return Number(res.numDeletedRows);
}

export async function insertToken(ex: Executor, row: NewRow<'api_tokens'>): Promise<void> {
  await ex.insertInto('api_tokens').values(row).execute();
}

export function findTokenByHash(ex: Executor, hash: string): Promise<TokenRow | undefined> {
  return ex.selectFrom('api_tokens').selectAll().where('token_hash', '=', hash).executeTakeFirst();
}

export function listTokens(ex: Executor): Promise<TokenRow[]> {
  return ex.selectFrom('api_tokens').selectAll().orderBy('created_at', 'desc').execute();
}

export async function markTokenUsed(ex: Executor, id: string, now: number): Promise<void> {
  await ex.updateTable('api_tokens').set({ last_used_at: now }).where('id', '=', id).execute();
}

export async function revokeToken(ex: Executor, id: string, now: number): Promise<boolean> {
  const res = await ex
    .updateTable('api_tokens')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) === 1;
}
