import { beforeAll, expect, test } from 'vitest';
import { TEST_ACTOR, type TestContext, useTestContext } from '../../test/harness/context.js';
import { describeEachDialect } from '../../test/harness/databases.js';
import { HOUR, MINUTE } from '../core/clock.js';

async function seed(c: TestContext): Promise<{ admin: string; ann: string; bob: string }> {
  const admin = await c.token('admin');
  const csv = 'Email,First Name,cart_value\nann@events.example,Ann,100\nbob@events.example,Bob,\n';
  const res = await c.call('POST', '/api/v1/leads/import', { token: admin, body: csv, headers: { 'content-type': 'text/csv' } });
  expect(res.json()).toMatchObject({ created: 2 });
  const leads = (await c.call('GET', '/api/v1/leads?limit=500', { token: admin })).json().leads as Array<{
    id: string;
    email: string;
  }>;
  const id = (email: string) => leads.find((l) => l.email === email)?.id ?? '';
  return { admin, ann: id('ann@events.example'), bob: id('bob@events.example') };
}

describeEachDialect('intent events', (dialect) => {
  const ctx = useTestContext(dialect);
  let ids: Awaited<ReturnType<typeof seed>>;
  beforeAll(async () => {
    ids = await seed(ctx());
  });

  const post = (events: unknown[], token: string) => ctx().call('POST', '/api/v1/events', { token, body: { events } });

  test('a batch is matched by leadId or email, deduplicated by messageId, and folded into the lead', async () => {
    const c = ctx();
    const token = await c.token('marketing');
    const viewedAt = new Date(c.clock.now() - 2 * HOUR).toISOString();
    const cartAt = new Date(c.clock.now() - 1 * HOUR).toISOString();
    const res = await post(
      [
        { messageId: 'm-1', type: 'product_viewed', email: 'ANN@events.example', product: 'Chiller X200', at: viewedAt },
        { messageId: 'm-2', type: 'cart_updated', leadId: ids.ann, value: 18_500, at: cartAt },
        { messageId: 'm-2', type: 'cart_updated', leadId: ids.ann, value: 18_500, at: cartAt },
        { messageId: 'm-3', type: 'product_viewed', anonymousId: 'anon-77', product: 'Pump P1' },
        { messageId: 'm-4', type: 'form_submitted', email: 'stranger@nowhere.example' },
      ],
      token,
    );
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ accepted: 4, duplicates: 1, unmatched: 2, errors: [] });
    // The SDK retries the whole batch: everything is a duplicate, nothing changes.
    const again = await post([{ messageId: 'm-1', type: 'product_viewed', email: 'ann@events.example', at: viewedAt }], token);
    expect(again.json()).toEqual({ accepted: 0, duplicates: 1, unmatched: 0, errors: [] });
    const ann = (await c.call('GET', `/api/v1/leads/${ids.ann}`, { token: ids.admin })).json();
    expect(ann).toMatchObject({ cart_value: 18_500, last_activity_at: cartAt, counts: { events: 2 } });
    expect(ann.intent_events.map((e: { type: string; product: string | null }) => [e.type, e.product])).toEqual([
      ['cart_updated', null],
      ['product_viewed', 'Chiller X200'],
    ]);
  });

  test('demo_booked sets the scheduled demo; during an outage it marks the lead re-engaged, first time only', async () => {
    const c = ctx();
    const token = await c.token('admin');
    const demoAt = new Date(c.clock.now() + 26 * HOUR).toISOString();
    await c.db.kysely.updateTable('leads').set({ outage_status: 'active' }).where('id', '=', ids.bob).execute();
    const bookedAt = c.clock.now();
    expect(
      (
        await post([{ messageId: 'd-1', type: 'demo_booked', leadId: ids.bob, properties: { scheduled_at: demoAt } }], token)
      ).json(),
    ).toMatchObject({ accepted: 1 });
    c.clock.advance(30 * MINUTE);
    await post([{ messageId: 'd-2', type: 'demo_booked', leadId: ids.bob }], token);
    const bob = (await c.call('GET', `/api/v1/leads/${ids.bob}`, { token })).json();
    expect(bob.demo_scheduled_at).toBe(demoAt);
    expect(bob.re_engaged_at).toBe(new Date(bookedAt).toISOString());
    // Ann is not in an outage: booking does not mark her re-engaged.
    await post([{ messageId: 'd-3', type: 'demo_booked', leadId: ids.ann }], token);
    expect((await c.call('GET', `/api/v1/leads/${ids.ann}`, { token })).json().re_engaged_at).toBeNull();
  });

  test('bad events are listed by index and field; the good ones in the batch are kept; bad batches are a 400', async () => {
    const c = ctx();
    const token = await c.token('marketing');
    const res = await post(
      [
        { messageId: 'e-1', type: 'product_viewed', email: 'ann@events.example' },
        { messageId: 'e-2', type: 'page_scrolled', email: 'ann@events.example' },
        { messageId: 'e-3', type: 'product_viewed', email: 'not-an-email' },
        { messageId: 'e-4', type: 'cart_updated', email: 'ann@events.example' },
        { type: 'product_viewed', email: 'ann@events.example' },
        { messageId: 'e-6', type: 'product_viewed' },
        'nonsense',
      ],
      token,
    );
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.accepted).toBe(1);
    expect(body.errors.map((e: { index: number; field: string }) => [e.index, e.field])).toEqual([
      [1, 'type'],
      [2, 'email'],
      [3, 'value'],
      [4, 'messageId'],
      [5, 'email'],
      [6, '(root)'],
    ]);
    const tooMany = Array.from({ length: 501 }, (_, i) => ({ messageId: `x${i}`, type: 'product_viewed', anonymousId: 'a' }));
    const big = await post(tooMany, token);
    expect(big.statusCode).toBe(400);
    expect(big.json().error.details[0]).toMatchObject({ field: 'events' });
    expect((await c.call('POST', '/api/v1/events', { token, body: { events: [] } })).statusCode).toBe(400);
    expect((await post([{ messageId: 'z', type: 'product_viewed', anonymousId: 'a' }], await c.token('sales'))).statusCode).toBe(
      403,
    );
    expect((await c.call('POST', '/api/v1/events', { body: { events: [] } })).statusCode).toBe(401);
  });
});

const SITE_KEY = 'pk_showroom_0123456789abcdef';
const SHOWROOM = 'https://showroom.example.test';

describeEachDialect('intent events: dedupe under concurrency, incident attribution, the browser path', (dialect) => {
  const ctx = useTestContext(dialect, {
    config: {
      'crm.events': {
        sites: [{ name: 'acme', key: SITE_KEY, origins: [SHOWROOM] }],
        perClientPerMinute: 40,
      },
    },
  });
  let admin: string;
  let marketing: string;
  beforeAll(async () => {
    admin = await ctx().token('admin');
    marketing = await ctx().token('marketing');
  });

  const post = (events: unknown[], extra: Record<string, unknown> = {}) =>
    ctx().call('POST', '/api/v1/events', { token: marketing, body: { events, ...extra } });
  const browser = (body: unknown, headers: Record<string, string> = {}, key: string | null = SITE_KEY) =>
    ctx().app.inject({
      method: 'POST',
      url: `/api/v1/events/browser${key === null ? '' : `?key=${encodeURIComponent(key)}`}`,
      headers: { 'content-type': 'text/plain;charset=UTF-8', origin: SHOWROOM, ...headers },
      payload: typeof body === 'string' ? body : JSON.stringify(body),
    });
  const stored = async (prefix: string) =>
    (
      await ctx()
        .db.kysely.selectFrom('intent_events')
        .select(['message_id', 'incident_id', 'incident_drill', 'source', 'at'])
        .where('message_id', 'like', `${prefix}%`)
        .orderBy('message_id')
        .execute()
    ).map((r) => ({ ...r, at: Number(r.at) }));
  const declare = async (body: Record<string, unknown>) => {
    const res = await ctx().call('POST', '/api/v1/incidents', { token: admin, body: { impact: 'major', ...body } });
    expect(res.statusCode).toBe(201);
    return res.json().id as string;
  };
  // Straight to the incident service: the resolution is what matters here, not its broadcast.
  const resolve = (id: string) => ctx().services.incidents.postUpdate(TEST_ACTOR, id, { status: 'resolved', message: 'Back.' });

  test('concurrent posts of overlapping batches store every messageId exactly once', async () => {
    const pool = Array.from({ length: 120 }, (_, i) => ({
      messageId: `c-${String(i).padStart(3, '0')}`,
      type: 'product_viewed',
      anonymousId: `anon-${i % 7}`,
    }));
    // Eight posts at once, each a different (reversed, shifted) slice of the pool, retries included.
    const batches = Array.from({ length: 8 }, (_, k) => {
      const slice = pool.slice((k * 15) % 60, ((k * 15) % 60) + 60);
      return k % 2 === 0 ? slice : [...slice].reverse();
    });
    batches.push(pool.slice(0, 60), pool.slice(60));
    const answers = (await Promise.all(batches.map((b) => post(b)))).map((r) => {
      expect(r.statusCode).toBe(200);
      return r.json() as { accepted: number; duplicates: number };
    });
    const accepted = answers.reduce((n, a) => n + a.accepted, 0);
    const seen = answers.reduce((n, a) => n + a.accepted + a.duplicates, 0);
    expect(accepted).toBe(120);
    expect(seen).toBe(batches.reduce((n, b) => n + b.length, 0));
    expect(await stored('c-')).toHaveLength(120);
    // And once more, all of it: nothing new.
    expect((await post(pool.slice(0, 100))).json()).toMatchObject({ accepted: 0, duplicates: 100 });
  });

  test('events are attributed to the incident whose window covers their time; drills are marked; real beats drill', async () => {
    const c = ctx();
    const t0 = c.clock.advance(10 * HOUR);
    // A real outage from t0 - 3h to t0 - 1h (declared late, resolved at t0 - 1h), and a drill from t0 - 2h, still open.
    c.clock.set(t0 - 2 * HOUR - 30 * MINUTE);
    const real = await declare({ name: 'CDN outage', started_at: new Date(t0 - 3 * HOUR).toISOString() });
    c.clock.set(t0 - 2 * HOUR);
    const drill = await declare({ name: 'Quarterly drill', drill: true });
    c.clock.set(t0 - 1 * HOUR);
    await resolve(real);
    c.clock.set(t0);
    const at = (ms: number) => new Date(t0 - ms).toISOString();
    const res = await post([
      { messageId: 'a-before', type: 'product_viewed', anonymousId: 'v', at: at(4 * HOUR) },
      { messageId: 'a-real', type: 'product_viewed', anonymousId: 'v', at: at(2 * HOUR + 45 * MINUTE) },
      { messageId: 'a-both', type: 'cart_updated', value: 900, email: 'ann@events.example', at: at(90 * MINUTE) },
      { messageId: 'a-drill', type: 'product_viewed', anonymousId: 'v', at: at(30 * MINUTE) },
    ]);
    expect(res.json()).toMatchObject({ accepted: 4, errors: [] });
    expect(
      (await stored('a-')).map((r) => [r.message_id, r.incident_id, r.incident_id ? Boolean(r.incident_drill) : null]),
    ).toEqual([
      ['a-before', null, null],
      ['a-both', real, false],
      ['a-drill', drill, true],
      ['a-real', real, false],
    ]);

    // The API lists them with the incident, and filters by it.
    const listed = (await c.call('GET', `/api/v1/events?incident=${real}`, { token: admin })).json();
    expect(listed.events.map((e: { message_id: string }) => e.message_id).sort()).toEqual(['a-both', 'a-real']);
    expect(listed.events[0].incident).toEqual({ id: real, name: 'CDN outage', drill: false });
    const drilled = (await c.call('GET', `/api/v1/events?incident=${drill}`, { token: admin })).json();
    expect(
      drilled.events.map((e: { message_id: string; incident: { drill: boolean } }) => [e.message_id, e.incident.drill]),
    ).toEqual([['a-drill', true]]);
    const outside = (await c.call('GET', '/api/v1/events?attributed=no&limit=500', { token: admin })).json();
    expect(outside.events.map((e: { message_id: string }) => e.message_id)).toContain('a-before');
    expect(outside.events.every((e: { incident: unknown }) => e.incident === null)).toBe(true);
    const bad = await c.call('GET', '/api/v1/events?type=page_scrolled', { token: admin });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details[0]).toMatchObject({ field: 'type' });

    // The console shows the count per incident and how many arrived after it ended.
    const page = await c.app.inject({
      method: 'GET',
      url: `/console/events?incident=${real}`,
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Events during CDN outage');
    expect(page.body).toMatch(
      new RegExp(`data-incident="${real}"[\\s\\S]*?data-count="events">2<[\\s\\S]*?data-count="delivered-after">2<`),
    );
    expect(page.body).toContain('Quarterly drill');
    await resolve(drill);
  });

  test('a declaration attributes the events already stored inside its window (the outage began before anyone declared it)', async () => {
    const c = ctx();
    c.clock.advance(HOUR);
    const start = c.clock.now();
    c.clock.advance(10 * MINUTE);
    await post([
      { messageId: 'b-early', type: 'product_viewed', anonymousId: 'v', at: new Date(start - MINUTE).toISOString() },
      { messageId: 'b-in', type: 'form_submitted', anonymousId: 'v', at: new Date(start + 5 * MINUTE).toISOString() },
    ]);
    expect((await stored('b-')).map((r) => r.incident_id)).toEqual([null, null]);
    const late = await declare({ name: 'API errors', started_at: new Date(start).toISOString() });
    expect((await stored('b-')).map((r) => [r.message_id, r.incident_id])).toEqual([
      ['b-early', null],
      ['b-in', late],
    ]);
    // Events during the open incident are attributed on arrival.
    c.clock.advance(MINUTE);
    await post([{ messageId: 'b-during', type: 'product_viewed', anonymousId: 'v' }]);
    expect((await stored('b-during'))[0]?.incident_id).toBe(late);
    await resolve(late);
  });

  test('the browser path: a public site key, its origins only, CORS, skewed clocks corrected, size caps', async () => {
    const c = ctx();
    const ok = await browser({
      events: [{ messageId: 's-1', type: 'product_viewed', anonymousId: 'anon-s', product: 'Pump P1' }],
      sentAt: new Date(c.clock.now()).toISOString(),
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ accepted: 1, duplicates: 0, unmatched: 1, errors: [] });
    expect(ok.headers['access-control-allow-origin']).toBe(SHOWROOM);
    expect(ok.headers.vary).toContain('Origin');
    expect((await stored('s-1'))[0]?.source).toBe('site:acme');
    // Again (a retry after a lost answer): a duplicate.
    expect(
      (await browser({ events: [{ messageId: 's-1', type: 'product_viewed', anonymousId: 'anon-s' }] })).json(),
    ).toMatchObject({
      accepted: 0,
      duplicates: 1,
    });

    // A device clock 2 hours behind: its times are moved by the difference.
    const deviceNow = c.clock.now() - 2 * HOUR;
    await browser({
      events: [
        { messageId: 's-skew', type: 'product_viewed', anonymousId: 'anon-s', at: new Date(deviceNow - MINUTE).toISOString() },
      ],
      sentAt: new Date(deviceNow).toISOString(),
    });
    expect((await stored('s-skew'))[0]?.at).toBe(c.clock.now() - MINUTE);

    const wrongOrigin = await browser(
      { events: [{ messageId: 's-2', type: 'product_viewed', anonymousId: 'a' }] },
      { origin: 'https://evil.example' },
    );
    expect(wrongOrigin.statusCode).toBe(403);
    expect(wrongOrigin.json().error.code).toBe('origin_not_allowed');
    expect(wrongOrigin.headers['access-control-allow-origin']).toBeUndefined();
    expect(
      (
        await browser(
          { events: [{ messageId: 's-3', type: 'product_viewed', anonymousId: 'a' }] },
          {},
          'pk_nobody_0123456789abcdef',
        )
      ).json().error.code,
    ).toBe('unknown_site_key');
    const noKey = await browser({ events: [] }, {}, null);
    expect(noKey.statusCode).toBe(401);
    expect(noKey.json().error).toMatchObject({ code: 'site_key_missing', details: { field: 'key' } });
    // A secret API token is not needed, and a site key is no API token.
    expect((await c.call('POST', '/api/v1/events', { token: SITE_KEY, body: { events: [] } })).statusCode).toBe(401);

    const preflight = await c.app.inject({
      method: 'OPTIONS',
      url: `/api/v1/events/browser?key=${SITE_KEY}`,
      headers: { origin: SHOWROOM, 'access-control-request-method': 'POST' },
    });
    expect(preflight.statusCode).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(SHOWROOM);

    const huge = await browser({
      events: [{ messageId: 's-big', type: 'product_viewed', anonymousId: 'a', properties: { blob: 'x'.repeat(70 * 1024) } }],
    });
    expect(huge.statusCode).toBe(413);
    const tooMany = await browser({
      events: Array.from({ length: 101 }, (_, i) => ({ messageId: `s-m${i}`, type: 'product_viewed', anonymousId: 'a' })),
    });
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json().error.details[0]).toMatchObject({ field: 'events' });
    const notJson = await browser('{"events": [');
    expect(notJson.statusCode).toBe(400);
    expect(notJson.json().error.code).toBe('malformed_json');
    expect(await stored('s-')).toHaveLength(2);
  });

  test('the browser path is rate limited per client address; the limit refills over the minute', async () => {
    const c = ctx();
    let limited: Awaited<ReturnType<typeof browser>> | null = null;
    for (let i = 0; i < 60 && !limited; i++) {
      const res = await browser({ events: [{ messageId: `r-${i}`, type: 'product_viewed', anonymousId: 'a' }] });
      if (res.statusCode === 429) limited = res;
      else expect(res.statusCode).toBe(200);
    }
    expect(limited?.headers['retry-after']).toBeDefined();
    expect(limited?.headers['access-control-allow-origin']).toBe(SHOWROOM);
    c.clock.advance(MINUTE);
    expect((await browser({ events: [{ messageId: 'r-after', type: 'product_viewed', anonymousId: 'a' }] })).statusCode).toBe(
      200,
    );
  });
});
