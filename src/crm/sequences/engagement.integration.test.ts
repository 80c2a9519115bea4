import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, beforeEach, expect, test } from 'vitest';
import { createTestContext, type TestContext } from '../../../test/harness/context.js';
import { describeEachDialect } from '../../../test/harness/databases.js';
import { type SmtpSink, startSmtpSink } from '../../../test/harness/smtp-sink.js';
import { startTwilioStandin, type TwilioStandin } from '../../../test/harness/twilio-standin.js';
import { DAY, HOUR } from '../../core/clock.js';
import { newId } from '../../core/ids.js';
import { fromDbBool, toDbBool } from '../../db/codec.js';
import { seedDefaultTemplates } from '../../messaging/default-templates.js';
import { TWILIO_INBOUND_PATH } from '../../messaging/inbound/inbound.routes.js';
import { computeTwilioSignature } from '../../messaging/inbound/twilio-signature.js';
import { listMessages } from '../../messaging/messages.repo.js';
import { CHAT_PATH } from '../conversations/conversations.routes.js';
import { LINK_TTL_MS, signLink } from '../links.js';
import { listEnrollmentsOfLead } from './sequences.repo.js';
import { SEQUENCES_RUN_JOB } from './sequences.service.js';

const FALLBACK = 'https://catalog.northwind.test/';
const TEAM_CALENDAR = 'https://meet.northwind.test/team';
const OWNER_CALENDAR = 'https://meet.northwind.test/sam';
const LINK = /https:\/\/status\.example\.test(\/r\/[\w.-]+)/;
const LINKS = /https:\/\/status\.example\.test(\/r\/[\w.-]+)/g;

interface LeadInput {
  email?: string | null;
  phone?: string | null;
  firstName?: string;
  timezone?: string;
  ownerId?: string | null;
  consentSms?: string;
  consentEmail?: string;
}

describeEachDialect('CRM sequences, conversations and tracked links', (dialect) => {
  let c: TestContext;
  let smtp: SmtpSink;
  let twilio: TwilioStandin;
  let authToken: string;
  let sid = 0;
  const incidentId = newId();

  beforeAll(async () => {
    [smtp, twilio] = await Promise.all([startSmtpSink(), startTwilioStandin()]);
    const t = twilio.config();
    authToken = t.authToken;
    c = await createTestContext(dialect, {
      config: {
        'smtp.url': smtp.url,
        'messaging.from': 'Northwind <sales@northwind.test>',
        'messaging.postalAddress': '1 Harbour Road, Portland',
        'messaging.variables': {
          company: 'Northwind',
          sender_name: 'Sam Rivera',
          support_email: 'help@northwind.test',
          fallback_url: FALLBACK,
          calendar_link: TEAM_CALENDAR,
          assets_url: 'https://northwind.test/resources',
          webinar_url: 'https://northwind.test/webinar',
        },
        'twilio.accountSid': t.accountSid,
        'twilio.authToken': t.authToken,
        'twilio.baseUrl': t.baseUrl,
        'twilio.from': t.from,
        'twilio.perSenderPerSecond': 100,
      },
    });
    // 15:00 UTC: 10:00 in New York, 23:00 in Shanghai (quiet hours for marketing SMS).
    c.clock.set(Date.UTC(2026, 2, 10, 15, 0, 0));
    await seedDefaultTemplates(c.db, c.clock, { approve: true });
    await c.db.kysely
      .insertInto('owner_profiles')
      .values({
        user_id: 'owner-sam',
        phone: null,
        calendar_link: OWNER_CALENDAR,
        timezone: 'UTC',
        working_hours: JSON.stringify({ days: [0, 1, 2, 3, 4, 5, 6], start: '00:00', end: '23:59' }),
        updated_at: c.clock.now(),
      })
      .execute();
  }, 60_000);

  afterAll(async () => {
    await Promise.all([smtp?.stop(), twilio?.close()]);
    await c?.close();
  });

  beforeEach(async () => {
    await smtp.reset();
  });

  const pump = async () => {
    for (let i = 0; i < 3; i++) await c.worker.pump();
  };

  async function addLead(input: LeadInput): Promise<string> {
    const now = c.clock.now();
    const id = newId(now);
    await c.db.kysely
      .insertInto('leads')
      .values({
        id,
        external_id: null,
        email: input.email === undefined ? `${id}@buyer.test` : input.email,
        phone: input.phone ?? null,
        first_name: input.firstName ?? 'Dana',
        last_name: 'Buyer',
        title: null,
        company: 'Acme Retail',
        account_id: null,
        owner_id: input.ownerId ?? null,
        owner_ref: null,
        lifecycle: 'mql',
        crm_status: null,
        source: null,
        arr_potential: 12_000,
        cart_value: null,
        demo_scheduled_at: null,
        last_activity_at: null,
        timezone: input.timezone ?? 'America/New_York',
        consent_email: input.consentEmail ?? 'granted',
        consent_sms: input.consentSms ?? 'granted',
        attributes: '{}',
        outage_status: 'active',
        outage_channel: 'CDN',
        outage_priority: 'medium',
        fallback_sent: toDbBool(false),
        outage_incident_id: incidentId,
        tier: 'B',
        tier_rule: 'test',
        tagged_at: now,
        re_engaged_at: null,
        created_at: now,
        updated_at: now,
      })
      .execute();
    return id;
  }

  /** What the outage engine does after tagging: enroll, then one run job for the incident. */
  async function enroll(leadIds: string[], sequence: 'tier_b' | 'tier_c'): Promise<void> {
    const now = c.clock.now();
    await c.db.tx(async (trx) => {
      await trx
        .insertInto('enrollments')
        .values(
          leadIds.map((leadId) => ({
            id: newId(now),
            incident_id: incidentId,
            lead_id: leadId,
            sequence,
            step: 0,
            state: 'active',
            stop_reason: null,
            next_at: now,
            created_at: now,
            updated_at: now,
          })),
        )
        .execute();
      await c.services.jobs.enqueue(trx, {
        kind: SEQUENCES_RUN_JOB,
        payload: {},
        key: `${SEQUENCES_RUN_JOB}@${incidentId}:${leadIds.join(',')}`,
        runAt: now,
      });
    });
  }

  const lead = (id: string) => c.db.kysely.selectFrom('leads').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const smsTo = (phone: string) => twilio.messages.filter((m) => m.resource.to === phone).map((m) => m.resource.body);
  const tasksOf = (leadId: string) => c.db.kysely.selectFrom('tasks').selectAll().where('lead_id', '=', leadId).execute();

  function inboundSms(from: string, body: string): Promise<LightMyRequestResponse> {
    sid += 1;
    const messageSid = `SM${String(sid).padStart(32, '0')}`;
    const params = { MessageSid: messageSid, From: from, To: '+15005550006', Body: body, NumMedia: '0' };
    const signature = computeTwilioSignature(authToken, `${c.config.publicUrl}${TWILIO_INBOUND_PATH}`, params);
    return c.app.inject({
      method: 'POST',
      url: TWILIO_INBOUND_PATH,
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature },
      payload: new URLSearchParams(params).toString(),
    });
  }

  test('Tier B: SMS + spec pack email with signed links, the follow-up after 24 h, nothing twice; Tier C nurture', async () => {
    const bea = await addLead({ phone: '+14155550101', firstName: 'Bea', ownerId: 'owner-sam' });
    const night = await addLead({ phone: '+8613800000001', firstName: 'Li', timezone: 'Asia/Shanghai' });
    const noSmsConsent = await addLead({ phone: '+14155550103', consentSms: 'unknown' });
    const cleo = await addLead({ firstName: 'Cleo' });
    await enroll([bea, night, noSmsConsent], 'tier_b');
    await enroll([cleo], 'tier_c');
    await pump();

    // SMS with the reply menu to Bea; the Shanghai lead's is held by quiet hours (23:00 there).
    expect(smsTo('+14155550101')).toEqual([expect.stringMatching(/Hi Bea, .*Reply 1 for specs, 2 to book time/)]);
    expect(smsTo('+8613800000001')).toEqual([]);
    const [held] = await listMessages(c.db.kysely, { recipient: '+8613800000001', limit: 5 });
    expect(held?.status).toBe('queued');
    expect(held?.statusReason).toBe('deferred by quiet hours until 08:00 Asia/Shanghai');
    // Marketing SMS without recorded consent is not sent.
    expect(smsTo('+14155550103')).toEqual([]);

    const mails = await smtp.parsed();
    const beaEmail = (await lead(bea)).email as string;
    const beaMail = mails.find((m) => m.to.includes(beaEmail));
    expect(beaMail?.subject).toBe('Bea, the spec sheets you were looking at');
    const links = [...(beaMail?.html ?? '').matchAll(LINKS)].map((m) => m[1] as string);
    expect(links).toHaveLength(2);
    // The spec pack link leads to the fallback catalog, the booking link to the owner's calendar.
    const targets = await Promise.all(
      links.map(async (path) => (await c.app.inject({ method: 'GET', url: path })).headers.location),
    );
    expect(targets).toEqual([FALLBACK, OWNER_CALENDAR]);
    expect((await lead(bea)).re_engaged_at).not.toBeNull();
    expect(fromDbBool((await lead(bea)).fallback_sent)).toBe(true);
    expect(fromDbBool((await lead(cleo)).fallback_sent)).toBe(false);
    const cleoMail = mails.find((m) => m.subject === 'Resources from Northwind');
    expect(cleoMail?.html).toMatch(LINK);
    expect(mails).toHaveLength(4);
    expect((await listEnrollmentsOfLead(c.db.kysely, bea))[0]).toMatchObject({
      step: 1,
      state: 'active',
      nextAt: c.clock.now() + DAY,
    });

    // A re-run sends nothing again.
    await smtp.reset();
    const smsBefore = twilio.messages.length;
    await c.db.tx((trx) => c.services.sequences.schedule(trx, c.clock.now(), 'again'));
    await pump();
    expect(await smtp.count()).toBe(0);
    expect(twilio.messages.length).toBe(smsBefore);

    // Next morning in Shanghai the held SMS goes out; 24 h later Bea's follow-up.
    c.clock.advance(9 * HOUR + 1);
    await pump();
    expect(smsTo('+8613800000001')).toHaveLength(1);
    c.clock.advance(15 * HOUR);
    await pump();
    const followups = await smtp.parsed();
    expect(followups.map((m) => m.subject).sort()).toEqual([
      'Still deciding, Bea?',
      'Still deciding, Dana?',
      'Still deciding, Li?',
    ]);
    expect(followups.some((m) => m.subject?.startsWith('A seat is waiting'))).toBe(false);
    expect((await listEnrollmentsOfLead(c.db.kysely, bea))[0]).toMatchObject({ step: 2, state: 'completed' });

    // Tier C's second nurture comes three days after the first.
    await smtp.reset();
    c.clock.advance(2 * DAY);
    await pump();
    expect((await smtp.parsed()).map((m) => m.subject)).toEqual(['A seat is waiting for you, Cleo']);
    expect((await listEnrollmentsOfLead(c.db.kysely, cleo))[0]).toMatchObject({ state: 'completed' });
    expect(smsTo('+14155550101')).toHaveLength(1);
  }, 60_000);

  test('SMS replies: 1 → spec link and the sequence stops; 2 → booking link + owner task; free text → owner task', async () => {
    const one = await addLead({ phone: '+14155550201', firstName: 'Ona' });
    const two = await addLead({ phone: '+14155550202', firstName: 'Tom', ownerId: 'owner-sam' });
    const other = await addLead({ phone: '+14155550203', firstName: 'Oli' });
    await enroll([one, two, other], 'tier_b');
    await pump();

    expect((await inboundSms('+14155550201', ' 1 ')).statusCode).toBe(200);
    await pump();
    const [menu, specs] = smsTo('+14155550201');
    expect(menu).toMatch(/Reply 1 for specs/);
    const specPath = LINK.exec(specs ?? '')?.[1];
    expect(specPath).toBeDefined();
    expect((await c.app.inject({ method: 'GET', url: specPath as string })).headers.location).toBe(FALLBACK);
    expect((await listEnrollmentsOfLead(c.db.kysely, one))[0]).toMatchObject({ state: 'stopped', stopReason: 'replied' });
    expect((await lead(one)).re_engaged_at).toBe(c.clock.now());
    expect(await tasksOf(one)).toEqual([]);

    await inboundSms('+14155550202', '2');
    await pump();
    const booking = smsTo('+14155550202').at(-1);
    expect(booking).toMatch(/book a time with our team here/);
    const bookingPath = LINK.exec(booking ?? '')?.[1];
    expect((await c.app.inject({ method: 'GET', url: bookingPath as string })).headers.location).toBe(OWNER_CALENDAR);
    const [task] = await tasksOf(two);
    expect(task).toMatchObject({ kind: 'reply_followup', state: 'open', incident_id: incidentId });
    expect(task?.title).toMatch(/Tom Buyer asked to book time \(SMS\)/);
    expect((await listEnrollmentsOfLead(c.db.kysely, two))[0]?.state).toBe('stopped');

    await inboundSms('+14155550203', 'Can someone call me about the oak range?');
    await pump();
    expect(smsTo('+14155550203').at(-1)).toMatch(/a member of our team will get back to you/);
    expect((await tasksOf(other)).map((t) => t.kind)).toEqual(['reply_followup']);
    // A second reply answers again but does not duplicate the task.
    await inboundSms('+14155550203', 'Hello?');
    await pump();
    expect(smsTo('+14155550203').filter((b) => /get back to you/.test(b))).toHaveLength(2);
    expect(await tasksOf(other)).toHaveLength(1);
  }, 60_000);

  test('STOP stays with the keyword handling: confirmation, suppression, no conversation; then the sequence stops as unsubscribed', async () => {
    const quitter = await addLead({ phone: '+14155550301', email: null });
    await enroll([quitter], 'tier_b');
    await pump();
    expect(smsTo('+14155550301')).toHaveLength(1);
    const res = await inboundSms('+14155550301', 'STOP');
    expect(res.statusCode).toBe(200);
    await pump();
    expect(smsTo('+14155550301').at(-1)).toMatch(/you are unsubscribed/);
    const conv = await c.db.kysely.selectFrom('conversations').selectAll().where('address', '=', '+14155550301').execute();
    expect(conv).toEqual([]);
    expect((await lead(quitter)).re_engaged_at).toBeNull();
    // At the next step the lead has no usable channel left: stopped, nothing sent.
    c.clock.advance(DAY);
    await pump();
    expect((await listEnrollmentsOfLead(c.db.kysely, quitter))[0]).toMatchObject({
      state: 'stopped',
      stopReason: 'unsubscribed',
    });
    expect(smsTo('+14155550301')).toHaveLength(2);
  }, 30_000);

  test('a forged, altered or expired link answers 400 and never redirects', async () => {
    const id = await addLead({});
    const secret = await c.services.secret.get();
    const good = signLink(c.config.publicUrl, secret, {
      leadId: id,
      incidentId,
      url: FALLBACK,
      kind: 'spec',
      now: c.clock.now(),
    });
    const path = new URL(good).pathname;
    const [body, mac] = path.slice(3).split('.') as [string, string];
    const evil = Buffer.from(JSON.stringify({ l: id, u: 'https://evil.test/', k: 'spec', e: c.clock.now() + DAY })).toString(
      'base64url',
    );
    for (const bad of [`/r/${evil}.${mac}`, `/r/${body}.${mac.slice(0, -2)}xx`, '/r/nonsense']) {
      const res = await c.app.inject({ method: 'GET', url: bad });
      expect(res.statusCode, bad).toBe(400);
      expect(res.headers.location).toBeUndefined();
      expect(res.body).toContain('This link is not valid');
    }
    const old = signLink(c.config.publicUrl, secret, {
      leadId: id,
      incidentId,
      url: FALLBACK,
      kind: 'spec',
      now: c.clock.now() - LINK_TTL_MS - 1,
    });
    const expired = await c.app.inject({ method: 'GET', url: new URL(old).pathname });
    expect(expired.statusCode).toBe(400);
    expect(expired.body).toContain('This link has expired');
    expect((await lead(id)).re_engaged_at).toBeNull();
    const ok = await c.app.inject({ method: 'GET', url: path });
    expect(ok.statusCode).toBe(302);
    expect(ok.headers.location).toBe(FALLBACK);
  });

  test('chat: the menu, links by number, a known lead re-engages and books with an owner task; bad input and floods refused', async () => {
    const session = 'chat-session-0001';
    const say = (text: string, email?: string) => c.call('POST', CHAT_PATH, { body: { session, text, ...(email && { email }) } });
    const first = await say('hello');
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ choice: 'menu', identified: false });
    expect(first.json().reply).toMatch(/1 - Spec sheets[\s\S]*2 - Book a live demo[\s\S]*3 - Compare/);
    // Anonymous: plain links (nobody to attribute a click to).
    expect((await say('1')).json().reply).toContain(FALLBACK);
    expect((await say('3')).json().reply).toContain(FALLBACK);

    const known = await addLead({ email: 'kim@buyer.test', firstName: 'Kim', ownerId: 'owner-sam' });
    await enroll([known], 'tier_c');
    await pump();
    const demo = await say('2', 'Kim@Buyer.test');
    expect(demo.json()).toMatchObject({ choice: 'booking', identified: true });
    const path = LINK.exec(demo.json().reply)?.[1];
    expect((await c.app.inject({ method: 'GET', url: path as string })).headers.location).toBe(OWNER_CALENDAR);
    expect((await lead(known)).re_engaged_at).not.toBeNull();
    expect((await tasksOf(known)).map((t) => t.title)).toEqual(['Kim Buyer asked to book time (chat)']);
    expect((await listEnrollmentsOfLead(c.db.kysely, known))[0]).toMatchObject({ state: 'stopped', stopReason: 'replied' });
    // The session remembers the lead; free text now goes to a person.
    expect((await say('Do you ship to Norway?')).json()).toMatchObject({ choice: 'person', identified: true });
    const conv = await c.db.kysely
      .selectFrom('conversations')
      .selectAll()
      .where('address', '=', session)
      .executeTakeFirstOrThrow();
    expect(conv).toMatchObject({ channel: 'chat', lead_id: known, state: 'handed_over' });
    expect(Number(conv.turns)).toBe(5);

    const bad = await c.call('POST', CHAT_PATH, { body: { text: 'hi' } });
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toContain('session');
    const badEmail = await c.call('POST', CHAT_PATH, { body: { session, text: 'hi', email: 'nope' } });
    expect(badEmail.statusCode).toBe(400);
    expect(badEmail.body).toContain('email');

    const flood = 'chat-session-flood';
    const codes: number[] = [];
    for (let i = 0; i < 21; i++)
      codes.push((await c.call('POST', CHAT_PATH, { body: { session: flood, text: 'hi' } })).statusCode);
    expect(codes.slice(0, 20).every((s) => s === 200)).toBe(true);
    expect(codes[20]).toBe(429);
  }, 30_000);
});
