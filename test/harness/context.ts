import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll } from 'vitest';
import type { Actor } from '../../src/app/actor.js';
import { buildApp } from '../../src/app/build-app.js';
import { createWorker } from '../../src/app/jobs.js';
import type { Role } from '../../src/app/roles.js';
import type { Services } from '../../src/app/services.js';
import { type Config, loadConfig } from '../../src/config/config.js';
import { FakeClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/core/log.js';
import type { Database, Dialect } from '../../src/db/database.js';
import type { JobWorker } from '../../src/db/jobs/worker.js';
import { createScratchDatabase, openMigrated, type ScratchDatabase } from './databases.js';

export const TEST_ACTOR: Actor = { type: 'system', id: null, name: 'test', role: 'admin', ip: '127.0.0.1' };

export interface TestContext {
  dialect: Dialect;
  scratch: ScratchDatabase;
  db: Database;
  clock: FakeClock;
  config: Config;
  services: Services;
  app: FastifyInstance;
  worker: JobWorker;
  /** An API token for a role (created once per role). */
  token(role: Role): Promise<string>;
  /** JSON request through the app (no network), with an optional bearer token. */
  call(
    method: string,
    url: string,
    options?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export async function createTestContext(
  dialect: Dialect,
  options: { config?: Record<string, unknown>; clock?: FakeClock } = {},
): Promise<TestContext> {
  const scratch = await createScratchDatabase(dialect);
  const db = await openMigrated(scratch);
  const clock = options.clock ?? new FakeClock();
  const config = loadConfig({
    env: {},
    cwd: scratch.dir,
    overrides: { dataDir: scratch.dir, databaseUrl: scratch.url, publicUrl: 'https://status.example.test', ...options.config },
  });
  const built = await buildApp({ config, db, clock, log: silentLogger });
  const worker = createWorker(built.services, { workerId: 'test-worker' });
  const tokens = new Map<Role, string>();
  const ctx: TestContext = {
    dialect,
    scratch,
    db,
    clock,
    config,
    services: built.services,
    app: built.app,
    worker,
    async token(role) {
      const existing = tokens.get(role);
      if (existing) return existing;
      const { token } = await built.services.auth.createToken(TEST_ACTOR, { name: `test ${role}`, role });
      tokens.set(role, token);
      return token;
    },
    call(method, url, opts = {}) {
      const headers: Record<string, string> = { ...opts.headers };
      if (opts.token) headers.authorization = `Bearer ${opts.token}`;
      return built.app.inject({
        method: method as 'GET',
        url,
        headers,
        ...(opts.body !== undefined && { payload: opts.body as object }),
      });
    },
    async close() {
      await built.app.close();
      await db.close();
      await scratch.drop();
    },
  };
  return ctx;
}

/** beforeAll/afterAll wiring: returns a getter for the suite's context. */
export function useTestContext(dialect: Dialect, options: Parameters<typeof createTestContext>[1] = {}): () => TestContext {
  let ctx: TestContext | undefined;
  beforeAll(async () => {
    ctx = await createTestContext(dialect, options);
  });
  afterAll(async () => {
    await ctx?.close();
  });
  return () => {
    if (!ctx) throw new Error('test context not ready');
    return ctx;
  };
}

/** A console session signed in through the API: the cookie and CSRF header a state-changing request needs. */
export interface SessionHeaders extends Record<string, string> {
  cookie: string;
  'x-csrf-token': string;
}

export async function signInSession(c: TestContext, email: string, password: string): Promise<SessionHeaders> {
  const login = await c.call('POST', '/api/v1/session', { body: { email, password } });
  if (login.statusCode !== 200) throw new Error(`sign-in as ${email}: HTTP ${login.statusCode} ${login.body}`);
  const raw = login.headers['set-cookie'];
  const cookie = (Array.isArray(raw) ? raw : [raw]).find((v) => v?.startsWith('kw_session='));
  if (!cookie) throw new Error(`sign-in as ${email}: no session cookie`);
  return { cookie: cookie.split(';')[0] as string, 'x-csrf-token': login.json().csrf_token };
}
