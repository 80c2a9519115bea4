import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import { createTestContext, TEST_ACTOR, type TestContext } from '../../../test/harness/context.js';
import { describeEachDialect } from '../../../test/harness/databases.js';
import { type HttpStandin, startHttpStandin } from '../../../test/harness/http-standin.js';
import { type SmtpSink, startSmtpSink } from '../../../test/harness/smtp-sink.js';
import { startTwilioStandin, type TwilioStandin } from '../../../test/harness/twilio-standin.js';
import { newId } from '../../core/ids.js';
import type { Component } from '../../incidents/components.repo.js';
import { seedDefaultTemplates } from '../../messaging/default-templates.js';
import { listMessages } from '../../messaging/messages.repo.js';
import { verifyWebhook } from '../../messaging/providers/webhook.js';
import * as repo from './subscribers.repo.js';
import { EMAIL_UPDATE_TEMPLATE } from './subscribers.service.js';

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describeEachDialect('status subscribers', (dialect) => {
  let c: TestContext;
  let smtp: SmtpSink;
  let twilio: TwilioStandin;
  let hooks: HttpStandin;
  let cdn: Component;
  let api: Component;

  beforeAll(async () => {
    [smtp, twilio, hooks] = await Promise.all([startSmtpSink(), startTwilioStandin(), startHttpStandin()]);
    const t = twilio.config();
    c = await createTestContext(dialect, {
      config: {
        'smtp.url': smtp.url,
        'messaging.from': 'Northwind Status <status@northwind.example>',
        'messaging.variables': { company: 'Northwind' },
        'twilio.accountSid': t.accountSid,
        'twilio.authToken': t.authToken,
        'twilio.baseUrl': t.baseUrl,
        'twilio.from': t.from,
      },
    });
    await seedDefaultTemplates(c.db, c.clock, { approve: true });
    cdn = await c.services.components.create(TEST_ACTOR, { name: 'Showroom CDN', kind: 'cdn' });
    api = await c.services.components.create(TEST_ACTOR, { name: 'Product API', kind: 'api' });
  }, 60_000);

  afterAll(async () => {
    await Promise.all([smtp?.stop(), twilio?.close(), hooks?.close()]);
    await c?.close();
  });

  beforeEach(async () => {
    await smtp.reset();
    hooks.clear();
  });

  const pump = async () => {
    await c.worker.pump();
    await c.worker.pump();
  };
  const form = (fields: Record<string, string | string[]>) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(fields)) for (const one of [v].flat()) params.append(k, one);
    return params.toString();
  };
  const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
    c.app.inject({ method: 'POST', url, payload: body as string, headers });
  const subscriberOf = async (channel: 'email' | 'sms' | 'webhook', address: string) =>
    repo.findByAddress(c.db.kysely, channel, address);

  test('email: double opt-in, the update arrives with a working one-click unsubscribe, then nothing more', async () => {
    const res = await post(
      '/status/subscribe',
      form({ channel: 'email', address: 'Buyer@Example.test', components: 'all' }),
      FORM,
    );
    expect(res.statusCode).toBe(202);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.body).toContain('confirmation link is on its way');
    await pump();
    const [confirmMail] = await smtp.parsed();
    expect(confirmMail?.to).toEqual(['buyer@example.test']);
    const link = /https:\/\/status\.example\.test(\/status\/subscribe\/confirm\?token=[\w-]+)/.exec(confirmMail?.html ?? '')?.[1];
    expect(link).toBeDefined();

    // Opening the link (what mail scanners do) shows a button and confirms nothing.
    const page = await c.app.inject({ method: 'GET', url: link as string });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<form method="post" action="/status/subscribe/confirm">');
    expect((await subscriberOf('email', 'buyer@example.test'))?.state).toBe('pending');

    const token = new URL(link as string, 'https://x').searchParams.get('token') ?? '';
    const confirmed = await post('/status/subscribe/confirm', form({ token }), FORM);
    expect(confirmed.statusCode).toBe(200);
    expect(confirmed.body).toContain('You are subscribed');
    expect((await subscriberOf('email', 'buyer@example.test'))?.state).toBe('confirmed');
    // The link is used up.
    expect((await post('/status/subscribe/confirm', form({ token }), FORM)).statusCode).toBe(400);

    await smtp.reset();
    const incident = await c.services.incidents.declare(TEST_ACTOR, {
      name: 'Product pages <slow>',
      message: 'Pages load slowly; we are moving traffic to the backup CDN.',
      components: [{ id: cdn.id, status: 'degraded_performance' }],
    });
    await pump();
    const [updateMail] = await smtp.parsed();
    expect(updateMail?.to).toEqual(['buyer@example.test']);
    expect(updateMail?.subject).toBe('[Northwind status] Product pages <slow>: investigating');
    expect(updateMail?.html).toContain('Product pages &lt;slow&gt;');
    expect(updateMail?.html).toContain('Showroom CDN');
    expect(updateMail?.html).toContain('https://status.example.test/status');
    expect(updateMail?.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');
    const unsubscribe = /<https:\/\/status\.example\.test(\/u\/[^>]+)>/.exec(updateMail?.headers['list-unsubscribe'] ?? '')?.[1];
    expect(unsubscribe).toBeDefined();
    const oneClick = await post(unsubscribe as string, 'List-Unsubscribe=One-Click', FORM);
    expect(oneClick.statusCode).toBe(200);

    await smtp.reset();
    await c.services.incidents.postUpdate(TEST_ACTOR, incident.incident.id, { status: 'identified', message: 'Cause found.' });
    await pump();
    expect(await smtp.count()).toBe(0);
    expect((await subscriberOf('email', 'buyer@example.test'))?.state).toBe('unsubscribed');
  }, 30_000);

  test('SMS: a code by text; five wrong codes lock it; a new code confirms', async () => {
    const phone = '+1 (415) 555-0123';
    const subscribe = () => c.call('POST', '/api/v1/subscribers', { body: { channel: 'sms', address: phone } });
    expect((await subscribe()).statusCode).toBe(202);
    await pump();
    const codeOf = () => /code is (\d{6})/.exec(twilio.messages.at(-1)?.resource.body ?? '')?.[1] ?? '';
    const first = codeOf();
    expect(first).toMatch(/^\d{6}$/);
    expect(twilio.messages.at(-1)?.resource.to).toBe('+14155550123');
    const wrong = first === '000000' ? '111111' : '000000';
    const tries: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await c.call('POST', '/status/subscribe/sms', { body: { phone, code: wrong } });
      tries.push(`${res.statusCode} ${res.json().error.code}`);
    }
    expect(tries).toEqual(['400 code_wrong', '400 code_wrong', '400 code_wrong', '400 code_wrong', '400 code_locked']);
    // Locked: even the right code no longer works.
    expect((await c.call('POST', '/status/subscribe/sms', { body: { phone, code: first } })).statusCode).toBe(400);
    expect((await subscriberOf('sms', '+14155550123'))?.state).toBe('pending');

    expect((await subscribe()).statusCode).toBe(202);
    c.clock.advance(2_000); // one text per second per sender number
    await pump();
    expect(twilio.messages).toHaveLength(2);
    const second = codeOf();
    const ok = await post('/status/subscribe/sms', form({ phone, code: second }), FORM);
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain('You are subscribed');
    expect((await subscriberOf('sms', '+14155550123'))?.state).toBe('confirmed');
  }, 30_000);

  test('webhook: a signed confirmation ping, then signed Statuspage-like updates until unsubscribed', async () => {
    const url = `${hooks.url}/status-hook`;
    expect(
      (await c.call('POST', '/api/v1/subscribers', { body: { channel: 'webhook', address: url, components: [api.id] } }))
        .statusCode,
    ).toBe(202);
    await pump();
    const [ping] = hooks.requests;
    const pingBody = ping?.json() as { type: string; data: { secret: string; unsubscribe: string } };
    expect(pingBody.type).toBe('subscription.confirm');
    const verify = (r: typeof ping) =>
      verifyWebhook({
        id: r?.headers['webhook-id'] as string,
        timestamp: r?.headers['webhook-timestamp'] as string,
        signature: r?.headers['webhook-signature'] as string,
        body: r?.body ?? '',
        secret: pingBody.data.secret,
        now: c.clock.now(),
      });
    expect(verify(ping)).toBe(true);
    expect((await subscriberOf('webhook', url))?.state).toBe('confirmed');

    hooks.clear();
    const incident = await c.services.incidents.declare(TEST_ACTOR, {
      name: 'API errors',
      message: 'Product API answers 503 for some requests.',
      components: [{ id: api.id, status: 'partial_outage' }],
    });
    await pump();
    expect(hooks.requests).toHaveLength(1);
    const delivery = hooks.requests[0];
    expect(verify(delivery)).toBe(true);
    const payload = delivery?.json() as {
      meta: { unsubscribe: string };
      incident: { name: string; status: string; incident_updates: Array<{ body: string; affected_components: unknown[] }> };
    };
    expect(payload.incident).toMatchObject({ name: 'API errors', status: 'investigating' });
    expect(payload.incident.incident_updates[0]).toMatchObject({
      body: 'Product API answers 503 for some requests.',
      affected_components: [{ code: api.id, name: 'Product API', old_status: 'operational', new_status: 'partial_outage' }],
    });
    // A tampered body does not verify.
    expect(verify({ ...(delivery as NonNullable<typeof delivery>), body: delivery?.body.replace('503', '504') ?? '' })).toBe(
      false,
    );

    const link = new URL(payload.meta.unsubscribe);
    expect(link.origin).toBe('https://status.example.test');
    expect((await c.app.inject({ method: 'GET', url: `${link.pathname}${link.search}` })).body).toContain('Stop status updates');
    const done = await post(`${link.pathname}${link.search}`, 'List-Unsubscribe=One-Click', FORM);
    expect(done.statusCode).toBe(200);
    hooks.clear();
    await c.services.incidents.postUpdate(TEST_ACTOR, incident.incident.id, { status: 'monitoring', message: 'Fix deployed.' });
    await pump();
    expect(hooks.requests).toHaveLength(0);
  }, 30_000);

  test('per-component choice, updates naming no component, and no double send when the job runs again', async () => {
    const now = c.clock.now();
    const rows = [
      { id: newId(now), channel: 'email' as const, address: 'cdn-only@example.test', components: [cdn.id] },
      { id: newId(now), channel: 'email' as const, address: 'api-only@example.test', components: [api.id] },
      { id: newId(now), channel: 'email' as const, address: 'everything@example.test', components: 'all' as const },
    ];
    await c.db.tx((trx) => repo.insertConfirmed(trx, rows, now));
    const incident = await c.services.incidents.declare(TEST_ACTOR, {
      name: 'Images missing',
      message: 'Product images do not load.',
      components: [{ id: cdn.id, status: 'partial_outage' }],
      drill: true,
    });
    await pump();
    const recipients = async () =>
      (await listMessages(c.db.kysely, { incidentId: incident.incident.id, limit: 100 }))
        .filter((m) => m.templateKey === EMAIL_UPDATE_TEMPLATE)
        .map((m) => m.recipient)
        .sort();
    expect(await recipients()).toEqual(['cdn-only@example.test', 'everything@example.test']);

    // An update naming no component goes to the subscribers of the incident's components.
    await c.services.incidents.postUpdate(TEST_ACTOR, incident.incident.id, { message: 'Still looking into it.' });
    await pump();
    expect(await recipients()).toEqual([
      'cdn-only@example.test',
      'cdn-only@example.test',
      'everything@example.test',
      'everything@example.test',
    ]);

    const detail = await c.services.incidents.get(incident.incident.id);
    const lastUpdate = detail.updates.at(-1);
    const again = await c.services.subscribers.fanOut(incident.incident.id, lastUpdate?.id ?? '');
    expect(again.email).toBe(0);
    expect(await recipients()).toHaveLength(4);
  }, 30_000);

  test('bad input is a 422 naming the field; a known address gets the same answer as a new one', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ channel: 'email', address: 'not-an-email' }, 'address'],
      [{ email: 'a@b' }, 'email'],
      [{ channel: 'sms', address: '555-0100' }, 'address'],
      [{ channel: 'webhook', address: 'http://hooks.example.com/x' }, 'address'],
      [{ channel: 'webhook', address: 'ftp://hooks.example.com/x' }, 'address'],
      [{ channel: 'email', address: 'ok@example.test', components: ['no-such-component'] }, 'components'],
      [{ channel: 'pigeon', address: 'ok@example.test' }, 'channel'],
    ];
    for (const [body, field] of cases) {
      const res = await c.call('POST', '/api/v1/subscribers', { body });
      expect([res.statusCode, res.json().error.details.field]).toEqual([422, field]);
    }
    const html = await post('/status/subscribe', form({ channel: 'email', address: 'nope' }), FORM);
    expect(html.statusCode).toBe(422);
    expect(html.body).toContain('address: &quot;nope&quot; is not an email address');
    expect(html.body).toContain('value="nope"');

    const now = c.clock.now();
    await c.db.tx((trx) =>
      repo.insertConfirmed(trx, [{ id: newId(now), channel: 'email', address: 'known@example.test', components: 'all' }], now),
    );
    const known = await c.call('POST', '/api/v1/subscribers', { body: { email: 'Known@Example.test' } });
    const fresh = await c.call('POST', '/api/v1/subscribers', { body: { email: 'fresh@example.test' } });
    expect([known.statusCode, known.body]).toEqual([fresh.statusCode, fresh.body]);
  }, 30_000);

  test('admin list: counts by channel and state; addresses masked for marketing; delete', async () => {
    const admin = await c.call('GET', '/api/v1/subscribers?channel=email&limit=500', { token: await c.token('admin') });
    expect(admin.statusCode).toBe(200);
    const body = admin.json() as { subscribers: Array<{ id: string; address: string }>; counts: unknown[] };
    expect(body.subscribers.map((s) => s.address)).toContain('known@example.test');
    expect(body.counts).toContainEqual({ channel: 'email', state: 'confirmed', count: expect.any(Number) });
    const marketing = await c.call('GET', '/api/v1/subscribers?channel=email&limit=500', { token: await c.token('marketing') });
    expect(JSON.stringify(marketing.json())).not.toContain('known@example.test');
    expect((await c.call('GET', '/api/v1/subscribers', { token: await c.token('viewer') })).statusCode).toBe(403);
    const known = body.subscribers.find((s) => s.address === 'known@example.test');
    expect((await c.call('DELETE', `/api/v1/subscribers/${known?.id}`, { token: await c.token('marketing') })).statusCode).toBe(
      403,
    );
    expect((await c.call('DELETE', `/api/v1/subscribers/${known?.id}`, { token: await c.token('admin') })).statusCode).toBe(204);
    expect(await subscriberOf('email', 'known@example.test')).toBeUndefined();
    const page = await c.call('GET', '/console/subscribers?state=confirmed', { token: await c.token('admin') });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('data-count="email-confirmed"');
  });

  test('10,000 subscribers: one fan-out job queues every message in pages; running it again queues none', async () => {
    const now = c.clock.now();
    const rows = Array.from({ length: 10_000 }, (_, i) => ({
      id: newId(now),
      channel: 'email' as const,
      address: `bulk${i}@buyers.example`,
      components: i % 2 === 0 ? ('all' as const) : [api.id],
    }));
    await c.db.tx((trx) => repo.insertConfirmed(trx, rows, now));
    const incident = await c.services.incidents.declare(TEST_ACTOR, {
      name: 'Bulk drill',
      message: 'Everything is slow.',
      components: [{ id: cdn.id, status: 'major_outage' }],
      drill: true,
    });
    const eventId = (await c.services.incidents.get(incident.incident.id)).updates[0]?.id ?? '';
    const started = performance.now();
    const first = await c.services.subscribers.fanOut(incident.incident.id, eventId);
    const ms = performance.now() - started;
    // Half chose everything; the other half only the API, which this update does not name.
    expect(first.email).toBeGreaterThanOrEqual(5_000);
    const again = await c.services.subscribers.fanOut(incident.incident.id, eventId);
    expect(again.email).toBe(0);
    console.info(`[${dialect}] fan-out to ${first.email} email subscribers: ${Math.round(ms)} ms`);
  }, 120_000);
  // Last: it retires a template the other tests need.
  test('an unapproved confirmation template: the visitor gets a plain 503, no internal words, nothing stored', async () => {
    const confirm = (await c.services.templates.list({ key: 'email.subscription_confirm' })).templates[0];
    if (!confirm) throw new Error('the default library has email.subscription_confirm');
    await c.services.templates.retire(TEST_ACTOR, confirm.template.id);
    const api = await c.call('POST', '/api/v1/subscribers', { body: { channel: 'email', address: 'late@example.test' } });
    expect(api.statusCode).toBe(503);
    expect(api.json().error.code).toBe('subscriptions_unavailable');
    expect(api.body).not.toContain('legal');
    expect(api.body).not.toContain('template');
    const page = await post('/status/subscribe', form({ channel: 'email', email: 'late@example.test' }), {
      'content-type': 'application/x-www-form-urlencoded',
    });
    expect(page.statusCode).toBe(503);
    expect(page.body).toContain('not available right now');
    expect(page.body).not.toContain('legal');
    expect(await subscriberOf('email', 'late@example.test')).toBeUndefined();
  });
});
