import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { TEST_ACTOR, type TestContext, useTestContext } from '../../test/harness/context.js';
import { describeEachDialect } from '../../test/harness/databases.js';
import { HOUR, MINUTE } from '../core/clock.js';
import { seedDefaultTemplates } from '../messaging/default-templates.js';
import { ACTION_JOB, DEADLINE_JOB } from './playbook.service.js';

const PLAYBOOK_EVENTS = ['playbook.action', 'playbook.fallback_enabled', 'playbook.checklist_done', 'playbook.checklist_overdue'];

async function declare(c: TestContext, body: Record<string, unknown>): Promise<string> {
  const res = await c.call('POST', '/api/v1/incidents', { token: await c.token('commander'), body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id as string;
}

async function update(c: TestContext, id: string, body: Record<string, unknown>): Promise<void> {
  const res = await c.call('POST', `/api/v1/incidents/${id}/updates`, { token: await c.token('commander'), body });
  expect(res.statusCode, res.body).toBe(201);
}

async function checklist(c: TestContext, id: string) {
  const res = await c.call('GET', `/api/v1/incidents/${id}/checklist`, { token: await c.token('viewer') });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as {
    drill: boolean;
    items: Array<{
      id: string;
      state: string;
      role: string;
      due_at: string | null;
      overdue: boolean;
      done_by: { type: string; name: string | null } | null;
      done_by_event: { type: string | null } | null;
      note: string | null;
    }>;
    actions: Array<{ rule: string; action: string; outcome: string; detail: string }>;
  };
}

const item = (list: Awaited<ReturnType<typeof checklist>>, id: string) => list.items.find((i) => i.id === id);

async function events(c: TestContext, id: string, types: string[] = PLAYBOOK_EVENTS) {
  return (await c.services.incidents.timeline(id)).filter((e) => types.includes(e.type));
}

describeEachDialect('playbook engine: checklist and deadlines (built-in playbook)', (dialect) => {
  const ctx = useTestContext(dialect);

  test('GET /api/v1/playbook: the built-in playbook when playbooks/showroom.yaml is absent', async () => {
    const c = ctx();
    const res = await c.call('GET', '/api/v1/playbook', { token: await c.token('viewer') });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.source).toEqual({ file: null, built_in: true });
    expect(body.playbook.cadence.acknowledgeWithin).toBe(15 * MINUTE);
    expect(body.playbook.checklist).toHaveLength(8);
  });

  test('declaring creates the checklist with its deadlines; the first public update completes the acknowledgement by itself', async () => {
    const c = ctx();
    const t0 = c.clock.now();
    const id = await declare(c, { name: 'Showroom down' });
    let list = await checklist(c, id);
    expect(list.items.map((i) => i.id)).toEqual([
      'commander',
      'acknowledge',
      'fallback',
      'crm',
      'outreach',
      'call-tier-a',
      'log-interactions',
      'report',
    ]);
    expect(item(list, 'acknowledge')).toMatchObject({
      state: 'open',
      role: 'commander',
      due_at: new Date(t0 + 15 * MINUTE).toISOString(),
    });
    expect(item(list, 'report')?.due_at).toBeNull();

    c.clock.advance(6 * MINUTE);
    await update(c, id, { message: 'We are looking into slow product pages.' });
    list = await checklist(c, id);
    expect(item(list, 'acknowledge')).toMatchObject({ state: 'done', done_by_event: { type: 'update.published' } });
    const done = await events(c, id, ['playbook.checklist_done']);
    expect(done).toHaveLength(1);
    expect(done[0]?.data).toMatchObject({ item: 'acknowledge', cause: { event_type: 'update.published' } });
  });

  test('a person completes an item: who and the note are recorded, on the timeline too; twice is a conflict', async () => {
    const c = ctx();
    const id = await declare(c, { name: 'Checkout down' });
    const sales = await c.token('sales');
    const res = await c.call('POST', `/api/v1/incidents/${id}/checklist/call-tier-a/complete`, {
      token: sales,
      body: { note: 'Called all 4 Tier A accounts' },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      state: 'done',
      done_by: { type: 'token', name: 'test sales' },
      note: 'Called all 4 Tier A accounts',
    });
    const entry = (await events(c, id, ['playbook.checklist_done'])).find((e) => e.data.item === 'call-tier-a');
    expect(entry?.actor).toMatchObject({ type: 'token', name: 'test sales' });

    const again = await c.call('POST', `/api/v1/incidents/${id}/checklist/call-tier-a/complete`, { token: sales });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.message).toContain('already done by test sales');
    const unknown = await c.call('POST', `/api/v1/incidents/${id}/checklist/nope/complete`, { token: sales });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().error.message).toContain('call-tier-a');
    const viewer = await c.call('POST', `/api/v1/incidents/${id}/checklist/outreach/complete`, {
      token: await c.token('viewer'),
    });
    expect(viewer.statusCode).toBe(403);
  });

  test('deadlines fire once at their due time, even when the deadline job runs twice; done items never go overdue', async () => {
    const c = ctx();
    const t0 = c.clock.now();
    const id = await declare(c, { name: 'API errors' });
    await update(c, id, { message: 'Investigating API errors.' });
    c.clock.set(t0 + 9 * MINUTE);
    await c.worker.pump();
    expect(await events(c, id, ['playbook.checklist_overdue'])).toHaveLength(0);

    c.clock.set(t0 + 16 * MINUTE);
    await c.worker.pump();
    let overdue = await events(c, id, ['playbook.checklist_overdue']);
    expect(overdue.map((e) => e.data.item).sort()).toEqual(['call-tier-a', 'commander']);
    expect(overdue[0]?.data.summary).toMatch(/Checklist overdue: ".+" \((commander|sales)\) was due by/);

    // The same deadline job again (a retry after a crash): nothing new.
    await c.db.tx((trx) =>
      c.services.jobs.enqueue(trx, {
        kind: DEADLINE_JOB,
        payload: { incidentId: id, itemId: 'commander', dueAt: t0 + 10 * MINUTE },
        key: `${DEADLINE_JOB}:replayed:${id}`,
      }),
    );
    await c.worker.pump();
    overdue = await events(c, id, ['playbook.checklist_overdue']);
    expect(overdue).toHaveLength(2);
    const list = await checklist(c, id);
    expect(item(list, 'commander')?.overdue).toBe(true);
    expect(item(list, 'acknowledge')).toMatchObject({ state: 'done', overdue: false });

    // The report is due 72 hours after the resolution, and the postmortem completes it.
    c.clock.set(t0 + 2 * HOUR);
    await update(c, id, { message: 'Resolved.', status: 'resolved' });
    expect(item(await checklist(c, id), 'report')?.due_at).toBe(new Date(t0 + 2 * HOUR + 72 * HOUR).toISOString());
    c.clock.set(t0 + 30 * HOUR);
    await update(c, id, { message: 'Postmortem: a certificate expired.', status: 'postmortem' });
    c.clock.set(t0 + 80 * HOUR);
    await c.worker.pump();
    expect(item(await checklist(c, id), 'report')).toMatchObject({ state: 'done', overdue: false });
    expect((await events(c, id, ['playbook.checklist_overdue'])).map((e) => e.data.item)).not.toContain('report');
  });

  test('an incident resolved before a deadline counted from the declaration does not go overdue', async () => {
    const c = ctx();
    const t0 = c.clock.now();
    const id = await declare(c, { name: 'Blip' });
    c.clock.set(t0 + 5 * MINUTE);
    await update(c, id, { message: 'A short blip; all fine again.', status: 'resolved' });
    c.clock.set(t0 + 40 * MINUTE);
    await c.worker.pump();
    expect(await events(c, id, ['playbook.checklist_overdue'])).toHaveLength(0);
    expect(item(await checklist(c, id), 'report')?.due_at).toBe(new Date(t0 + 5 * MINUTE + 72 * HOUR).toISOString());
  });

  test('a drill runs the same playbook: same checklist, and the CRM item is done by the drill skip', async () => {
    const c = ctx();
    const id = await declare(c, { name: 'Quarterly drill', drill: true });
    await c.worker.pump(); // the CRM's drill rehearsal runs as a job, as for a real incident
    const list = await checklist(c, id);
    expect(list.drill).toBe(true);
    expect(list.items).toHaveLength(8);
    expect(item(list, 'crm')).toMatchObject({ state: 'done', done_by_event: { type: 'crm.skipped' } });
  });
});

function writePlaybook(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kw-playbook-'));
  const file = join(dir, 'playbook.yaml');
  writeFileSync(file, text);
  return file;
}

const RULES_PLAYBOOK = `version: 1
crm:
  tagOnDeclare: false
rules:
  - name: cdn-down
    when: { event: incident.declared, channel: [CDN] }
    actions:
      - { action: acknowledge }
      - { action: enable_fallback }
      - { action: flip_flag, flag: showroom.checkout, value: false }
      - { action: tag_crm }
      - { action: notify, role: sales, via: email, template: email.hourly_update }
`;

describeEachDialect('playbook engine: automatic actions run once', (dialect) => {
  const ctx = useTestContext(dialect, {
    config: {
      playbook: writePlaybook(RULES_PLAYBOOK),
      'messaging.variables': { company: 'Acme' },
      'status.fallbackUrl': 'https://catalog.example.test',
    },
  });

  async function setup(c: TestContext) {
    await seedDefaultTemplates(c.db, c.clock, { approve: true });
    await c.services.auth.createUser(TEST_ACTOR, {
      email: 'rep@example.test',
      name: 'Rep',
      role: 'sales',
      password: 'a long enough password 1',
    });
    const cdn = await c.services.components.create(TEST_ACTOR, { name: 'CDN', kind: 'cdn' });
    const api = await c.services.components.create(TEST_ACTOR, { name: 'Product API', kind: 'api' });
    return { cdn: cdn.id, api: api.id };
  }

  async function counts(c: TestContext, id: string) {
    const timeline = await c.services.incidents.timeline(id);
    const messages = await c.db.kysely.selectFrom('messages').select('id').where('incident_id', '=', id).execute();
    const crmJobs = await c.db.kysely
      .selectFrom('jobs')
      .select('id')
      .where('idempotency_key', '=', `crm.outage.declared@${id}`)
      .execute();
    return {
      updates: timeline.filter((e) => e.type === 'update.published').length,
      playbook: timeline.filter((e) => PLAYBOOK_EVENTS.includes(e.type)).length,
      actions: (await checklist(c, id)).actions.length,
      messages: messages.length,
      crmJobs: crmJobs.length,
    };
  }

  test('a CDN declaration: acknowledged, fallback and flag pinned, CRM queued, sales emailed — each with its cause on the timeline', async () => {
    const c = ctx();
    const components = await setup(c);
    const playbookRes = await c.call('GET', '/api/v1/playbook', { token: await c.token('viewer') });
    expect(playbookRes.json().source.built_in).toBe(false);
    expect(playbookRes.json().playbook.rules[0].name).toBe('cdn-down');

    const id = await declare(c, { name: 'CDN outage', components: [{ id: components.cdn, status: 'major_outage' }] });
    await c.worker.pump();

    const list = await checklist(c, id);
    expect(list.actions.map((a) => [a.action, a.outcome])).toEqual([
      ['acknowledge', 'done'],
      ['enable_fallback', 'done'],
      ['flip_flag', 'done'],
      ['tag_crm', 'done'],
      ['notify', 'done'],
    ]);
    const timeline = await c.services.incidents.timeline(id);
    const ack = timeline.filter((e) => e.type === 'update.published');
    expect(ack).toHaveLength(1);
    expect(ack[0]?.actor.name).toBe('Playbook rule cdn-down');
    const declared = timeline.find((e) => e.type === 'incident.declared');
    for (const entry of timeline.filter((e) => e.type === 'playbook.action' || e.type === 'playbook.fallback_enabled')) {
      expect(entry.data.cause).toMatchObject({ rule: 'cdn-down', event_id: declared?.id, event_type: 'incident.declared' });
    }
    expect(timeline.find((e) => e.type === 'playbook.fallback_enabled')?.data).toMatchObject({
      fallback_url: 'https://catalog.example.test',
    });
    expect(item(list, 'acknowledge')).toMatchObject({ state: 'done', done_by_event: { type: 'update.published' } });
    expect(item(list, 'fallback')).toMatchObject({ state: 'done', done_by_event: { type: 'playbook.fallback_enabled' } });

    expect((await c.services.flags.evaluate('showroom.checkout'))?.value).toBe(false);
    expect(await c.services.flags.evaluate('showroom.fallback_banner')).toMatchObject({ value: true, variant: 'override' });
    const sent = await c.db.kysely.selectFrom('messages').select(['recipient']).where('incident_id', '=', id).execute();
    expect(sent.map((m) => m.recipient)).toEqual(['rep@example.test']);

    // Replays: the same events reconciled again, and every action job run a second time.
    const before = await counts(c, id);
    expect(before).toMatchObject({ updates: 1, actions: 5, messages: 1, crmJobs: 1 });
    for (let i = 0; i < 3; i++) await c.services.playbook.reconcile(id);
    await c.db.tx(async (trx) => {
      for (let index = 0; index < 5; index++) {
        await c.services.jobs.enqueue(trx, {
          kind: ACTION_JOB,
          payload: { incidentId: id, rule: 'cdn-down', actionIndex: index, eventId: declared?.id },
          key: `${ACTION_JOB}:replayed:${id}:${index}`,
        });
      }
    });
    await c.worker.pump();
    expect(await counts(c, id)).toEqual(before);
  });

  test('rules follow their trigger: an API outage does not run the CDN rule', async () => {
    const c = ctx();
    const api = (await c.services.components.list()).find((x) => x.name === 'Product API');
    const id = await declare(c, { name: 'API outage', components: [{ id: api?.id, status: 'partial_outage' }] });
    await c.worker.pump();
    expect((await checklist(c, id)).actions).toEqual([]);
    expect(await events(c, id, ['update.published'])).toHaveLength(0);
  });

  test('a drill runs the rule, but flags, the fallback and the CRM are simulated', async () => {
    const c = ctx();
    await c.services.flags.setOverride(TEST_ACTOR, 'showroom.checkout', null, 'reset for the drill test');
    const cdn = (await c.services.components.list()).find((x) => x.name === 'CDN');
    const id = await declare(c, { name: 'CDN drill', drill: true, components: [{ id: cdn?.id, status: 'major_outage' }] });
    await c.worker.pump();
    const list = await checklist(c, id);
    expect(list.actions.map((a) => [a.action, a.outcome])).toEqual([
      ['acknowledge', 'done'],
      ['enable_fallback', 'simulated'],
      ['flip_flag', 'simulated'],
      ['tag_crm', 'simulated'],
      ['notify', 'done'],
    ]);
    // Not pinned again by the drill (the open API outage's own rule may still turn it off).
    expect((await c.services.flags.evaluate('showroom.checkout'))?.variant).not.toBe('override');
    expect(item(list, 'fallback')?.state).toBe('done');
  });
});
