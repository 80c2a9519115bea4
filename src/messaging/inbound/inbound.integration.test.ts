import { createHash } from 'node:crypto';
import type { LightMyRequestResponse } from 'fastify';
import { expect, test, vi } from 'vitest';
import { type TestContext, useTestContext } from '../../../test/harness/context.js';
import { describeEachDialect } from '../../../test/harness/databases.js';
import { describeNeeding } from '../../../test/harness/env.js';
import { fixturesMissing, readFixtureJson } from '../../../test/harness/fixtures.js';
import { buildApp } from '../../app/build-app.js';
import { listAudit } from '../../audit/audit.repo.js';
import { newId } from '../../core/ids.js';
import { findMessage, insertMessages, listMessages, type Message, updateMessage } from '../messages.repo.js';
import { isSuppressed, listSuppressions } from '../suppressions.repo.js';
import { unsubscribeUrl } from '../unsubscribe.js';
import type { ConversationHandler, InboundSms } from './conversation.js';
import { findInboundByProviderId, listInbound } from './inbound.repo.js';
import { EMPTY_TWIML, TWILIO_INBOUND_PATH, TWILIO_STATUS_PATH } from './inbound.routes.js';
import { InboundService, KEYWORD_REPLY_TEMPLATES } from './inbound.service.js';
import { computeTwilioSignature } from './twilio-signature.js';

const TOKEN = 'test-auth-token-12345';
const FORM = 'application/x-www-form-urlencoded';
const NOTICE_TEMPLATE = 'test.sms.notice';

/** Approved SMS templates for the keyword replies, inserted directly (independent of the default library). */
async function seedReplyTemplates(c: TestContext): Promise<void> {
  const now = c.clock.now();
  const bodies: Record<string, string> = {
    [KEYWORD_REPLY_TEMPLATES.stop]: 'You are unsubscribed from our texts. Reply START to resubscribe.',
    [KEYWORD_REPLY_TEMPLATES.start]: 'You are subscribed to our texts again. Reply STOP to opt out.',
    [KEYWORD_REPLY_TEMPLATES.help]: 'Outage updates from our showroom team. Reply STOP to opt out.',
    [NOTICE_TEMPLATE]: 'Update: our product pages are back.',
  };
  await c.db.tx(async (trx) => {
    for (const [key, body] of Object.entries(bodies)) {
      const existing = await trx
        .selectFrom('templates')
        .select('id')
        .where('key', '=', key)
        .where('locale', '=', 'en')
        .executeTakeFirst();
      if (existing) continue;
      const templateId = newId(now);
      await trx
        .insertInto('templates')
        .values({
          id: templateId,
          key,
          locale: 'en',
          channel: 'sms',
          purpose: 'transactional',
          name: key,
          description: null,
          created_at: now,
          updated_at: now,
        })
        .execute();
      await trx
        .insertInto('template_versions')
        .values({
          id: newId(now),
          template_id: templateId,
          version: 1,
          state: 'approved',
          subject: null,
          body,
          created_by: null,
          created_at: now,
          updated_at: now,
          submitted_by: null,
          submitted_at: now,
          approved_by: null,
          approved_at: now,
          retired_by: null,
          retired_at: null,
          review_note: null,
        })
        .execute();
    }
  });
}

function sign(c: TestContext, path: string, params: Record<string, string>): string {
  return computeTwilioSignature(TOKEN, `${c.config.publicUrl}${path}`, params);
}

function postForm(
  c: TestContext,
  path: string,
  payload: string,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return c.app.inject({ method: 'POST', url: path, headers: { 'content-type': FORM, ...headers }, payload });
}

/** A webhook as Twilio sends it: form-encoded, signed for Keepwarm's public URL. */
function twilio(c: TestContext, path: string, params: Record<string, string>): Promise<LightMyRequestResponse> {
  return postForm(c, path, new URLSearchParams(params).toString(), { 'x-twilio-signature': sign(c, path, params) });
}

let sidCounter = 0;
function sms(from: string, body: string, sid = `SM${String(++sidCounter).padStart(32, '0')}`): Record<string, string> {
  return {
    ToCountry: 'US',
    SmsMessageSid: sid,
    NumMedia: '0',
    SmsSid: sid,
    SmsStatus: 'received',
    Body: body,
    To: '+15005550006',
    NumSegments: '1',
    MessageSid: sid,
    AccountSid: 'AC00000000000000000000000000000000',
    From: from,
    ApiVersion: '2010-04-01',
  };
}

async function messagesTo(c: TestContext, recipient: string): Promise<Message[]> {
  return listMessages(c.db.kysely, { recipient, limit: 50 });
}

/** A message the outbox sent through Twilio earlier (provider id known), in a given state. */
async function sentMessage(c: TestContext, recipient: string, providerMessageId: string): Promise<string> {
  const now = c.clock.now();
  return c.db.tx(async (trx) => {
    const created = await insertMessages(trx, now, [
      {
        idempotencyKey: `status-test|${providerMessageId}`,
        channel: 'sms',
        purpose: 'transactional',
        recipient,
        drill: false,
        bodyText: 'Our product pages are down; specs: https://fallback.example.test',
      },
    ]);
    const id = created.get(`status-test|${providerMessageId}`) as string;
    await updateMessage(trx, id, { status: 'sent', provider: 'twilio', providerMessageId, sentAt: now, now });
    return id;
  });
}

/** A later notification to a number, dispatched through the outbox and delivered by the worker. */
async function sendLater(c: TestContext, recipient: string, step: string): Promise<Message | undefined> {
  const result = await c.db.tx((trx) =>
    c.services.outbox.dispatch(trx, { templateKey: NOTICE_TEMPLATE, recipients: [{ address: recipient }], step }),
  );
  await c.worker.pump();
  return findMessage(c.db.kysely, result.messageIds[0] ?? '');
}

describeEachDialect('inbound SMS, status callbacks and unsubscribe', (dialect) => {
  const ctx = useTestContext(dialect, { config: { 'messaging.sink': true, 'twilio.authToken': TOKEN } });

  describeNeeding('the shared fixtures', fixturesMissing, 'a real Twilio inbound capture', () => {
    interface Capture {
      raw_form_body: string;
      params: Record<string, string>;
    }
    const capture = () => readFixtureJson<Capture>('sms', 'twilio_inbound_sms_webhook_real_capture.json');

    test('posted as captured, signed for our public URL: accepted with empty TwiML and recorded', async () => {
      const c = ctx();
      const { raw_form_body: raw, params } = capture();
      const res = await postForm(c, TWILIO_INBOUND_PATH, raw, { 'x-twilio-signature': sign(c, TWILIO_INBOUND_PATH, params) });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toContain('text/xml');
      expect(res.body).toBe(EMPTY_TWIML);
      const row = await findInboundByProviderId(c.db.kysely, params.MessageSid as string);
      expect(row).toMatchObject({ from: '+19253920364', to: '+19253920364', body: 'twilio-go testing!', kind: 'conversation' });
      expect(row?.params).toEqual(params);
      expect(row?.handledAt).toBeNull();
    });

    test('a tampered body, a wrong signature or none: 403 in the error shape, nothing recorded', async () => {
      const c = ctx();
      const { raw_form_body: raw, params } = capture();
      const signature = sign(c, TWILIO_INBOUND_PATH, params);
      const tampered = raw.replace('twilio-go+testing%21', 'STOP').replace(/SM1521fa559fb923c1ed64f56cd1bed8ef/g, 'SMtampered');
      for (const res of [
        await postForm(c, TWILIO_INBOUND_PATH, tampered, { 'x-twilio-signature': signature }),
        await postForm(c, TWILIO_INBOUND_PATH, raw, { 'x-twilio-signature': `${signature.slice(0, -2)}x=` }),
        await postForm(c, TWILIO_INBOUND_PATH, raw),
        // Signed for another host: the Host header must not change what we verify against.
        await postForm(c, TWILIO_INBOUND_PATH, raw, {
          'x-twilio-signature': computeTwilioSignature(TOKEN, `https://evil.example.test${TWILIO_INBOUND_PATH}`, params),
          host: 'evil.example.test',
          'x-forwarded-host': 'evil.example.test',
        }),
      ]) {
        expect(res.statusCode).toBe(403);
        expect(res.json().error.code).toBe('invalid_signature');
      }
      expect(await findInboundByProviderId(c.db.kysely, 'SMtampered')).toBeUndefined();
    });
  });

  test('STOP suppresses the sender, queues the confirmation once, and later messages end suppressed', async () => {
    const c = ctx();
    await seedReplyTemplates(c);
    const from = '+15005550101';
    const params = sms(from, ' Stop. ');
    expect((await twilio(c, TWILIO_INBOUND_PATH, params)).body).toBe(EMPTY_TWIML);
    // Twilio retries the same webhook: nothing happens twice.
    expect((await twilio(c, TWILIO_INBOUND_PATH, params)).statusCode).toBe(200);

    expect(await isSuppressed(c.db.kysely, 'sms', from)).toBe(true);
    const suppression = (await listSuppressions(c.db.kysely, { channel: 'sms', limit: 100 })).find((s) => s.address === from);
    expect(suppression).toMatchObject({ reason: 'stop_keyword', source: params.MessageSid });
    const rows = await listInbound(c.db.kysely, { from, limit: 10 });
    expect(rows.map((r) => r.kind)).toEqual(['stop']);
    expect(rows[0]?.handledAt).not.toBeNull();
    expect(rows[0]?.outcome).toContain('suppressed');

    const replies = await messagesTo(c, from);
    expect(replies.map((m) => [m.templateKey, m.channel, m.purpose])).toEqual([
      [KEYWORD_REPLY_TEMPLATES.stop, 'sms', 'transactional'],
    ]);
    expect(replies[0]?.idempotencyKey).toContain(`inbound:${params.MessageSid}`);

    const audit = await listAudit(c.db.kysely, { action: 'suppression.add', limit: 100 });
    const mine = audit.filter((a) => a.target?.id === rows[0]?.id);
    expect(mine).toHaveLength(1);
    expect(mine[0]?.actor).toMatchObject({ type: 'anonymous', id: null });
    expect(JSON.stringify(mine)).not.toContain('5005550101');

    const later = await sendLater(c, from, 'after-stop');
    expect(later).toMatchObject({ status: 'suppressed', statusReason: 'recipient opted out of sms' });
  });

  test('the answers to STOP and HELP reach the number that opted out, and nothing else does', async () => {
    const c = ctx();
    await seedReplyTemplates(c);
    const from = '+15005550120';
    const stop = sms(from, 'STOP');
    await twilio(c, TWILIO_INBOUND_PATH, stop);
    await c.worker.pump();
    const help = sms(from, 'help');
    await twilio(c, TWILIO_INBOUND_PATH, help);
    await c.worker.pump();
    const replies = (await messagesTo(c, from)).sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
    expect(replies.map((m) => [m.templateKey, m.status, m.metadata.reply_to_inbound])).toEqual([
      [KEYWORD_REPLY_TEMPLATES.stop, 'delivered', stop.MessageSid],
      [KEYWORD_REPLY_TEMPLATES.help, 'delivered', help.MessageSid],
    ]);
    expect(await sendLater(c, from, 'after-stop-and-help')).toMatchObject({ status: 'suppressed' });

    // The exception is bound to the inbound text: pointing at someone else's STOP does not open this number.
    const other = '+15005550121';
    await twilio(c, TWILIO_INBOUND_PATH, sms(other, 'STOP'));
    const forged = await c.db.tx((trx) =>
      c.services.outbox.dispatch(trx, {
        templateKey: KEYWORD_REPLY_TEMPLATES.help,
        recipients: [{ address: other }],
        step: 'forged',
        metadata: { reply_to_inbound: stop.MessageSid },
      }),
    );
    await c.worker.pump();
    expect(await findMessage(c.db.kysely, forged.messageIds[0] ?? '')).toMatchObject({ status: 'suppressed' });
  });

  test('STOP from a number suppressed already: recorded, no second confirmation', async () => {
    const c = ctx();
    await seedReplyTemplates(c);
    const from = '+15005550102';
    await twilio(c, TWILIO_INBOUND_PATH, sms(from, 'STOP'));
    await twilio(c, TWILIO_INBOUND_PATH, sms(from, 'unsubscribe'));
    expect((await listInbound(c.db.kysely, { from, limit: 10 })).map((r) => r.kind)).toEqual(['stop', 'stop']);
    expect(await messagesTo(c, from)).toHaveLength(1);
  });

  test('START lifts the suppression and confirms; messages go again', async () => {
    const c = ctx();
    await seedReplyTemplates(c);
    const from = '+15005550103';
    await twilio(c, TWILIO_INBOUND_PATH, sms(from, 'STOPALL'));
    expect(await isSuppressed(c.db.kysely, 'sms', from)).toBe(true);
    const start = sms(from, 'start');
    await twilio(c, TWILIO_INBOUND_PATH, start);
    expect(await isSuppressed(c.db.kysely, 'sms', from)).toBe(false);
    expect((await listInbound(c.db.kysely, { from, limit: 10 })).map((r) => r.kind)).toEqual(['start', 'stop']);
    expect((await messagesTo(c, from)).map((m) => m.templateKey).sort()).toEqual(
      [KEYWORD_REPLY_TEMPLATES.start, KEYWORD_REPLY_TEMPLATES.stop].sort(),
    );
    const audit = await listAudit(c.db.kysely, { action: 'suppression.remove', limit: 100 });
    expect(audit.some((a) => a.details.reason === 'start_keyword')).toBe(true);
    expect(await sendLater(c, from, 'after-start')).toMatchObject({ status: 'delivered' });
  });

  test('YES from someone who never opted out is a conversation, not an opt-in', async () => {
    const c = ctx();
    await seedReplyTemplates(c);
    const from = '+15005550104';
    await twilio(c, TWILIO_INBOUND_PATH, sms(from, 'Yes'));
    expect((await listInbound(c.db.kysely, { from, limit: 10 })).map((r) => [r.kind, r.handledAt])).toEqual([
      ['conversation', null],
    ]);
    expect(await messagesTo(c, from)).toEqual([]);
  });

  test('HELP queues the approved help reply, once per inbound message', async () => {
    const c = ctx();
    await seedReplyTemplates(c);
    const from = '+15005550105';
    const help = sms(from, 'help');
    await twilio(c, TWILIO_INBOUND_PATH, help);
    await twilio(c, TWILIO_INBOUND_PATH, help);
    await twilio(c, TWILIO_INBOUND_PATH, sms(from, 'INFO'));
    expect((await listInbound(c.db.kysely, { from, limit: 10 })).map((r) => r.kind)).toEqual(['help', 'help']);
    const replies = await messagesTo(c, from);
    expect(replies.map((m) => m.templateKey)).toEqual([KEYWORD_REPLY_TEMPLATES.help, KEYWORD_REPLY_TEMPLATES.help]);
    await c.worker.pump();
    expect((await findMessage(c.db.kysely, replies[0]?.id ?? ''))?.status).toBe('delivered');
  });

  test('a missing reply template never loses the opt-out', async () => {
    const c = ctx();
    await c.db.tx((trx) => trx.deleteFrom('templates').where('key', '=', KEYWORD_REPLY_TEMPLATES.stop).execute());
    const from = '+15005550106';
    expect((await twilio(c, TWILIO_INBOUND_PATH, sms(from, 'quit'))).statusCode).toBe(200);
    expect(await isSuppressed(c.db.kysely, 'sms', from)).toBe(true);
    expect(await messagesTo(c, from)).toEqual([]);
    const [row] = await listInbound(c.db.kysely, { from, limit: 1 });
    expect(row?.outcome).toContain('template_not_approved');
  });

  test('other texts go to the conversation handler, once; a failing handler keeps the message', async () => {
    const c = ctx();
    const seen: InboundSms[] = [];
    const handler: ConversationHandler = {
      async handle(trx, inbound) {
        seen.push(inbound);
        if (inbound.body === 'boom') {
          await trx.updateTable('inbound_messages').set({ outcome: 'half-done' }).where('id', '=', inbound.id).execute();
          throw new Error('CRM unavailable');
        }
        return { handled: true, outcome: 'menu reply 1' };
      },
    };
    const service = new InboundService({
      db: c.db,
      clock: c.clock,
      bus: c.services.bus,
      log: c.services.log,
      outbox: c.services.outbox,
      conversation: handler,
    });
    const from = '+15005550107';
    const base = { from, to: '+15005550006', numMedia: 0 };
    const first = await service.receiveSms({ ...base, messageSid: 'SMconv1', body: '1', params: { Body: '1' } });
    expect(first).toMatchObject({ duplicate: false, kind: 'conversation', outcome: 'menu reply 1' });
    expect(await service.receiveSms({ ...base, messageSid: 'SMconv1', body: '1', params: { Body: '1' } })).toMatchObject({
      duplicate: true,
    });
    expect(seen.map((s) => [s.messageSid, s.body, s.from, s.id])).toEqual([['SMconv1', '1', from, first.id]]);
    expect(await findInboundByProviderId(c.db.kysely, 'SMconv1')).toMatchObject({
      outcome: 'menu reply 1',
      kind: 'conversation',
    });
    expect((await findInboundByProviderId(c.db.kysely, 'SMconv1'))?.handledAt).not.toBeNull();

    const failed = await service.receiveSms({ ...base, messageSid: 'SMconv2', body: 'boom', params: { Body: 'boom' } });
    expect(failed.outcome).toContain('CRM unavailable');
    const kept = await findInboundByProviderId(c.db.kysely, 'SMconv2');
    expect(kept).toMatchObject({ body: 'boom', handledAt: null, outcome: 'conversation handler failed: CRM unavailable' });
    expect((await listInbound(c.db.kysely, { unhandled: true, limit: 100 })).map((r) => r.providerMessageId)).toContain(
      'SMconv2',
    );
  });

  test('status callbacks: out of order and duplicated, the message ends delivered; one change event each', async () => {
    const c = ctx();
    const id = await sentMessage(c, '+15005550108', 'SMstatus0000000000000000000000001');
    const changed = vi.fn();
    const off = c.services.bus.on('message.changed', changed);
    const report = (status: string, extra: Record<string, string> = {}) =>
      twilio(c, TWILIO_STATUS_PATH, {
        MessageSid: 'SMstatus0000000000000000000000001',
        MessageStatus: status,
        SmsStatus: status,
        ...extra,
      });
    try {
      for (const status of ['delivered', 'sent', 'delivered', 'sending', 'queued']) {
        const res = await report(status);
        expect(res.statusCode).toBe(200);
        expect(res.body).toBe(EMPTY_TWIML);
      }
      expect(await findMessage(c.db.kysely, id)).toMatchObject({ status: 'delivered', statusReason: null });
      expect(changed.mock.calls).toEqual([[id]]);
      // A failure reported after delivery is an outcome replacing an outcome: ignored.
      await report('undelivered', { ErrorCode: '30003' });
      expect((await findMessage(c.db.kysely, id))?.status).toBe('delivered');
    } finally {
      off();
    }
  });

  test('status callbacks: error codes become the reason; 21610 suppresses the number', async () => {
    const c = ctx();
    const unreachable = await sentMessage(c, '+15005550109', 'SMstatus0000000000000000000000002');
    await twilio(c, TWILIO_STATUS_PATH, {
      MessageSid: 'SMstatus0000000000000000000000002',
      MessageStatus: 'undelivered',
      ErrorCode: '30003',
    });
    expect(await findMessage(c.db.kysely, unreachable)).toMatchObject({
      status: 'bounced',
      statusReason: '30003 Unreachable destination handset',
    });
    expect(await isSuppressed(c.db.kysely, 'sms', '+15005550109')).toBe(false);

    const optedOut = await sentMessage(c, '+15005550110', 'SMstatus0000000000000000000000003');
    await twilio(c, TWILIO_STATUS_PATH, {
      MessageSid: 'SMstatus0000000000000000000000003',
      MessageStatus: 'failed',
      ErrorCode: '21610',
    });
    expect(await findMessage(c.db.kysely, optedOut)).toMatchObject({
      status: 'failed',
      statusReason: '21610 Attempt to send to unsubscribed recipient',
    });
    expect(await isSuppressed(c.db.kysely, 'sms', '+15005550110')).toBe(true);
  });

  test('status callbacks for unknown messages or states answer 200 and change nothing', async () => {
    const c = ctx();
    for (const params of [
      { MessageSid: 'SMnobody', MessageStatus: 'delivered' },
      { MessageSid: 'SMnobody', MessageStatus: 'receiving' },
      { MessageSid: 'SMnobody', MessageStatus: 'something-new' },
    ]) {
      expect((await twilio(c, TWILIO_STATUS_PATH, params)).statusCode).toBe(200);
    }
    const bad = await twilio(c, TWILIO_STATUS_PATH, { MessageSid: 'SMnobody' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('validation_failed');
  });

  test('JSON webhooks are verified through bodySHA256; without it, or with another body, 403', async () => {
    const c = ctx();
    const payload = JSON.stringify({ MessageSid: 'SMjson1', From: '+15005550111', To: '+15005550006', Body: 'hello from json' });
    const hash = createHash('sha256').update(payload).digest('hex');
    const path = `${TWILIO_INBOUND_PATH}?bodySHA256=${hash}`;
    const signature = sign(c, path, {});
    const post = (url: string, body: string, sig: string) =>
      c.app.inject({
        method: 'POST',
        url,
        headers: { 'content-type': 'application/json', 'x-twilio-signature': sig },
        payload: body,
      });
    const ok = await post(path, payload, signature);
    expect(ok.statusCode).toBe(200);
    expect(await findInboundByProviderId(c.db.kysely, 'SMjson1')).toMatchObject({
      body: 'hello from json',
      kind: 'conversation',
    });
    expect((await post(path, payload.replace('hello', 'STOP!'), signature)).statusCode).toBe(403);
    expect((await post(TWILIO_INBOUND_PATH, payload, sign(c, TWILIO_INBOUND_PATH, {}))).statusCode).toBe(403);
    // Signed, but not JSON: the signature passes, the body does not.
    const junk = '{not json';
    const junkPath = `${TWILIO_INBOUND_PATH}?bodySHA256=${createHash('sha256').update(junk).digest('hex')}`;
    expect((await post(junkPath, junk, sign(c, junkPath, {}))).statusCode).toBe(400);
  });

  test('garbage never produces a 500: unsigned → 403, signed but malformed → 400', async () => {
    const c = ctx();
    const failures: string[] = [];
    for (const path of [TWILIO_INBOUND_PATH, TWILIO_STATUS_PATH]) {
      const attempts: Array<{ type: string; payload: string; signed?: boolean }> = [
        { type: 'application/json', payload: '[]' },
        { type: 'application/json', payload: '{"__proto__":{"x":1}}' },
        { type: 'application/json', payload: 'null' },
        { type: FORM, payload: '%%%&&&==' },
        { type: FORM, payload: 'MessageSid=a&MessageSid=b&From=x' },
        { type: FORM, payload: '' },
        { type: FORM, payload: 'MessageSid=a&MessageSid=b&From=x&To=y&MessageStatus=sent', signed: true },
        { type: FORM, payload: 'Body=only', signed: true },
        { type: 'text/plain', payload: 'hello' },
        { type: 'multipart/form-data; boundary=x', payload: '--x--' },
      ];
      for (const a of attempts) {
        const params: Record<string, string | string[]> = {};
        for (const [k, v] of new URLSearchParams(a.payload)) {
          const prev = params[k];
          params[k] = prev === undefined ? v : [...[prev].flat(), v];
        }
        const headers: Record<string, string> = { 'content-type': a.type };
        if (a.signed) headers['x-twilio-signature'] = computeTwilioSignature(TOKEN, `${c.config.publicUrl}${path}`, params);
        const res = await c.app.inject({ method: 'POST', url: path, headers, payload: a.payload });
        const expected = a.signed ? 400 : [403, 415];
        if (
          res.statusCode >= 500 ||
          (typeof expected === 'number' ? res.statusCode !== expected : !expected.includes(res.statusCode))
        )
          failures.push(`${path} ${a.type} ${a.payload} → ${res.statusCode} ${res.body}`);
      }
    }
    expect(failures).toEqual([]);
  });

  test('without twilio.authToken the hooks answer 503 not_configured', async () => {
    const c = ctx();
    const config = { ...c.config, twilio: { ...c.config.twilio, authToken: undefined } };
    const built = await buildApp({ config, db: c.db, clock: c.clock, log: c.services.log, services: { ...c.services, config } });
    try {
      const res = await built.app.inject({
        method: 'POST',
        url: TWILIO_INBOUND_PATH,
        headers: { 'content-type': FORM, 'x-twilio-signature': 'x' },
        payload: new URLSearchParams(sms('+15005550112', 'STOP')).toString(),
      });
      expect(res.statusCode).toBe(503);
      expect(res.json().error).toMatchObject({ code: 'not_configured' });
      expect(res.json().error.message).toContain('twilio.authToken');
    } finally {
      await built.app.close();
    }
  });

  test('the hooks and the unsubscribe page are documented as public routes', async () => {
    const c = ctx();
    const doc = (await c.call('GET', '/api/openapi.json')).json();
    for (const [path, method] of [
      [TWILIO_INBOUND_PATH, 'post'],
      [TWILIO_STATUS_PATH, 'post'],
      ['/u/{token}', 'get'],
      ['/u/{token}', 'post'],
    ] as const) {
      expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
      expect(doc.paths[path][method].security).toBeUndefined();
    }
    expect(doc.paths[TWILIO_INBOUND_PATH].post.requestBody.content[FORM]).toBeDefined();
  });

  describeUnsubscribe(ctx);
});

function describeUnsubscribe(ctx: () => TestContext): void {
  const linkFor = async (c: TestContext, address: string, m?: string) => {
    const url = unsubscribeUrl(c.config.publicUrl, await c.services.secret.get(), { c: 'email', a: address, ...(m && { m }) });
    return url.slice(c.config.publicUrl.length);
  };

  test('GET shows the masked address (escaped) and a button; it changes nothing', async () => {
    const c = ctx();
    const path = await linkFor(c, '<img src=x onerror=alert(1)>@example.test');
    const res = await c.call('GET', path);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.headers['content-security-policy']).toContain("script-src 'self'");
    expect(res.headers['content-security-policy']).toContain("form-action 'self'");
    expect(res.body).toContain('&lt;•••@e•••.test');
    expect(res.body).not.toContain('<img');
    expect(res.body).not.toContain('onerror');
    expect(res.body).toContain(`<form method="post" action="${c.config.publicUrl}${path}">`);
    expect(res.body).toContain('name="via" value="page"');
    expect(await isSuppressed(c.db.kysely, 'email', '<img src=x onerror=alert(1)>@example.test')).toBe(false);
  });

  test('RFC 8058 one-click POST (form or multipart) suppresses: plain 200, idempotent, audited without the address', async () => {
    const c = ctx();
    const path = await linkFor(c, 'Buyer.One@Example.test', 'msg-123');
    const res = await postForm(c, path, 'List-Unsubscribe=One-Click');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(await isSuppressed(c.db.kysely, 'email', 'buyer.one@example.test')).toBe(true);
    const suppression = (await listSuppressions(c.db.kysely, { channel: 'email', limit: 100 })).find(
      (s) => s.address === 'buyer.one@example.test',
    );
    expect(suppression).toMatchObject({ reason: 'unsubscribe', source: 'one-click' });

    const again = await postForm(c, path, 'List-Unsubscribe=One-Click');
    expect(again.statusCode).toBe(200);
    const audit = (await listAudit(c.db.kysely, { action: 'suppression.add', limit: 100 })).filter(
      (a) => a.target?.id === 'msg-123',
    );
    expect(audit).toHaveLength(1);
    expect(audit[0]?.details).toEqual({ channel: 'email', reason: 'unsubscribe', source: 'one-click' });
    expect(audit[0]?.ip).toBeNull();
    expect(JSON.stringify(audit)).not.toMatch(/buyer/i);

    const multipartPath = await linkFor(c, 'buyer.two@example.test');
    const body = '--b0\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--b0--\r\n';
    const multipart = await c.app.inject({
      method: 'POST',
      url: multipartPath,
      headers: { 'content-type': 'multipart/form-data; boundary=b0' },
      payload: body,
    });
    expect(multipart.statusCode).toBe(200);
    expect(await isSuppressed(c.db.kysely, 'email', 'buyer.two@example.test')).toBe(true);
  });

  test('the page button suppresses and confirms with a page; GET then says already unsubscribed', async () => {
    const c = ctx();
    const path = await linkFor(c, 'buyer.three@example.test');
    const res = await postForm(c, path, 'via=page');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    expect(res.body).toContain('You are unsubscribed');
    expect(res.body).toContain('b•••@e•••.test');
    expect(
      (await listSuppressions(c.db.kysely, { channel: 'email', limit: 100 })).find(
        (s) => s.address === 'buyer.three@example.test',
      ),
    ).toMatchObject({ source: 'page' });
    expect((await c.call('GET', path)).body).toContain('already unsubscribed');
  });

  test('a POST that is neither one-click nor the page form changes nothing (400 page)', async () => {
    const c = ctx();
    const path = await linkFor(c, 'buyer.four@example.test');
    for (const res of [
      await postForm(c, path, 'something=else'),
      await c.app.inject({ method: 'POST', url: path }),
      await c.call('POST', path, { body: { anything: true } }),
    ]) {
      expect(res.statusCode).toBe(400);
    }
    expect(await isSuppressed(c.db.kysely, 'email', 'buyer.four@example.test')).toBe(false);
  });

  test('an invalid or tampered token: 400 page, never a 500', async () => {
    const c = ctx();
    const path = await linkFor(c, 'buyer.five@example.test');
    const [body, mac] = path.slice('/u/'.length).split('.') as [string, string];
    const forged = Buffer.from(JSON.stringify({ c: 'email', a: 'victim@example.test' })).toString('base64url');
    for (const bad of ['/u/nonsense', `/u/${forged}.${mac}`, `/u/${body}.${mac.slice(0, -3)}abc`, '/u/a.b']) {
      for (const res of [await c.call('GET', bad), await postForm(c, bad, 'List-Unsubscribe=One-Click')]) {
        expect(res.statusCode, bad).toBe(400);
        expect(res.body).toContain('This link is not valid');
      }
    }
    // Undecodable percent-encoding is refused by the router itself, before any handler.
    expect((await c.call('GET', '/u/%E0%A4%A')).statusCode).toBe(400);
    expect(await isSuppressed(c.db.kysely, 'email', 'victim@example.test')).toBe(false);
  });
}
