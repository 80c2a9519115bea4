import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { type HttpStandin, startHttpStandin } from '../../../test/harness/http-standin.js';
import { providerFailure } from '../../../test/harness/provider-errors.js';
import { startTwilioStandin, type TwilioStandin } from '../../../test/harness/twilio-standin.js';
import { verifyTwilioSignature } from '../inbound/twilio-signature.js';
import type { OutboundMessage } from './provider.js';
import { TwilioProvider } from './twilio.js';

function sms(overrides: Partial<OutboundMessage> = {}): OutboundMessage {
  return {
    id: '0190c0de-0000-7000-8000-000000000002',
    idempotencyKey: 'inc-1|sms|+15005550100|sms-high-intent|ack',
    channel: 'sms',
    to: '+15005550100',
    text: 'Our showroom is down. Specs: https://mirror.example/s — reply 1 for specs, 2 to book time. STOP to opt out',
    purpose: 'marketing',
    statusCallbackUrl: 'https://status.example.test/api/v1/hooks/twilio/status',
    metadata: {},
    ...overrides,
  };
}

const long = () => AbortSignal.timeout(5_000);

describe('Twilio provider against the Twilio stand-in', () => {
  let twilio: TwilioStandin;
  let provider: TwilioProvider;

  beforeAll(async () => {
    twilio = await startTwilioStandin();
    provider = new TwilioProvider({ name: 'twilio:primary', account: twilio.config(), recheckTimeoutMs: 1_000 });
  });

  afterAll(async () => {
    await twilio?.close();
  });

  beforeEach(() => {
    twilio.reset();
  });

  test('creates the message with a form POST, basic auth and the StatusCallback', async () => {
    const result = await provider.send(sms(), long());
    expect(result.status).toBe('sent');
    expect(result.providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);
    expect(result.detail).toBe('twilio queued');

    const [request] = twilio.requests;
    const { accountSid, authToken, from } = twilio.config();
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe(`/2010-04-01/Accounts/${accountSid}/Messages.json`);
    expect(request?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request?.headers.authorization).toBe(`Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`);
    expect(request?.form).toEqual({
      To: '+15005550100',
      From: from,
      Body: sms().text,
      StatusCallback: 'https://status.example.test/api/v1/hooks/twilio/status',
    });
    const stored = twilio.message(result.providerMessageId);
    expect(stored?.resource.body).toBe(sms().text);
    expect(stored?.resource.num_segments).toBe('2'); // the em dash makes it UCS-2: 70 / 67 per part
    expect(provider.rateKey()).toBe(`twilio:${from}`);
  });

  test('no StatusCallback field when the message has no callback URL', async () => {
    await provider.send(sms({ statusCallbackUrl: undefined }), long());
    expect(twilio.requests[0]?.form).not.toHaveProperty('StatusCallback');
  });

  test('429 is rate_limited with Retry-After honoured (seconds or HTTP date); no failover', async () => {
    twilio.failNext(429, { retryAfter: '3' });
    const seconds = await providerFailure(provider.send(sms(), long()));
    expect(seconds.kind).toBe('rate_limited');
    expect(seconds.code).toBe('20429');
    expect(seconds.retryAfterMs).toBe(3_000);

    const at = new Date(Date.now() + 60_000).toUTCString();
    twilio.failNext(429, { retryAfter: at });
    const dated = await providerFailure(provider.send(sms(), long()));
    expect(dated.retryAfterMs).toBeGreaterThan(55_000);
    expect(dated.retryAfterMs).toBeLessThanOrEqual(60_000);

    twilio.failNext(429);
    expect((await providerFailure(provider.send(sms(), long()))).retryAfterMs).toBeUndefined();
  });

  test('500 and 503 are transient', async () => {
    twilio.failNext(500);
    const e500 = await providerFailure(provider.send(sms(), long()));
    expect(e500.kind).toBe('transient');
    twilio.failNext(503, { retryAfter: '2' });
    const e503 = await providerFailure(provider.send(sms(), long()));
    expect(e503.kind).toBe('transient');
    expect(e503.retryAfterMs).toBe(2_000);
    expect(twilio.messages).toHaveLength(0);
  });

  test('21610 (unsubscribed) is a recipient error that suppresses; 21211, 21614, 21612, 21408 do not suppress', async () => {
    twilio.rejectNumber('+15005550009', 21610);
    const stop = await providerFailure(provider.send(sms({ to: '+15005550009' }), long()));
    expect(stop.kind).toBe('recipient');
    expect(stop.code).toBe('21610');
    expect(stop.suppress).toBe(true);
    expect(stop.message).toContain('Attempt to send to unsubscribed recipient');

    for (const code of [21211, 21614, 21612, 21408]) {
      twilio.rejectNumber('+15005550001', code);
      const err = await providerFailure(provider.send(sms({ to: '+15005550001' }), long()));
      expect([err.kind, err.code, err.suppress]).toEqual(['recipient', String(code), false]);
    }
    // A number Twilio itself finds malformed.
    const malformed = await providerFailure(provider.send(sms({ to: '5550100' }), long()));
    expect([malformed.kind, malformed.code]).toEqual(['recipient', '21211']);
  });

  test('wrong credentials (20003) and a bad sender (21606) are permanent', async () => {
    const { accountSid, baseUrl, from } = twilio.config();
    const wrong = new TwilioProvider({ name: 'bad', account: { accountSid, authToken: 'not-the-token', baseUrl, from } });
    const auth = await providerFailure(wrong.send(sms(), long()));
    expect([auth.kind, auth.code]).toEqual(['permanent', '20003']);
    expect(twilio.requests[0]?.outcome).toBe(401);

    twilio.failNext(400, { code: 21606 });
    const sender = await providerFailure(provider.send(sms(), long()));
    expect([sender.kind, sender.code]).toEqual(['permanent', '21606']);
  });

  test('nothing listening: connection; too slow for the deadline: timeout', async () => {
    const closed = await startHttpStandin();
    const url = closed.url;
    await closed.close();
    const offline = new TwilioProvider({ name: 'offline', account: { ...twilio.config(), baseUrl: url } });
    const down = await providerFailure(offline.send(sms(), long()));
    expect(down.kind).toBe('connection');

    twilio.slow(400, { times: 1 });
    const slow = await providerFailure(provider.send(sms(), AbortSignal.timeout(100)));
    expect(slow.kind).toBe('timeout');
  });

  test('connection cut before Twilio created the message: connection error (failover may send it)', async () => {
    twilio.dropNext();
    const err = await providerFailure(provider.send(sms(), long()));
    expect(err.kind).toBe('connection');
    expect(twilio.messages).toHaveLength(0);
  });

  test('connection cut after Twilio created the message: send finds it instead of failing (no duplicate through failover)', async () => {
    twilio.dropNext({ afterCreate: true });
    const result = await provider.send(sms(), long());
    expect(twilio.messages).toHaveLength(1);
    expect(result.providerMessageId).toBe(twilio.messages[0]?.resource.sid);
    expect(result.detail).toMatch(/^found at Twilio/);
  });

  test('lookup: finds the message sent since the given time with the same body, to the same number', async () => {
    const before = Date.now() - 1_000;
    const sent = await provider.send(sms(), long());
    expect(await provider.lookup(sms(), before)).toEqual({
      providerMessageId: sent.providerMessageId,
      status: 'sent',
      detail: 'found at Twilio (sent)',
    });
    expect(await provider.lookup(sms({ text: 'another text' }), before)).toBeNull();
    expect(await provider.lookup(sms({ to: '+15005550199' }), before)).toBeNull();
    expect(await provider.lookup(sms(), Date.now() + 5_000)).toBeNull();
    const query = twilio.requests.at(-1)?.query;
    expect(query).toMatchObject({ To: '+15005550100', From: twilio.config().from, PageSize: '50' });
    expect(query?.['DateSent>']).toMatch(/^\d{4}-\d{2}-\d{2}$/);

    await twilio.sendStatusCallbacks(sent.providerMessageId, ['delivered'], { url: 'http://127.0.0.1:9/unreachable' });
    expect((await provider.lookup(sms(), before))?.status).toBe('delivered');
  });

  test('lookup pages through the list', async () => {
    const before = Date.now() - 1_000;
    const target = await provider.send(sms({ text: 'the one' }), long());
    for (let i = 0; i < 60; i++) await provider.send(sms({ text: `other ${i}` }), long());
    const found = await provider.lookup(sms({ text: 'the one' }), before);
    expect(found?.providerMessageId).toBe(target.providerMessageId);
    const lists = twilio.requests.filter((r) => r.method === 'GET');
    expect(lists).toHaveLength(2);
    expect(lists[1]?.query.Page).toBe('1');
  });
});

describe('Twilio stand-in status callbacks', () => {
  let twilio: TwilioStandin;
  let receiver: HttpStandin;

  beforeAll(async () => {
    twilio = await startTwilioStandin();
    receiver = await startHttpStandin({ respond: () => ({ status: 204 }) });
  });

  afterAll(async () => {
    await twilio?.close();
    await receiver?.close();
  });

  test('signed form posts to the StatusCallback URL, verifiable with the auth token, in any order and duplicated', async () => {
    const provider = new TwilioProvider({ name: 'twilio:primary', account: twilio.config() });
    const callbackUrl = `${receiver.url}/api/v1/hooks/twilio/status?tenant=a`;
    const { providerMessageId: sid } = await provider.send(sms({ statusCallbackUrl: callbackUrl }), long());
    await twilio.sendStatusCallbacks(sid, ['delivered', 'sent', 'failed'], { duplicate: true, errorCode: 30005 });
    expect(receiver.requests).toHaveLength(6);
    const { authToken, accountSid, from } = twilio.config();
    const statuses = receiver.requests.map((r) => {
      const params = Object.fromEntries(new URLSearchParams(r.body));
      expect(r.url).toBe('/api/v1/hooks/twilio/status?tenant=a');
      expect(
        verifyTwilioSignature({ authToken, url: callbackUrl, signature: r.headers['x-twilio-signature'] as string, params }),
      ).toBe(true);
      expect(
        verifyTwilioSignature({
          authToken: 'wrong-token',
          url: callbackUrl,
          signature: r.headers['x-twilio-signature'] as string,
          params,
        }),
      ).toBe(false);
      expect(params).toMatchObject({
        MessageSid: sid,
        SmsSid: sid,
        AccountSid: accountSid,
        From: from,
        To: '+15005550100',
        ApiVersion: '2010-04-01',
      });
      expect(params.SmsStatus).toBe(params.MessageStatus);
      return [params.MessageStatus, params.ErrorCode];
    });
    expect(statuses).toEqual([
      ['delivered', undefined],
      ['delivered', undefined],
      ['sent', undefined],
      ['sent', undefined],
      ['failed', '30005'],
      ['failed', '30005'],
    ]);
    expect(receiver.requests[0]?.headers['i-twilio-idempotency-token']).toBe(
      receiver.requests[1]?.headers['i-twilio-idempotency-token'],
    );
    expect(twilio.callbacks.every((c) => c.responseStatus === 204)).toBe(true);
    expect(twilio.message(sid)?.resource.status).toBe('failed');
  });

  test('automatic callbacks: queued → sent → delivered for every message', async () => {
    const auto = await startTwilioStandin({ autoCallbacks: 'delivered' });
    try {
      receiver.clear();
      const provider = new TwilioProvider({ name: 'twilio:primary', account: auto.config() });
      const { providerMessageId } = await provider.send(sms({ statusCallbackUrl: `${receiver.url}/cb` }), long());
      await auto.settle();
      expect(receiver.requests.map((r) => new URLSearchParams(r.body).get('MessageStatus'))).toEqual([
        'queued',
        'sent',
        'delivered',
      ]);
      expect(auto.message(providerMessageId)?.resource.status).toBe('delivered');
    } finally {
      await auto.close();
    }
  });
});
