import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { countSegments, rfc2822, startTwilioStandin, type TwilioStandin } from './twilio-standin.js';

describe('Twilio stand-in', () => {
  let twilio: TwilioStandin;
  let base: string;
  let auth: string;

  const create = (form: Record<string, string>, authorization = auth) =>
    fetch(`${base}/Messages.json`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
  const get = (path: string, authorization = auth) => fetch(`${base}${path}`, { headers: { authorization } });

  beforeAll(async () => {
    twilio = await startTwilioStandin();
    const { accountSid, authToken } = twilio.config();
    base = `${twilio.url}/2010-04-01/Accounts/${accountSid}`;
    auth = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;
  });

  afterAll(async () => {
    await twilio?.close();
  });

  beforeEach(() => twilio.reset());

  test('201 with a Message resource in Twilio’s shape', async () => {
    const res = await create({ To: '+15005550100', From: '+15005550006', Body: 'Hello', StatusCallback: 'https://x.example/cb' });
    expect(res.status).toBe(201);
    const body = (await res.json()) as Record<string, unknown>;
    const { accountSid } = twilio.config();
    expect(body).toMatchObject({
      account_sid: accountSid,
      api_version: '2010-04-01',
      body: 'Hello',
      date_sent: null,
      direction: 'outbound-api',
      error_code: null,
      error_message: null,
      from: '+15005550006',
      messaging_service_sid: null,
      num_media: '0',
      num_segments: '1',
      price: null,
      price_unit: 'USD',
      status: 'queued',
      to: '+15005550100',
    });
    expect(body.sid).toMatch(/^SM[0-9a-f]{32}$/);
    expect(body.date_created).toMatch(/^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
    expect(body.uri).toBe(`/2010-04-01/Accounts/${accountSid}/Messages/${body.sid}.json`);
    expect(twilio.messages[0]?.statusCallback).toBe('https://x.example/cb');

    const one = await get(`/Messages/${body.sid}.json`);
    expect(one.status).toBe(200);
    expect(await one.json()).toMatchObject({ sid: body.sid, status: 'sent' });
    const missing = await get(`/Messages/SM${'0'.repeat(32)}.json`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 20404, status: 404 });
  });

  test('401 with Twilio’s error shape without the right credentials', async () => {
    for (const authorization of ['', `Basic ${Buffer.from(`${twilio.config().accountSid}:wrong`).toString('base64')}`]) {
      const res = await create({ To: '+15005550100', From: '+15005550006', Body: 'x' }, authorization);
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({
        code: 20003,
        message: 'Authenticate',
        more_info: 'https://www.twilio.com/docs/errors/20003',
        status: 401,
      });
    }
    expect(twilio.messages).toHaveLength(0);
  });

  test('validation errors: 21604, 21603, 21602, 21211, 21617', async () => {
    const codes = [];
    for (const form of [
      { From: '+15005550006', Body: 'x' },
      { To: '+15005550100', Body: 'x' },
      { To: '+15005550100', From: '+15005550006' },
      { To: '555-0100', From: '+15005550006', Body: 'x' },
      { To: '+15005550100', From: '+15005550006', Body: 'x'.repeat(1601) },
    ]) {
      const res = await create(form);
      expect(res.status).toBe(400);
      codes.push(((await res.json()) as { code: number }).code);
    }
    expect(codes).toEqual([21604, 21603, 21602, 21211, 21617]);
  });

  test('list: To/From/DateSent filters and pages, newest first', async () => {
    for (let i = 0; i < 5; i++) await create({ To: '+15005550100', From: '+15005550006', Body: `m${i}` });
    await create({ To: '+15005550199', From: '+15005550006', Body: 'other' });
    const today = new Date().toISOString().slice(0, 10);
    const q = new URLSearchParams({ To: '+15005550100', From: '+15005550006', 'DateSent>': today, PageSize: '2' });
    const page0 = (await (await get(`/Messages.json?${q.toString()}`)).json()) as {
      messages: Array<{ body: string }>;
      next_page_uri: string | null;
      page: number;
      page_size: number;
    };
    expect(page0.page_size).toBe(2);
    expect(page0.messages).toHaveLength(2);
    let next = page0.next_page_uri;
    const bodies = page0.messages.map((m) => m.body);
    while (next) {
      const page = (await (await fetch(`${twilio.url}${next}`, { headers: { authorization: auth } })).json()) as typeof page0;
      bodies.push(...page.messages.map((m) => m.body));
      next = page.next_page_uri;
    }
    expect(bodies.sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
    const later = (await (await get(`/Messages.json?${new URLSearchParams({ 'DateSent>': tomorrow })}`)).json()) as typeof page0;
    expect(later.messages).toHaveLength(0);
    const until = (await (await get(`/Messages.json?${new URLSearchParams({ 'DateSent<': today })}`)).json()) as typeof page0;
    expect(until.messages).toHaveLength(6);
  });

  test('without autoSend, messages stay queued and are not listed by DateSent until a callback sends them', async () => {
    const held = await startTwilioStandin({ autoSend: false });
    try {
      const { accountSid, authToken } = held.config();
      const heldAuth = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;
      const url = `${held.url}/2010-04-01/Accounts/${accountSid}/Messages.json`;
      await fetch(url, {
        method: 'POST',
        headers: { authorization: heldAuth },
        body: new URLSearchParams({ To: '+15005550100', From: '+15005550006', Body: 'x' }),
      });
      const list = async () =>
        (
          (await (await fetch(`${url}?DateSent%3E=2000-01-01`, { headers: { authorization: heldAuth } })).json()) as {
            messages: unknown[];
          }
        ).messages.length;
      expect(await list()).toBe(0);
      const sid = held.messages[0]?.resource.sid ?? '';
      await held.sendStatusCallbacks(sid, ['sent'], { url: 'http://127.0.0.1:9/' });
      expect(await list()).toBe(1);
      expect(held.callbacks[0]?.responseStatus).toBe(0); // nothing listens there
    } finally {
      await held.close();
    }
  });

  test('faults: scripted statuses, per-number errors, drops, slowness; every request recorded', async () => {
    twilio.failNext(503, { retryAfter: '4' });
    const r503 = await create({ To: '+15005550100', From: '+15005550006', Body: 'x' });
    expect([r503.status, r503.headers.get('retry-after')]).toEqual([503, '4']);

    twilio.rejectNumber('+15005550009', 21610, { times: 1 });
    const stop = await create({ To: '+15005550009', From: '+15005550006', Body: 'x' });
    expect(stop.status).toBe(400);
    expect(await stop.json()).toMatchObject({ code: 21610, message: 'Attempt to send to unsubscribed recipient' });
    expect((await create({ To: '+15005550009', From: '+15005550006', Body: 'x' })).status).toBe(201);

    twilio.dropNext();
    await expect(create({ To: '+15005550100', From: '+15005550006', Body: 'x' })).rejects.toThrow();
    twilio.dropNext({ afterCreate: true });
    await expect(create({ To: '+15005550100', From: '+15005550006', Body: 'created' })).rejects.toThrow();
    expect(twilio.messages.map((m) => m.resource.body)).toEqual(['x', 'created']);

    twilio.slow(120, { times: 1 });
    const started = performance.now();
    await create({ To: '+15005550100', From: '+15005550006', Body: 'x' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(110);

    expect(twilio.createRequests.map((r) => r.outcome)).toEqual([503, 400, 201, 'dropped', 'dropped', 201]);
  });

  test('segments: GSM-7 160/153, one non-GSM character makes UCS-2 70/67', () => {
    expect(countSegments('a'.repeat(160))).toBe(1);
    expect(countSegments('a'.repeat(161))).toBe(2);
    expect(countSegments('a'.repeat(306))).toBe(2);
    expect(countSegments('a'.repeat(307))).toBe(3);
    expect(countSegments(`${'a'.repeat(69)}’`)).toBe(1);
    expect(countSegments(`${'a'.repeat(70)}’`)).toBe(2);
    expect(countSegments('{'.repeat(80))).toBe(1); // escape characters count two septets
    expect(countSegments('{'.repeat(81))).toBe(2);
    expect(rfc2822(Date.UTC(2024, 0, 5, 7, 8, 9))).toBe('Fri, 05 Jan 2024 07:08:09 +0000');
  });
});
