import { request } from 'node:http';
import Fastify from 'fastify';
import { beforeAll, describe, expect, test } from 'vitest';
import {
  createTestContext,
  type SessionHeaders,
  signInSession,
  TEST_ACTOR,
  type TestContext,
  useTestContext,
} from '../../../test/harness/context.js';
import { describeEachDialect } from '../../../test/harness/databases.js';
import { Bus } from '../../core/bus.js';
import { fromDbJson } from '../../db/codec.js';
import { timelineEntry } from '../incidents.pages.js';
import { appendEvent } from '../incidents.repo.js';
import { TimelineStreams } from './room.stream.js';

const PASSWORD = 'incident-room-password';

interface SseEvent {
  id: string | undefined;
  event: string;
  data: string;
}

interface Stream {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  events: SseEvent[];
  comments: string[];
  ended: Promise<void>;
  waitFor(predicate: (events: SseEvent[]) => boolean, ms?: number): Promise<SseEvent[]>;
  close(): void;
}

/** A minimal EventSource over node:http: collects events and comments as they arrive. */
function openStream(url: string, headers: Record<string, string> = {}): Promise<Stream> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      let buffer = '';
      let endedResolve: () => void = () => {};
      const waiters = new Set<() => void>();
      const stream: Stream = {
        status: res.statusCode ?? 0,
        headers: res.headers,
        body: '',
        events: [],
        comments: [],
        ended: new Promise((r) => {
          endedResolve = r;
        }),
        waitFor(predicate, ms = 5_000) {
          return new Promise((ok, fail) => {
            const check = () => {
              if (!predicate(stream.events)) return;
              waiters.delete(check);
              clearTimeout(timer);
              ok(stream.events);
            };
            const timer = setTimeout(() => {
              waiters.delete(check);
              fail(new Error(`timed out; got ${JSON.stringify(stream.events.map((e) => e.event))}`));
            }, ms);
            waiters.add(check);
            check();
          });
        },
        close() {
          req.destroy();
        },
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        stream.body += chunk;
        buffer += chunk;
        for (let i = buffer.indexOf('\n\n'); i >= 0; i = buffer.indexOf('\n\n')) {
          const block = buffer.slice(0, i);
          buffer = buffer.slice(i + 2);
          const fields: Record<string, string> = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) stream.comments.push(line.slice(1).trim());
            else {
              const at = line.indexOf(':');
              if (at > 0) fields[line.slice(0, at)] = line.slice(at + 1).replace(/^ /, '');
            }
          }
          if (fields.event || fields.data)
            stream.events.push({ id: fields.id, event: fields.event ?? 'message', data: fields.data ?? '' });
        }
        for (const w of [...waiters]) w();
      });
      res.on('end', () => endedResolve());
      res.on('close', () => endedResolve());
      resolve(stream);
    });
    req.on('error', reject);
    req.end();
  });
}

const timeline = (events: SseEvent[]) => events.filter((e) => e.event === 'timeline').map((e) => JSON.parse(e.data));

async function listen(c: TestContext): Promise<string> {
  await c.app.listen({ port: 0, host: '127.0.0.1' });
  const address = c.app.server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

const signIn = (c: TestContext, email: string) => signInSession(c, email, PASSWORD);

function postForm(c: TestContext, url: string, session: SessionHeaders, form: Record<string, string>) {
  return c.app.inject({
    method: 'POST',
    url,
    headers: { cookie: session.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ ...form, _csrf: session['x-csrf-token'] }).toString(),
  });
}

describeEachDialect('incident room', (dialect) => {
  const ctx = useTestContext(dialect);
  let base = '';
  let incidentId = '';
  const users: Record<string, string> = {};

  beforeAll(async () => {
    const c = ctx();
    for (const [key, name, role] of [
      ['ic', 'Iris Commander', 'commander'],
      ['ic2', 'Omar Ops', 'commander'],
      ['mia', 'Mia Marketing', 'marketing'],
      ['sam', 'Sam Sales', 'sales'],
      ['vic', 'Vic Viewer', 'viewer'],
    ] as const) {
      users[key] = (
        await c.services.auth.createUser(TEST_ACTOR, { email: `${key}@example.test`, name, role, password: PASSWORD })
      ).id;
    }
    const cdn = await c.services.components.create(TEST_ACTOR, { name: 'Showroom CDN', kind: 'cdn' });
    incidentId = (
      await c.services.incidents.declare(TEST_ACTOR, {
        name: 'Product pages not loading',
        commander: users.ic,
        components: [{ id: cdn.id, status: 'major_outage' }],
      })
    ).incident.id;
    base = await listen(c);
  });

  test('the stream needs a console session', async () => {
    const c = ctx();
    const anonymous = await openStream(`${base}/console/incidents/${incidentId}/stream`);
    await anonymous.ended;
    expect(anonymous.status).toBe(401);
    const token = await c.token('commander');
    const api = await openStream(`${base}/console/incidents/${incidentId}/stream`, { authorization: `Bearer ${token}` });
    await api.ended;
    expect(api.status).toBe(403);
    expect(api.body).toContain('session_required');
    const ic = await signIn(c, 'ic@example.test');
    const missing = await openStream(`${base}/console/incidents/no-such-incident/stream`, { cookie: ic.cookie });
    await missing.ended;
    expect(missing.status).toBe(404);
  });

  test('sends the timeline, then each entry as it is written; resumes after Last-Event-ID; closes when the browser leaves', async () => {
    const c = ctx();
    const ic = await signIn(c, 'ic@example.test');
    const url = `${base}/console/incidents/${incidentId}/stream`;
    const first = await openStream(url, { cookie: ic.cookie });
    expect(first.status).toBe(200);
    expect(first.headers['content-type']).toContain('text/event-stream');
    await first.waitFor((events) => timeline(events).some((e) => e.type === 'incident.declared'));
    const declared = timeline(first.events).find((e) => e.type === 'incident.declared');
    expect(declared).toMatchObject({ label: 'Incident declared', actor: 'test', public: false });
    expect(declared.text).toContain('Product pages not loading');

    // A note written through the API (another session) arrives at once, with its id as the SSE id.
    const token = await c.token('commander');
    const posted = await c.call('POST', `/api/v1/incidents/${incidentId}/notes`, {
      token,
      body: { message: 'Vendor says <b>edge nodes</b> in FRA are failing' },
    });
    expect(posted.statusCode).toBeLessThan(300);
    const events = await first.waitFor((evs) => timeline(evs).some((e) => e.type === 'note.added'));
    const note = events.find((e) => e.event === 'timeline' && JSON.parse(e.data).type === 'note.added') as SseEvent;
    expect(JSON.parse(note.data).text).toBe('Vendor says <b>edge nodes</b> in FRA are failing');
    const ids = timeline(first.events).map((e) => e.id);
    expect(ids).toEqual([...ids].sort());
    expect(new Set(ids).size).toBe(ids.length);
    expect(note.id).toBe(ids.at(-1));

    // Reconnect with Last-Event-ID = the declaration: only what came after it.
    const resumed = await openStream(url, { cookie: ic.cookie, 'last-event-id': declared.id });
    await resumed.waitFor((evs) => timeline(evs).some((e) => e.type === 'note.added'));
    expect(timeline(resumed.events).map((e) => e.id)).toEqual(ids.slice(ids.indexOf(declared.id) + 1));
    // …and with the newest id: nothing until something new is written.
    const caughtUp = await openStream(`${url}?last_event_id=${note.id}`, { cookie: ic.cookie });
    await c.services.incidents.addNote(TEST_ACTOR, incidentId, 'Second note');
    await caughtUp.waitFor((evs) => timeline(evs).length > 0);
    expect(timeline(caughtUp.events).map((e) => e.text)).toEqual(['Second note']);

    for (const s of [first, resumed, caughtUp]) {
      s.close();
      await s.ended;
    }
  });

  test('a person may hold only a few streams at once', async () => {
    const c = ctx();
    const mia = await signIn(c, 'mia@example.test');
    const url = `${base}/console/incidents/${incidentId}/stream`;
    const open: Stream[] = [];
    for (let i = 0; i < 5; i++) open.push(await openStream(url, { cookie: mia.cookie }));
    expect(open.map((s) => s.status)).toEqual([200, 200, 200, 200, 200]);
    const sixth = await openStream(url, { cookie: mia.cookie });
    await sixth.ended;
    expect(sixth.status).toBe(429);
    expect(sixth.body).toContain('too_many_streams');
    // Someone else is not affected.
    const sam = await signIn(c, 'sam@example.test');
    const other = await openStream(url, { cookie: sam.cookie });
    expect(other.status).toBe(200);
    other.close();
    // Closing one frees a place.
    open[0]?.close();
    await open[0]?.ended;
    await expect.poll(async () => (await openStream(url, { cookie: mia.cookie })).status).toBe(200);
    for (const s of open) s.close();
  });

  test('roles: assigned by commanders only, to people allowed to do the work; audited; on the timeline and in the room', async () => {
    const c = ctx();
    const ic = await signIn(c, 'ic@example.test');
    const mia = await signIn(c, 'mia@example.test');
    const url = `/console/incidents/${incidentId}/roles`;

    const notAllowed = await postForm(c, url, mia, { role: 'communications', user: users.mia as string });
    expect(notAllowed.statusCode).toBe(403);
    const noCsrf = await c.app.inject({
      method: 'POST',
      url,
      headers: { cookie: ic.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: `role=communications&user=${users.mia}`,
    });
    expect(noCsrf.statusCode).toBe(403);

    const badRole = await postForm(c, url, ic, { role: 'janitor', user: users.mia as string });
    expect(badRole.statusCode).toBe(400);
    expect(badRole.body).toContain('role must be one of commander, communications, sales');
    const viewerAsSales = await postForm(c, url, ic, { role: 'sales', user: users.vic as string });
    expect(viewerAsSales.statusCode).toBe(422);
    expect(viewerAsSales.body).toContain('vic@example.test has role viewer');
    const noCommander = await postForm(c, url, ic, { role: 'commander', user: '' });
    expect(noCommander.statusCode).toBe(422);

    for (const [role, user] of [
      ['communications', users.mia],
      ['sales', users.sam],
      ['commander', users.ic2],
    ] as const) {
      const res = await postForm(c, url, ic, { role, user: user as string });
      expect(res.statusCode).toBe(303);
      expect(res.headers.location).toBe(`/console/incidents/${incidentId}?done=role#roles`);
    }
    const incident = await c.services.incidents.get(incidentId);
    expect(incident.commander?.id).toBe(users.ic2);

    const audit = await c.db.kysely
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'incident.role_assign')
      .orderBy('at')
      .execute();
    expect(audit.map((a) => [a.actor_id, a.target_id, fromDbJson<{ role?: string }>(a.details, {}).role])).toEqual([
      [users.ic, incidentId, 'communications'],
      [users.ic, incidentId, 'sales'],
      [users.ic, incidentId, 'commander'],
    ]);
    const entries = (await c.services.incidents.timeline(incidentId)).filter((e) => e.type === 'incident.role_assigned');
    expect(entries.map((e) => e.data.summary)).toEqual([
      'Communications lead: Mia Marketing (was nobody)',
      'Sales lead: Sam Sales (was nobody)',
      'Incident commander: Omar Ops (was Iris Commander)',
    ]);
    expect(entries.every((e) => !e.public)).toBe(true);

    const page = await c.app.inject({ method: 'GET', url: `/console/incidents/${incidentId}`, headers: { cookie: ic.cookie } });
    expect(page.statusCode).toBe(200);
    expect(page.body).toMatch(/data-role="communications">Mia Marketing \(mia@example\.test\)/);
    expect(page.body).toMatch(/data-role="sales">Sam Sales/);
    expect(page.body).toMatch(/data-role="commander">Omar Ops/);

    // Clearing a lead.
    expect((await postForm(c, url, ic, { role: 'sales', user: '' })).statusCode).toBe(303);
    const after = await c.app.inject({ method: 'GET', url: `/console/incidents/${incidentId}`, headers: { cookie: ic.cookie } });
    expect(after.body).toMatch(/data-role="sales"><span class="muted">nobody yet/);
  });

  test('checklist: completing an item from the room records who and when; twice is refused; viewers cannot', async () => {
    const c = ctx();
    const sam = await signIn(c, 'sam@example.test');
    const vic = await signIn(c, 'vic@example.test');
    const url = `/console/incidents/${incidentId}/checklist/call-tier-a`;
    expect((await postForm(c, url, vic, {})).statusCode).toBe(403);
    const done = await postForm(c, url, sam, {});
    expect(done.statusCode).toBe(303);
    expect(done.headers.location).toBe(`/console/incidents/${incidentId}?done=checklist#checklist`);
    const token = await c.token('viewer');
    const list = (await c.call('GET', `/api/v1/incidents/${incidentId}/checklist`, { token })).json();
    const item = list.items.find((i: { id: string }) => i.id === 'call-tier-a');
    expect(item).toMatchObject({ state: 'done', done_by: { type: 'user', id: users.sam, name: 'Sam Sales' } });
    const again = await postForm(c, url, sam, {});
    expect(again.statusCode).toBe(409);
    expect(again.body).toContain('already done by Sam Sales');
    const unknown = await postForm(c, `/console/incidents/${incidentId}/checklist/no-such-item`, sam, {});
    expect(unknown.statusCode).toBe(422);

    const page = await c.app.inject({ method: 'GET', url: `/console/incidents/${incidentId}`, headers: { cookie: sam.cookie } });
    expect(page.body).toMatch(/data-item="call-tier-a"[\s\S]*?Sam Sales/);
    // Sales may complete items but not assign roles: no role forms for them.
    expect(page.body).not.toContain('name="role"');
    expect(page.body).toContain('aria-label="Mark done: Send the email and SMS templates to the high-intent segments"');
  });

  test('the room shows delivery figures, tier queues and the fallback state', async () => {
    const c = ctx();
    const ic = await signIn(c, 'ic@example.test');
    const page = await c.app.inject({ method: 'GET', url: `/console/incidents/${incidentId}`, headers: { cookie: ic.cookie } });
    const body = page.body;
    for (const id of ['facts', 'roles', 'checklist', 'composer', 'timeline', 'tiers', 'delivery', 'health', 'fallback']) {
      expect(body).toContain(`href="#${id}"`);
      expect(body).toContain(`id="${id}"`);
    }
    expect(body).toContain('data-stream="/console/incidents/');
    expect(body).toMatch(/data-flag="showroom\.configurator"/);
    expect(body).toContain('Showroom CDN');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
  });
});

describe('live timeline streams', () => {
  test('heartbeats, entries written by another process (no bus notice), and shutdown', async () => {
    const c = await createTestContext('sqlite');
    const app = Fastify();
    try {
      const incidentId = (await c.services.incidents.declare(TEST_ACTOR, { name: 'Checkout down' })).incident.id;
      const streams = new TimelineStreams({
        db: c.db,
        bus: new Bus(), // a bus nobody writes to: only the database poll can notice
        toData: timelineEntry,
        options: { heartbeatMs: 50, pollMs: 50 },
      });
      app.get('/s', (_req, reply) => streams.serve(reply, TEST_ACTOR, incidentId, null));
      await app.listen({ port: 0, host: '127.0.0.1' });
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      const s = await openStream(`http://127.0.0.1:${port}/s`);
      await s.waitFor((evs) => timeline(evs).length === 1);
      await expect.poll(() => s.comments.filter((x) => x.startsWith('heartbeat')).length).toBeGreaterThan(1);
      await appendEvent(c.db.kysely, {
        incidentId,
        at: c.clock.now(),
        type: 'note.added',
        actor: TEST_ACTOR,
        public: false,
        data: { message: 'from another process' },
      });
      await s.waitFor((evs) => timeline(evs).some((e) => e.text === 'from another process'));
      expect(streams.size).toBe(1);
      streams.closeAll();
      await s.ended;
      expect(s.events.at(-1)?.event).toBe('bye');
      expect(streams.size).toBe(0);
    } finally {
      await app.close();
      await c.close();
    }
  });

  test('closing the app ends open streams instead of hanging', async () => {
    const c = await createTestContext('sqlite');
    let closed = false;
    try {
      await c.services.auth.createUser(TEST_ACTOR, {
        email: 'ic@example.test',
        name: 'Iris',
        role: 'commander',
        password: PASSWORD,
      });
      const incidentId = (await c.services.incidents.declare(TEST_ACTOR, { name: 'Search down' })).incident.id;
      const base = await listen(c);
      const ic = await signIn(c, 'ic@example.test');
      const s = await openStream(`${base}/console/incidents/${incidentId}/stream`, { cookie: ic.cookie });
      await s.waitFor((evs) => timeline(evs).length === 1);
      await c.close();
      closed = true;
      await s.ended;
      expect(s.events.at(-1)?.event).toBe('bye');
    } finally {
      if (!closed) await c.close();
    }
  });
});
