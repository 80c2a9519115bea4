import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { beforeAll, expect, test } from 'vitest';
import { TEST_ACTOR, useTestContext } from '../../test/harness/context.js';
import { describeEachDialect } from '../../test/harness/databases.js';
import { MINUTE } from '../core/clock.js';

function cookieOf(setCookie: string | string[] | undefined, name: string): string | undefined {
  return [setCookie ?? []].flat().find((c) => c.startsWith(`${name}=`));
}

describeEachDialect('authentication, roles and audit', (dialect) => {
  const ctx = useTestContext(dialect);
  const password = 'correct horse battery';

  beforeAll(async () => {
    await ctx().services.auth.createUser(TEST_ACTOR, {
      email: 'Ops@Example.test',
      name: 'Olga Ops',
      role: 'commander',
      password,
    });
  });

  test('no credentials: 401; unknown, malformed or revoked tokens: 401', async () => {
    const c = ctx();
    const none = await c.call('GET', '/api/v1/incidents');
    expect(none.statusCode).toBe(401);
    expect(none.json().error.code).toBe('unauthenticated');
    expect((await c.call('GET', '/api/v1/incidents', { token: 'kw_not-a-real-token' })).json().error.code).toBe('invalid_token');
    expect((await c.call('GET', '/api/v1/incidents', { headers: { authorization: 'Basic abc' } })).statusCode).toBe(401);
    const created = await c.services.auth.createToken(TEST_ACTOR, { name: 'temp', role: 'viewer' });
    expect((await c.call('GET', '/api/v1/incidents', { token: created.token })).statusCode).toBe(200);
    const admin = await c.token('admin');
    expect((await c.call('DELETE', `/api/v1/tokens/${created.view.id}`, { token: admin })).statusCode).toBe(204);
    expect((await c.call('GET', '/api/v1/incidents', { token: created.token })).statusCode).toBe(401);
  });

  test('wrong role: 403 naming the roles that may', async () => {
    const c = ctx();
    const viewer = await c.token('viewer');
    const res = await c.call('POST', '/api/v1/incidents', { token: viewer, body: { name: 'x' } });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.message).toContain('admin, commander');
    const marketing = await c.token('marketing');
    expect((await c.call('POST', '/api/v1/incidents', { token: marketing, body: { name: 'x' } })).statusCode).toBe(403);
    const inc = (
      await c.call('POST', '/api/v1/incidents', { token: await c.token('commander'), body: { name: 'Roles' } })
    ).json();
    // Marketing owns the public words: it may publish updates.
    expect(
      (await c.call('POST', `/api/v1/incidents/${inc.id}/updates`, { token: marketing, body: { message: 'We are on it.' } }))
        .statusCode,
    ).toBe(201);
    expect((await c.call('GET', '/api/v1/incidents', { token: await c.token('agent') })).statusCode).toBe(403);
    expect((await c.call('GET', '/api/v1/audit', { token: await c.token('commander') })).statusCode).toBe(403);
  });

  test('API tokens are stored only as hashes and shown once', async () => {
    const c = ctx();
    const admin = await c.token('admin');
    const res = await c.call('POST', '/api/v1/tokens', { token: admin, body: { name: 'CI deploys', role: 'commander' } });
    expect(res.statusCode).toBe(201);
    const { token, id } = res.json();
    expect(token).toMatch(/^kw_[A-Za-z0-9_-]{43}$/);
    const rows = await sql<Record<string, unknown>>`select * from api_tokens where id = ${id}`.execute(c.db.kysely);
    const stored = JSON.stringify(rows.rows);
    expect(stored).not.toContain(token);
    expect(rows.rows[0]?.token_hash).toBe(createHash('sha256').update(token).digest('hex'));
    const listed = (await c.call('GET', '/api/v1/tokens', { token: admin })).json().tokens;
    expect(JSON.stringify(listed)).not.toContain(token);
    expect(listed.find((t: { id: string }) => t.id === id)).toMatchObject({
      name: 'CI deploys',
      role: 'commander',
      prefix: token.slice(0, 9),
    });
  });

  test('sign-in sets an HttpOnly, SameSite, Secure (behind TLS) session cookie; JSON calls with it need the CSRF header', async () => {
    const c = ctx();
    const login = await c.call('POST', '/api/v1/session', { body: { email: 'ops@example.test', password } });
    expect(login.statusCode).toBe(200);
    const cookie = cookieOf(login.headers['set-cookie'], 'kw_session') as string;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).toMatch(/Secure/);
    const session = cookie.split(';')[0] as string;
    const { csrf_token: csrf, user } = login.json();
    expect(user).toMatchObject({ email: 'ops@example.test', role: 'commander', name: 'Olga Ops' });
    expect((await c.call('GET', '/api/v1/me', { headers: { cookie: session } })).json()).toMatchObject({
      type: 'user',
      name: 'Olga Ops',
    });
    const forged = await c.call('POST', '/api/v1/incidents', { headers: { cookie: session }, body: { name: 'Forged' } });
    expect(forged.statusCode).toBe(403);
    expect(forged.json().error.code).toBe('csrf_failed');
    const ok = await c.call('POST', '/api/v1/incidents', {
      headers: { cookie: session, 'x-csrf-token': csrf },
      body: { name: 'From the session' },
    });
    expect(ok.statusCode).toBe(201);
    expect(ok.json().commander).toMatchObject({ name: 'Olga Ops' });
  });

  test('sign-in is rate limited per account and address, and tells nobody whether the email exists', async () => {
    const c = ctx();
    const wrong = await c.call('POST', '/api/v1/session', { body: { email: 'ops@example.test', password: 'nope' } });
    const unknown = await c.call('POST', '/api/v1/session', { body: { email: 'nobody@example.test', password: 'nope' } });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.json().error).toEqual(wrong.json().error);
    for (let i = 0; i < 4; i++)
      await c.call('POST', '/api/v1/session', { body: { email: 'ops@example.test', password: 'nope' } });
    const limited = await c.call('POST', '/api/v1/session', { body: { email: 'ops@example.test', password } });
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    c.clock.advance(15 * MINUTE);
    expect((await c.call('POST', '/api/v1/session', { body: { email: 'ops@example.test', password } })).statusCode).toBe(200);
  });

  test('every state-changing call lands in the append-only audit log with actor, action, target, time and address', async () => {
    const c = ctx();
    const commander = await c.token('commander');
    const inc = (
      await c.call('POST', '/api/v1/incidents', { token: commander, body: { name: 'Audited', message: 'hi' } })
    ).json();
    await c.call('POST', `/api/v1/incidents/${inc.id}/updates`, { token: commander, body: { message: 'more' } });
    const entries = (await c.call('GET', `/api/v1/audit?target_id=${inc.id}`, { token: await c.token('admin') })).json().entries;
    expect(entries.map((e: { action: string }) => e.action)).toEqual(['incident.update', 'incident.declare']);
    expect(entries[1]).toMatchObject({
      actor: { type: 'token', role: 'commander' },
      target: { type: 'incident', id: inc.id },
      ip: '127.0.0.1',
      at: new Date(c.clock.now()).toISOString(),
    });
    const failed = (await c.call('GET', '/api/v1/audit?action=session.login_failed', { token: await c.token('admin') })).json()
      .entries;
    expect(failed.length).toBeGreaterThan(0);
    await expect(sql`update audit_log set action = 'tampered'`.execute(c.db.kysely)).rejects.toThrow(/append-only/);
    await expect(sql`delete from audit_log`.execute(c.db.kysely)).rejects.toThrow(/append-only/);
  });

  test('admins create users; duplicates and weak passwords are refused with the field named', async () => {
    const c = ctx();
    const admin = await c.token('admin');
    const created = await c.call('POST', '/api/v1/users', {
      token: admin,
      body: { email: 'legal@example.test', role: 'legal', password: 'long enough words' },
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ email: 'legal@example.test', role: 'legal', name: 'legal' });
    const dup = await c.call('POST', '/api/v1/users', {
      token: admin,
      body: { email: 'LEGAL@example.test', role: 'legal', password: 'long enough words' },
    });
    expect(dup.statusCode).toBe(409);
    const weak = await c.call('POST', '/api/v1/users', {
      token: admin,
      body: { email: 'x@example.test', role: 'legal', password: 'short' },
    });
    expect(weak.statusCode).toBe(400);
    expect(weak.json().error.details[0]).toMatchObject({ field: 'password' });
  });
});
