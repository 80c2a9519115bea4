import { afterAll, beforeAll, expect, test } from 'vitest';
import { signInSession, TEST_ACTOR, type TestContext, useTestContext } from '../../../test/harness/context.js';
import { describeEachDialect } from '../../../test/harness/databases.js';
import { type HttpStandin, startHttpStandin } from '../../../test/harness/http-standin.js';
import { DAY, HOUR, MINUTE } from '../../core/clock.js';
import { newId } from '../../core/ids.js';
import { fromDbJson, toDbBool } from '../../db/codec.js';
import { seedDefaultTemplates } from '../../messaging/default-templates.js';
import { upsertOwnerProfile } from '../owners.repo.js';

const PASSWORD = 'correct horse battery';
const WEBHOOK_SECRET = 'whsec-drill-test-0123456789abcdef';

const signIn = (c: TestContext, email: string) => signInSession(c, email, PASSWORD);

/** Every column of every lead, in id order: a drill must leave all of it as it was. */
async function allLeads(c: TestContext) {
  return c.db.kysely.selectFrom('leads').selectAll().orderBy('id').execute();
}

describeEachDialect('crm outage engine: drills rehearse without touching leads or the CRM', (dialect) => {
  let receiver: HttpStandin;
  beforeAll(async () => {
    receiver = await startHttpStandin();
  });
  afterAll(async () => {
    await receiver?.close();
  });
  const ctx = useTestContext(dialect, {
    config: {
      'messaging.variables': {
        company: 'Northwind Showroom',
        sender_name: 'The Northwind team',
        support_email: 'help@northwind.test',
        fallback_url: 'https://catalog.northwind.test',
        assets_url: 'https://assets.northwind.test',
        webinar_url: 'https://webinar.northwind.test',
      },
      'messaging.postalAddress': '1 Harbour Road, Portsmouth',
      // The team's CRM (the tags webhook) listens on loopback: a drill must never call it.
      get 'crm.webhook'() {
        return { url: `${receiver.url}/crm-hook`, secret: WEBHOOK_SECRET };
      },
    },
  });
  const ids: Record<string, string> = {};
  let commander = '';
  let realId = '';
  let drillId = '';
  let before: Awaited<ReturnType<typeof allLeads>> = [];

  beforeAll(async () => {
    const c = ctx();
    await seedDefaultTemplates(c.db, c.clock, { approve: true });
    commander = await c.token('commander');
    const alice = await c.services.auth.createUser(TEST_ACTOR, {
      email: 'alice@northwind.test',
      name: 'Alice Seller',
      role: 'sales',
      password: PASSWORD,
    });
    ids.alice = alice.id;
    const now = c.clock.now();
    await c.db.tx((trx) =>
      upsertOwnerProfile(
        trx,
        {
          user_id: alice.id,
          phone: '+14155550100',
          calendar_link: 'https://cal.northwind.test/alice',
          timezone: 'UTC',
          working_hours: { days: [1, 2, 3, 4, 5], start: '08:00', end: '17:00' },
        },
        now,
      ),
    );
    const lead = (id: string, fields: Record<string, unknown>) => ({
      id,
      email: `${id}@lead.test`,
      phone: null,
      first_name: id.toUpperCase(),
      last_name: null,
      company: `${id} Ltd`,
      owner_id: alice.id,
      lifecycle: 'lead',
      arr_potential: null,
      demo_scheduled_at: null,
      last_activity_at: null,
      fallback_sent: toDbBool(false),
      attributes: '{}',
      consent_email: 'granted',
      consent_sms: 'granted',
      created_at: now,
      updated_at: now,
      ...fields,
    });
    await c.db.kysely
      .insertInto('leads')
      .values([
        // Tier A: demo today, ARR over $25K.
        lead('ada', { arr_potential: 50_000, demo_scheduled_at: now + 2 * HOUR, phone: '+14155550111' }),
        // Tier B: a recent cart, $5K-$25K.
        lead('bea', { arr_potential: 10_000, phone: '+14155550122', last_activity_at: now - DAY }),
        // Tier C.
        lead('cyd', { arr_potential: 1_000 }),
        // A customer: never part of an outage's pipeline.
        lead('cus', { lifecycle: 'customer', arr_potential: 90_000, demo_scheduled_at: now + HOUR }),
      ])
      .execute();
    Object.assign(ids, { ada: 'ada', bea: 'bea', cyd: 'cyd', cus: 'cus' });
    await c.db.kysely
      .insertInto('intent_events')
      .values({
        id: newId(now),
        message_id: newId(now),
        lead_id: 'bea',
        type: 'cart_updated',
        product: 'Aurora Sofa',
        properties: '{}',
        at: now - DAY,
        received_at: now - DAY,
      })
      .execute();

    // A real outage is open on the API: it tags the pipeline, creates tasks and enrollments.
    const api = await c.call('POST', '/api/v1/components', { token: commander, body: { name: 'Showroom API', kind: 'api' } });
    const real = await c.call('POST', '/api/v1/incidents', {
      token: commander,
      body: { name: 'Showroom API down', components: [{ id: api.json().id, status: 'major_outage' }] },
    });
    expect(real.statusCode).toBe(201);
    realId = real.json().id;
    await c.worker.pump();
    const tagged = await c.db.kysely
      .selectFrom('leads')
      .select(['id', 'tier'])
      .where('outage_incident_id', '=', realId)
      .orderBy('id')
      .execute();
    expect(tagged).toEqual([
      { id: 'ada', tier: 'A' },
      { id: 'bea', tier: 'B' },
      { id: 'cyd', tier: 'C' },
    ]);
    // The real outage's tags reached the team's CRM (so the drill's silence below means something).
    expect(receiver.requests.some((r) => r.body.includes(realId))).toBe(true);
  });

  test('a drill declaration: drill tiers, Tier A call tasks, first sequence step to the sinks; no lead or CRM change', async () => {
    const c = ctx();
    before = await allLeads(c);
    const requestsBefore = receiver.requests.length;
    c.clock.advance(10 * MINUTE);
    const cdn = await c.call('POST', '/api/v1/components', { token: commander, body: { name: 'Showroom CDN', kind: 'cdn' } });
    const res = await c.call('POST', '/api/v1/incidents', {
      token: commander,
      body: { name: 'CDN drill', drill: true, components: [{ id: cdn.json().id, status: 'major_outage' }] },
    });
    expect(res.statusCode).toBe(201);
    drillId = res.json().id;
    const declaredAt = c.clock.now();
    c.clock.advance(3_000);
    await c.worker.pump();

    // Every column of every lead is as it was (the real outage's tags included).
    expect(await allLeads(c)).toEqual(before);

    // The tiers the same rules give, kept for the drill only (the real outage's leads included).
    const drillLeads = await c.db.kysely
      .selectFrom('drill_leads')
      .select(['lead_id', 'tier', 'rule'])
      .where('incident_id', '=', drillId)
      .orderBy('lead_id')
      .execute();
    expect(drillLeads).toEqual([
      { lead_id: 'ada', tier: 'A', rule: 'demo today, ARR over $25K' },
      { lead_id: 'bea', tier: 'B', rule: 'recent views or cart, $5K-$25K' },
      { lead_id: 'cyd', tier: 'C', rule: 'rest of the pipeline' },
    ]);

    // Owner tasks as for a real incident, labelled as a drill.
    const tasks = await c.db.kysely.selectFrom('tasks').selectAll().where('incident_id', '=', drillId).execute();
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({
      lead_id: 'ada',
      kind: 'call_now',
      owner_id: ids.alice,
      state: 'open',
      title: 'Drill: Call ADA now (ada Ltd)',
      created_at: declaredAt + 3_000,
      due_at: declaredAt + 15 * MINUTE,
    });
    expect(tasks[0]?.script).toMatch(/^DRILL: a rehearsal\. Do not call the lead/);
    expect(tasks[0]?.script).toContain('https://cal.northwind.test/alice');

    // The first step of the tier sequences, as drill messages with the tier, delivered by the sinks only.
    const messages = await c.db.kysely
      .selectFrom('messages')
      .select(['id', 'recipient_ref', 'channel', 'template_key', 'drill', 'metadata', 'status', 'body_text'])
      .where('incident_id', '=', drillId)
      .where('recipient_ref', 'like', 'lead:%')
      .orderBy('recipient_ref')
      .orderBy('template_key')
      .execute();
    expect(
      messages.map((m) => ({
        ref: m.recipient_ref,
        template: m.template_key,
        drill: m.drill === true || m.drill === 1,
        tier: fromDbJson<Record<string, unknown>>(m.metadata, {}).tier,
        status: m.status,
      })),
    ).toEqual([
      { ref: 'lead:bea', template: 'email.spec_pack', drill: true, tier: 'B', status: 'delivered' },
      { ref: 'lead:bea', template: 'sms.high_intent', drill: true, tier: 'B', status: 'delivered' },
      { ref: 'lead:cyd', template: 'email.nurture', drill: true, tier: 'C', status: 'delivered' },
    ]);
    // Untracked links: following one must not re-engage a real lead.
    const specPack = messages.find((m) => m.template_key === 'email.spec_pack');
    expect(specPack?.body_text).toContain('https://catalog.northwind.test');
    expect(specPack?.body_text).not.toContain('/l/');
    // The nurture email's unsubscribe link (whoever opens the sink's copy) says it is a drill and changes nothing.
    const nurture = messages.find((m) => m.template_key === 'email.nurture');
    const unsubscribe = new URL(
      fromDbJson<{ unsubscribe_url: string }>(nurture?.metadata, { unsubscribe_url: '' }).unsubscribe_url,
    );
    expect(nurture?.body_text).toContain(unsubscribe.href);
    const page = await c.call('GET', unsubscribe.pathname);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('This link is from a drill');
    expect(page.body).not.toContain('<form');
    const oneClick = await c.call('POST', unsubscribe.pathname, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    expect(oneClick.statusCode).toBe(200);
    expect(oneClick.body).toBe('Drill message: nothing was changed.\n');
    expect(await c.db.kysely.selectFrom('suppressions').select('address').execute()).toEqual([]);
    const attempts = await c.db.kysely
      .selectFrom('message_attempts')
      .select('provider')
      .where(
        'message_id',
        'in',
        messages.map((m) => m.id),
      )
      .execute();
    expect(attempts.length).toBeGreaterThanOrEqual(3);
    expect(attempts.every((a) => a.provider.startsWith('sink:'))).toBe(true);

    // No enrollments, no sequence run, no connector sync, no call to the team's CRM.
    expect(await c.db.kysely.selectFrom('enrollments').select('id').where('incident_id', '=', drillId).execute()).toEqual([]);
    const jobs = await c.db.kysely
      .selectFrom('jobs')
      .select(['kind', 'idempotency_key'])
      .where('kind', 'like', 'crm.%')
      .execute();
    const drillJobs = jobs.filter((j) => j.idempotency_key?.includes(drillId)).map((j) => j.kind);
    expect(drillJobs).toEqual(['crm.outage.declared']);
    expect(receiver.requests.slice(requestsBefore).filter((r) => r.body.includes(drillId))).toEqual([]);

    // The timeline says what a real incident would have done, and that nothing was changed.
    const events = await c.db.kysely
      .selectFrom('incident_events')
      .select(['type', 'data'])
      .where('incident_id', '=', drillId)
      .where('type', 'like', 'crm.%')
      .execute();
    expect(events.map((e) => e.type)).toEqual(['crm.skipped']);
    // The playbook's CRM checklist item completes on it, as on a real incident's crm.leads_tagged.
    const checklist = (await c.call('GET', `/api/v1/incidents/${drillId}/checklist`, { token: commander })).json() as {
      items: Array<{ id: string; state: string; done_by_event: { type: string | null } | null }>;
    };
    expect(checklist.items.find((i) => i.id === 'crm')).toMatchObject({ state: 'done', done_by_event: { type: 'crm.skipped' } });
    expect(JSON.parse(events[0]?.data as string).message).toBe(
      'CRM (drill): 3 leads would be tagged — A 1, B 1, C 1; 1 call tasks for the rehearsal (1 Tier A, 0 account); 3 messages to the sinks; leads and the CRM were not changed.',
    );
  });

  test('replaying the declaration (hook and job) adds no task, message or timeline entry', async () => {
    const c = ctx();
    const count = async () => ({
      tasks: (await c.db.kysely.selectFrom('tasks').select('id').where('incident_id', '=', drillId).execute()).length,
      messages: (await c.db.kysely.selectFrom('messages').select('id').where('incident_id', '=', drillId).execute()).length,
      drillLeads: (await c.db.kysely.selectFrom('drill_leads').select('lead_id').where('incident_id', '=', drillId).execute())
        .length,
      events: (
        await c.db.kysely
          .selectFrom('incident_events')
          .select('id')
          .where('incident_id', '=', drillId)
          .where('type', '=', 'crm.skipped')
          .execute()
      ).length,
    });
    const first = await count();
    c.clock.advance(MINUTE);
    await c.db.tx((trx) =>
      c.services.crmOutage.onIncidentChange(trx, {
        type: 'declared',
        incidentId: drillId,
        at: c.clock.now(),
        drill: true,
        actor: TEST_ACTOR,
      }),
    );
    await c.worker.pump();
    const summary = await c.db.tx((trx) => c.services.crmOutage.rehearseDrill(trx, drillId));
    expect(summary).toMatchObject({ leads: 3, tiers: { A: 1, B: 1, C: 1 }, messages: 3, messages_by_tier: { B: 2, C: 1 } });
    expect(await c.db.tx((trx) => c.services.crmOutage.runDeclared(trx, drillId))).toBeNull();
    await c.worker.pump();
    expect(await count()).toEqual(first);
    expect(first).toEqual({ tasks: 1, messages: first.messages, drillLeads: 3, events: 1 });
    expect(await allLeads(c)).toEqual(before);
  });

  test('reps see drill tasks labelled DRILL; a drill outcome never changes the lead or its real sequences', async () => {
    const c = ctx();
    const alice = await signIn(c, 'alice@northwind.test');
    const mine = (await c.call('GET', `/api/v1/tasks?incident=${drillId}`, { headers: alice })).json().tasks;
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ drill: true, lead: { id: 'ada', tier: 'A', tier_rule: 'demo today, ARR over $25K' } });
    const realTasks = (await c.call('GET', `/api/v1/tasks?incident=${realId}`, { headers: alice })).json().tasks;
    expect(realTasks.every((t: { drill: boolean }) => t.drill === false)).toBe(true);

    const page = await c.call('GET', '/console/tasks', { headers: alice });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('<span class="badge drill">DRILL</span>');
    expect(page.body).toContain('Drill: Call ADA now (ada Ltd)');
    const queue = await c.call('GET', `/console/leads?incident=${drillId}&tier=B`, { token: commander });
    expect(queue.statusCode).toBe(200);
    expect(queue.body).toContain('DRILL');
    expect(queue.body).toContain('BEA');
    // The incident room counts the drill's tiers (the leads themselves carry none for it).
    const room = await c.call('GET', `/console/incidents/${drillId}`, { token: commander });
    expect(room.statusCode).toBe(200);
    for (const tier of ['A', 'B', 'C']) {
      expect(room.body).toMatch(new RegExp(`data-tier="${tier}"><a [^>]*>[^<]*</a>:\\s*<strong>1</strong> leads`));
    }

    // Bea is in the real outage with an active Tier B sequence; the drill's task on Ada is booked.
    const realEnrollments = async () =>
      c.db.kysely
        .selectFrom('enrollments')
        .select(['lead_id', 'state'])
        .where('incident_id', '=', realId)
        .orderBy('lead_id')
        .execute();
    const enrollmentsBefore = await realEnrollments();
    c.clock.advance(MINUTE);
    const done = await c.call('POST', `/api/v1/tasks/${mine[0].id}/outcome`, {
      headers: alice,
      body: { outcome: 'demo_booked', note: 'rehearsed' },
    });
    expect(done.statusCode).toBe(200);
    expect(done.json()).toMatchObject({ state: 'done', outcome: 'demo_booked', drill: true });
    expect(await allLeads(c)).toEqual(before);
    expect(await realEnrollments()).toEqual(enrollmentsBefore);
    const timeline = JSON.stringify((await c.call('GET', `/api/v1/incidents/${drillId}/timeline`, { token: commander })).json());
    expect(timeline).toContain('Drill: Call to ADA (ada Ltd): booked a demo — rehearsed');
  });

  test("the drill's resolution closes its open tasks; the leads and the real outage are untouched", async () => {
    const c = ctx();
    // One more drill task still open at the end of the drill.
    const now = c.clock.now();
    await c.db.kysely
      .insertInto('tasks')
      .values({
        id: newId(now),
        incident_id: drillId,
        lead_id: 'cyd',
        owner_id: ids.alice as string,
        kind: 'account_call',
        title: 'Drill: Check in with CYD',
        script: null,
        due_at: now + HOUR,
        state: 'open',
        outcome: null,
        outcome_note: null,
        assigned_reason: 'owner',
        created_at: now,
        updated_at: now,
        done_at: null,
      })
      .execute();
    const realTasksBefore = await c.db.kysely
      .selectFrom('tasks')
      .select(['id', 'state'])
      .where('incident_id', '=', realId)
      .orderBy('id')
      .execute();
    expect(realTasksBefore.some((t) => t.state === 'open')).toBe(true);
    c.clock.advance(5 * MINUTE);
    const res = await c.call('POST', `/api/v1/incidents/${drillId}/updates`, {
      token: commander,
      body: { status: 'resolved', message: 'Drill over.' },
    });
    expect(res.statusCode).toBeLessThan(300);
    await c.worker.pump();

    const tasks = await c.db.kysely
      .selectFrom('tasks')
      .select(['kind', 'state', 'outcome', 'outcome_note'])
      .where('incident_id', '=', drillId)
      .orderBy('kind')
      .execute();
    expect(tasks).toEqual([
      { kind: 'account_call', state: 'cancelled', outcome: null, outcome_note: 'drill over' },
      { kind: 'call_now', state: 'done', outcome: 'demo_booked', outcome_note: 'rehearsed' },
    ]);
    expect(await allLeads(c)).toEqual(before);
    expect(
      await c.db.kysely.selectFrom('tasks').select(['id', 'state']).where('incident_id', '=', realId).orderBy('id').execute(),
    ).toEqual(realTasksBefore);
    // No "we're back" emails, no recovery follow-ups for a drill.
    const resolvedMail = await c.db.kysely
      .selectFrom('messages')
      .select('id')
      .where('incident_id', '=', drillId)
      .where('template_key', '=', 'email.resolved')
      .execute();
    expect(resolvedMail).toEqual([]);
    const over = await c.db.kysely
      .selectFrom('incident_events')
      .select('data')
      .where('incident_id', '=', drillId)
      .where('type', '=', 'crm.drill_over')
      .executeTakeFirstOrThrow();
    expect(JSON.parse(over.data).message).toBe(
      'CRM (drill) over: 1 rehearsal tasks done, 1 still open cancelled (drill over); leads and the CRM were not changed.',
    );
    // The real outage goes on: its leads keep their tags.
    const real = await c.db.kysely
      .selectFrom('leads')
      .select(['id', 'outage_status'])
      .where('outage_incident_id', '=', realId)
      .orderBy('id')
      .execute();
    expect(real.every((l) => l.outage_status === 'active')).toBe(true);
  });
});
