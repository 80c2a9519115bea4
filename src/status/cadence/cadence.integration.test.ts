import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createTestContext, TEST_ACTOR, type TestContext } from '../../../test/harness/context.js';
import { describeEachDialect } from '../../../test/harness/databases.js';
import { type HttpStandin, startHttpStandin } from '../../../test/harness/http-standin.js';
import { MINUTE, toIso } from '../../core/clock.js';
import { seedDefaultTemplates } from '../../messaging/default-templates.js';
import { listMessages } from '../../messaging/messages.repo.js';
import { ESCALATED_EVENT, HOLDING_TEMPLATE, REMINDER_EVENT } from './cadence.service.js';

const FALLBACK = 'https://catalog.example.test';

/** A context with the default library approved and Slack going to a local stand-in. */
function useCadenceContext(dialect: 'sqlite' | 'postgres', config: Record<string, unknown> = {}) {
  let ctx: TestContext | undefined;
  let slack: HttpStandin | undefined;
  beforeAll(async () => {
    slack = await startHttpStandin();
    ctx = await createTestContext(dialect, {
      // Acknowledged by hand (no automatic acknowledgement), so the reminders and escalation show.
      config: {
        playbook: fileURLToPath(new URL('../../../test/harness/playbooks/manual-ack.yaml', import.meta.url)),
        'slack.webhookUrl': `${slack.url}/services/T000/B000/XXXX`,
        'status.fallbackUrl': FALLBACK,
        ...config,
      },
    });
    await seedDefaultTemplates(ctx.db, ctx.clock, { approve: true });
    await ctx.services.auth.createUser(TEST_ACTOR, {
      email: 'backup@example.test',
      name: 'Backup Admin',
      role: 'admin',
      password: 'a long enough password 1',
    });
  });
  afterAll(async () => {
    await ctx?.close();
    await slack?.close();
  });
  return {
    ctx: () => ctx as TestContext,
    slack: () => slack as HttpStandin,
  };
}

async function declare(c: TestContext, body: Record<string, unknown>): Promise<string> {
  const token = await c.token('commander');
  const res = await c.call('POST', '/api/v1/incidents', { token, body });
  expect(res.statusCode).toBe(201);
  return res.json().id as string;
}

async function update(c: TestContext, id: string, body: Record<string, unknown>): Promise<void> {
  const token = await c.token('commander');
  const res = await c.call('POST', `/api/v1/incidents/${id}/updates`, { token, body });
  expect(res.statusCode, res.body).toBe(201);
}

async function cadence(c: TestContext, id: string) {
  const res = await c.call('GET', `/api/v1/incidents/${id}/cadence`, { token: await c.token('viewer') });
  expect(res.statusCode).toBe(200);
  return res.json();
}

async function eventTypes(c: TestContext, id: string, types: string[]) {
  return (await c.services.incidents.timeline(id)).filter((e) => types.includes(e.type));
}

function slackText(slack: HttpStandin, index: number): string {
  const request = slack.requests[index];
  return request ? (request.json() as { text: string }).text : '';
}

/** Move the fake clock to `at` and run what is due. */
async function at(c: TestContext, when: number): Promise<void> {
  c.clock.set(when);
  await c.worker.pump();
}

describeEachDialect('update cadence: reminders and escalation', (dialect) => {
  const { ctx, slack } = useCadenceContext(dialect);

  test('declared with no update: the commander is reminded at 10 min and the backup role escalated at 15 min', async () => {
    const c = ctx();
    slack().clear();
    const t0 = c.clock.now();
    const id = await declare(c, { name: 'Product pages down', components: [] });
    const before = await cadence(c, id);
    expect(before).toMatchObject({
      acknowledge_by: toIso(t0 + 15 * MINUTE),
      acknowledged_at: null,
      next_update_due_at: toIso(t0 + 15 * MINUTE),
      reminders: [{ at: toIso(t0 + 10 * MINUTE), due: 'acknowledge', due_at: toIso(t0 + 15 * MINUTE) }],
      deadline: { at: toIso(t0 + 15 * MINUTE), due: 'acknowledge' },
      figures: { ack_seconds: null, longest_gap_seconds: null, late_updates: 0 },
    });

    await at(c, t0 + 9 * MINUTE);
    expect(await eventTypes(c, id, [REMINDER_EVENT, ESCALATED_EVENT])).toEqual([]);

    await at(c, t0 + 10 * MINUTE);
    const reminders = await eventTypes(c, id, [REMINDER_EVENT]);
    expect(reminders).toHaveLength(1);
    expect(reminders[0]).toMatchObject({ public: false, actor: { name: 'Keepwarm cadence' }, data: { due: 'acknowledge' } });
    await slack().waitForRequests(1);
    expect(slackText(slack(), 0)).toContain('Product pages down');
    expect(slackText(slack(), 0)).toContain('09:15 UTC');
    expect(await eventTypes(c, id, [ESCALATED_EVENT])).toEqual([]);

    await at(c, t0 + 15 * MINUTE);
    const escalated = await eventTypes(c, id, [ESCALATED_EVENT]);
    expect(escalated).toHaveLength(1);
    expect(escalated[0]?.data).toMatchObject({ backup_role: 'admin', notified: ['backup@example.test'], due: 'acknowledge' });
    await slack().waitForRequests(2);
    const text = slackText(slack(), 1);
    expect(text).toMatch(/Escalation for the admin on call/);
    expect(text).toContain(`/console/incidents/${id}`);
    const emails = await listMessages(c.db.kysely, { incidentId: id, channel: 'email', limit: 10 });
    expect(emails.map((m) => [m.recipient, m.templateKey])).toEqual([['backup@example.test', 'email.cadence_escalation']]);

    // Nothing more happens by itself, and pumping again sends nothing twice.
    await at(c, t0 + 120 * MINUTE);
    expect(await eventTypes(c, id, [REMINDER_EVENT, ESCALATED_EVENT])).toHaveLength(2);
    expect(slack().requests).toHaveLength(2);
    expect((await cadence(c, id)).overdue).toBe(true);
  });

  test('an update at 12 min cancels the escalation and moves the next due to +30 (target) and +60 (promise)', async () => {
    const c = ctx();
    slack().clear();
    const t0 = c.clock.now();
    const id = await declare(c, { name: 'Configurator slow', drill: true });
    await at(c, t0 + 10 * MINUTE);
    expect(await eventTypes(c, id, [REMINDER_EVENT])).toHaveLength(1);

    c.clock.set(t0 + 12 * MINUTE);
    await update(c, id, { message: 'We are looking into slow loading of the configurator.' });
    await at(c, t0 + 15 * MINUTE);
    expect(await eventTypes(c, id, [ESCALATED_EVENT])).toEqual([]);
    const view = await cadence(c, id);
    expect(view).toMatchObject({
      acknowledged_at: toIso(t0 + 12 * MINUTE),
      acknowledged_in_time: true,
      next_update_due_at: toIso(t0 + 42 * MINUTE),
      promised_by: toIso(t0 + 72 * MINUTE),
      reminders: [
        { at: toIso(t0 + 37 * MINUTE), due: 'target' },
        { at: toIso(t0 + 67 * MINUTE), due: 'promise' },
      ],
      deadline: { at: toIso(t0 + 72 * MINUTE), due: 'promise' },
      figures: { ack_seconds: 720, late_updates: 0 },
    });
    const next = await c.services.cadence.nextUpdates();
    expect(next.get(id)).toBe(toIso(t0 + 72 * MINUTE));

    // A drill follows the same rules; its Slack messages go to the sink, not to Slack.
    await at(c, t0 + 37 * MINUTE);
    const reminders = await eventTypes(c, id, [REMINDER_EVENT]);
    expect(reminders.map((e) => e.data.due)).toEqual(['acknowledge', 'target']);
    const drillSlack = await listMessages(c.db.kysely, { incidentId: id, channel: 'slack', limit: 10 });
    expect(drillSlack.every((m) => m.drill && m.provider === 'sink:slack')).toBe(true);
    expect(slack().requests).toHaveLength(0);

    // Resolved at 50 min: nothing further, whatever time it is.
    c.clock.set(t0 + 50 * MINUTE);
    await update(c, id, { status: 'resolved', message: 'The configurator loads normally again.' });
    await at(c, t0 + 200 * MINUTE);
    expect(await eventTypes(c, id, [REMINDER_EVENT])).toHaveLength(2);
    expect(await eventTypes(c, id, [ESCALATED_EVENT])).toEqual([]);
    expect(await cadence(c, id)).toMatchObject({
      open: false,
      next_update_due_at: null,
      promised_by: null,
      reminders: [],
      deadline: null,
      figures: { ack_seconds: 720, longest_gap_seconds: 38 * 60, late_updates: 0 },
    });
    expect((await c.services.cadence.nextUpdates()).has(id)).toBe(false);
  });

  test('figures count a late update; unknown incidents answer 404', async () => {
    const c = ctx();
    const t0 = c.clock.now();
    const id = await declare(c, { name: 'Checkout errors', message: 'Checkout fails for some buyers.' });
    c.clock.set(t0 + 85 * MINUTE);
    await update(c, id, { message: 'Still working on it.' });
    c.clock.set(t0 + 100 * MINUTE);
    await update(c, id, { status: 'resolved', message: 'Fixed.' });
    await c.worker.pump();
    expect((await cadence(c, id)).figures).toEqual({ ack_seconds: 0, longest_gap_seconds: 85 * 60, late_updates: 1 });
    const missing = await c.call('GET', '/api/v1/incidents/nope/cadence', { token: await c.token('viewer') });
    expect(missing.statusCode).toBe(404);
  });
});

describeEachDialect('update cadence: holding updates', (dialect) => {
  const { ctx } = useCadenceContext(dialect, { 'status.cadence.holdingUpdates': true });

  test('at the deadline a pre-approved holding update is published, keeping the status, so no gap exceeds the promise', async () => {
    const c = ctx();
    const t0 = c.clock.now();
    const id = await declare(c, { name: 'Spec sheets missing', status: 'identified', message: 'Spec sheet downloads fail.' });
    await at(c, t0 + 60 * MINUTE);
    const detail = await c.services.incidents.get(id);
    expect(detail.updates).toHaveLength(2);
    const holding = detail.updates[0];
    expect(holding).toMatchObject({ at: t0 + 60 * MINUTE, actor: { name: 'Keepwarm holding update' } });
    expect(holding?.data.status).toBe('identified');
    expect(holding?.data.message).toContain('Spec sheets missing');
    expect(holding?.data.message).toContain(FALLBACK);
    expect(holding?.data.message).toContain('Next update by 11:00 UTC');
    expect(await eventTypes(c, id, [ESCALATED_EVENT])).toEqual([]);

    await at(c, t0 + 120 * MINUTE);
    expect((await c.services.incidents.get(id)).updates).toHaveLength(3);
    expect(await cadence(c, id)).toMatchObject({
      promised_by: toIso(t0 + 180 * MINUTE),
      figures: { longest_gap_seconds: 3600, late_updates: 0 },
    });
    c.clock.set(t0 + 130 * MINUTE);
    await update(c, id, { status: 'resolved', message: 'Downloads work again.' });
    await at(c, t0 + 400 * MINUTE);
    expect((await c.services.incidents.get(id)).updates).toHaveLength(4);
  });

  test('without an approved holding template the deadline escalates instead and the timeline says why', async () => {
    const c = ctx();
    const template = await c.services.templates.findByKey(HOLDING_TEMPLATE);
    await c.services.templates.retire(TEST_ACTOR, template?.template.id as string);
    const t0 = c.clock.now();
    const id = await declare(c, { name: 'Search broken', message: 'Search returns nothing.' });
    await at(c, t0 + 60 * MINUTE);
    expect((await c.services.incidents.get(id)).updates).toHaveLength(1);
    const escalated = await eventTypes(c, id, [ESCALATED_EVENT]);
    expect(escalated).toHaveLength(1);
    expect(String(escalated[0]?.data.holding_update_refused)).toMatch(/No approved version of template status\.holding_update/);
  });
});
