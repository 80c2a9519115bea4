import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createTestContext, TEST_ACTOR, type TestContext } from '../../test/harness/context.js';
import { describeEachDialect } from '../../test/harness/databases.js';
import { type HttpStandin, startHttpStandin } from '../../test/harness/http-standin.js';
import { main } from '../cli/main.js';
import { HOUR, MINUTE } from '../core/clock.js';
import { toDbBool, toDbJson } from '../db/codec.js';
import { insertOrder } from '../fallback/orders/orders.repo.js';
import { seedDefaultTemplates } from '../messaging/default-templates.js';
import { listMessages } from '../messaging/messages.repo.js';
import { REPORT_ESCALATED_EVENT, REPORT_PUBLISHED_EVENT, REPORT_REMINDER_EVENT } from './report.service.js';

const ARRS = [40_000, 12_000, 8_000, 3_000, 1_000, 500];

function useReportContext(dialect: 'sqlite' | 'postgres') {
  let ctx: TestContext | undefined;
  let slack: HttpStandin | undefined;
  beforeAll(async () => {
    slack = await startHttpStandin();
    ctx = await createTestContext(dialect, {
      config: {
        'slack.webhookUrl': `${slack.url}/services/T000/B000/XXXX`,
        'status.fallbackUrl': 'https://catalog.example.test',
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
  return { ctx: () => ctx as TestContext, slack: () => slack as HttpStandin };
}

/** Six leads; the first has a demo today above $25K (Tier A). */
async function seedLeads(c: TestContext, prefix: string): Promise<void> {
  const now = c.clock.now();
  await c.db.kysely
    .insertInto('leads')
    .values(
      ARRS.map((arr, i) => ({
        id: `${prefix}-lead-${i}`,
        email: `${prefix}${i}@buyer.test`,
        first_name: `Buyer${i}`,
        company: `Company ${i}`,
        lifecycle: 'sql',
        arr_potential: arr,
        demo_scheduled_at: i === 0 ? now + 2 * HOUR : null,
        last_activity_at: now - HOUR,
        consent_email: 'unknown',
        consent_sms: 'unknown',
        fallback_sent: toDbBool(false),
        attributes: toDbJson({}),
        created_at: now,
        updated_at: now,
      })),
    )
    .execute();
}

async function api(c: TestContext, method: string, url: string, body?: unknown, role: 'commander' | 'viewer' = 'commander') {
  return c.call(method, url, { token: await c.token(role), ...(body !== undefined && { body }) });
}

async function events(c: TestContext, id: string, type: string) {
  return (await c.services.incidents.timeline(id)).filter((e) => e.type === type);
}

async function at(c: TestContext, when: number): Promise<void> {
  c.clock.set(when);
  await c.worker.pump();
}

describeEachDialect('incident report', (dialect) => {
  const { ctx, slack } = useReportContext(dialect);
  const state: { id?: string; other?: string; resolvedAt?: number } = {};

  test('a draft is generated from a real incident: leads, calls, messages, orders, cadence', async () => {
    const c = ctx();
    await seedLeads(c, 'a');
    const cdn = await c.services.components.create(TEST_ACTOR, { name: 'Showroom CDN', kind: 'cdn' });
    const t0 = c.clock.now();
    const declared = await api(c, 'POST', '/api/v1/incidents', {
      name: 'Showroom CDN down',
      message: 'Product pages are not loading.',
      components: [{ id: cdn.id, status: 'major_outage' }],
      scope: ['eu-west'],
    });
    expect(declared.statusCode, declared.body).toBe(201);
    const id = declared.json().id as string;
    state.id = id;
    await c.worker.pump();

    const tasks = await c.db.kysely.selectFrom('tasks').selectAll().where('incident_id', '=', id).execute();
    const call = tasks.find((t) => t.lead_id === 'a-lead-0' && t.kind === 'call_now');
    expect(call).toBeDefined();
    await c.services.crmOutage.recordOutcome(TEST_ACTOR, call?.id as string, { outcome: 'demo_booked' });
    await insertOrder(c.db.kysely, {
      id: `${id}-order`,
      reference: 'KW-TEST-0001',
      createdAt: t0 + 10 * MINUTE,
      company: 'Company 3',
      contactName: 'Dana',
      email: 'dana@buyer.test',
      phone: null,
      lines: [
        { sku: 'CH-1', name: 'Chair', quantity: 3, known: true },
        { sku: 'DK-2', name: 'Desk', quantity: 2, known: false },
      ],
      notes: null,
      source: null,
      snapshotId: null,
      unknownSkus: 1,
      incidentId: id,
      state: 'new',
      emailedAt: null,
      emailProblem: null,
      ipHash: null,
    });

    // Open: the report exists already, with provisional figures; publishing is refused.
    const open = await api(c, 'GET', `/api/v1/incidents/${id}/report?format=md`, undefined, 'viewer');
    expect(open.statusCode).toBe(200);
    expect(open.headers['content-type']).toContain('text/markdown');
    expect(open.body).toContain('still open: figures are provisional');
    expect((await api(c, 'POST', `/api/v1/incidents/${id}/report/publish`)).statusCode).toBe(409);

    await at(c, t0 + 30 * MINUTE);
    expect(
      (await api(c, 'POST', `/api/v1/incidents/${id}/updates`, { status: 'identified', message: 'Cause found.' })).statusCode,
    ).toBe(201);
    await at(c, t0 + 120 * MINUTE);
    const resolved = await api(c, 'POST', `/api/v1/incidents/${id}/updates`, {
      status: 'resolved',
      message: 'Pages load again.',
    });
    expect(resolved.statusCode, resolved.body).toBe(201);
    state.resolvedAt = c.clock.now();
    await c.worker.pump();

    const md = (await api(c, 'GET', `/api/v1/incidents/${id}/report?format=md`, undefined, 'viewer')).body;
    expect(md).toContain('# Incident report: Showroom CDN down');
    expect(md).toContain('| Duration | 2 h |');
    expect(md).toContain('| Time to acknowledge | 0 s |');
    expect(md).toContain('| Longest update gap | 1 h 30 min |');
    expect(md).toContain('| Late updates | 1 (gaps over the 1 h promise) |');
    expect(md).toContain('| Regions | eu-west |');
    expect(md).toContain('| Leads tagged | 6 (Tier A 1,');
    expect(md).toContain('| Demos booked | 1 |');
    expect(md).toContain('| Purchase orders (mirror) | 1 from 1 companies, 5 units, 1 unknown SKUs |');
    expect(md).toContain('| Re-engaged leads | 1 (16.7% of tagged) |');
    expect(md).toContain(`| Pipeline ARR at risk | $${ARRS.reduce((a, b) => a + b, 0).toLocaleString('en-US')} |`);
    expect(md).toContain('| Pipeline ARR engaged | $40,000 (');
    // Messages per channel: what the outbox holds for the incident.
    const byChannel = await c.db.kysely
      .selectFrom('messages')
      .select(['channel', (eb) => eb.fn.countAll<number>().as('n')])
      .where('incident_id', '=', id)
      .groupBy('channel')
      .execute();
    const total = byChannel.reduce((n, r) => n + Number(r.n), 0);
    expect(md).toContain(`| Messages sent | ${total.toLocaleString('en-US')} |`);
    for (const r of byChannel) expect(md).toMatch(new RegExp(`\\| ${r.channel} \\| ${Number(r.n)} \\|`));

    const pdf = await api(c, 'GET', `/api/v1/incidents/${id}/report?format=pdf&variant=executive`, undefined, 'viewer');
    expect(pdf.statusCode).toBe(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect(pdf.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
    const html = await api(c, 'GET', `/api/v1/incidents/${id}/report?format=html`, undefined, 'viewer');
    expect(html.headers['content-security-policy']).toMatch(/style-src 'sha256-/);
    expect(html.body).toContain('<svg');
    const bad = await api(c, 'GET', `/api/v1/incidents/${id}/report?format=docx`, undefined, 'viewer');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details[0].field).toBe('format');
    expect((await api(c, 'GET', '/api/v1/incidents/nope/report', undefined, 'viewer')).statusCode).toBe(404);
  });

  test('edits keep the figures live; bad input names the field and changes nothing', async () => {
    const c = ctx();
    const id = state.id as string;
    const bad = await api(c, 'PUT', `/api/v1/incidents/${id}/report`, {
      root_cause: 'half applied?',
      actions: [{ kind: 'remediation', title: 'Renew the certificate', owner: 'Sam', due_date: '2026-02-30' }],
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details[0].field).toBe('actions.0.due_date');
    expect((await api(c, 'GET', `/api/v1/incidents/${id}/report/state`, undefined, 'viewer')).json().root_cause).toBe('');
    expect((await api(c, 'PUT', `/api/v1/incidents/${id}/report`, { root_cause: 'x' }, 'viewer')).statusCode).toBe(403);

    const ok = await api(c, 'PUT', `/api/v1/incidents/${id}/report`, {
      root_cause: 'An expired TLS certificate on the primary CDN.',
      actions: [
        { kind: 'remediation', title: 'Renew the certificate', owner: 'Sam Ops', due_date: '2026-02-01', done: true },
        { kind: 'preventive', title: 'Alert 14 days before expiry', owner: 'Ana SRE', due_date: '2026-03-01' },
      ],
      revision: 0,
    });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({
      state: 'draft',
      revision: 1,
      root_cause: 'An expired TLS certificate on the primary CDN.',
    });
    expect(ok.json().figures.service.find((f: { label: string }) => f.label === 'Duration').value).toBe('2 h');
    const stale = await api(c, 'PUT', `/api/v1/incidents/${id}/report`, { summary: 'Mine', revision: 0 });
    expect(stale.statusCode).toBe(409);
    expect(stale.json().error.code).toBe('stale_revision');

    // A lead re-engaging later shows in the next rendering: the figures are never stored.
    await c.db.kysely.updateTable('leads').set({ re_engaged_at: c.clock.now() }).where('id', '=', 'a-lead-1').execute();
    const md = (await api(c, 'GET', `/api/v1/incidents/${id}/report?format=md`, undefined, 'viewer')).body;
    expect(md).toContain('| Re-engaged leads | 2 (33.3% of tagged) |');
    expect(md).toContain('An expired TLS certificate on the primary CDN.');
    expect(md).toContain('| Alert 14 days before expiry | Ana SRE | 2026-03-01 | open |');
  });

  test('the reminder fires before 72 h; publishing shows the postmortem everywhere and stops the escalation', async () => {
    const c = ctx();
    const id = state.id as string;
    const resolvedAt = state.resolvedAt as number;
    // A second incident, resolved at the same time, whose report nobody publishes.
    const other = await api(c, 'POST', '/api/v1/incidents', { name: 'Sign-in slow', message: 'Sign-in is slow.' });
    const otherId = other.json().id as string;
    state.other = otherId;
    await api(c, 'POST', `/api/v1/incidents/${otherId}/updates`, { status: 'resolved', message: 'Fine again.' });
    const otherResolved = c.clock.now();
    slack().clear();

    await at(c, resolvedAt + 47 * HOUR);
    expect(await events(c, id, REPORT_REMINDER_EVENT)).toEqual([]);
    await at(c, resolvedAt + 48 * HOUR);
    const reminders = await events(c, id, REPORT_REMINDER_EVENT);
    expect(reminders).toHaveLength(1);
    expect(reminders[0]).toMatchObject({ public: false, actor: { name: 'Keepwarm report deadline' } });
    await slack().waitForRequests(1);
    expect(
      slack()
        .requests.map((r) => (r.json() as { text: string }).text)
        .join('\n'),
    ).toContain('incident report for *Showroom CDN down*');

    const published = await api(c, 'POST', `/api/v1/incidents/${id}/report/publish`);
    expect(published.statusCode, published.body).toBe(200);
    expect(published.json()).toMatchObject({ state: 'published' });
    expect(await events(c, id, REPORT_PUBLISHED_EVENT)).toHaveLength(1);

    const incidents = await c.call('GET', '/api/v2/incidents.json');
    const sp = (
      incidents.json().incidents as Array<{
        id: string;
        status: string;
        incident_updates: Array<{ status: string; body: string }>;
      }>
    ).find((i) => i.id === id);
    expect(sp?.status).toBe('postmortem');
    expect(sp?.incident_updates[0]?.status).toBe('postmortem');
    expect(sp?.incident_updates[0]?.body).toContain(`https://status.example.test/status/incidents/${id}/report`);
    const page = await c.call('GET', '/status');
    expect(page.body).toContain('Postmortem');
    expect(page.body).toContain(`/status/incidents/${id}/report`);
    expect(page.body).toContain('Read the incident report');
    const pub = await c.call('GET', `/status/incidents/${id}/report`);
    expect(pub.statusCode).toBe(200);
    expect(pub.body).toContain('An expired TLS certificate on the primary CDN.');
    expect(pub.body).not.toContain('Ana SRE');
    expect(pub.body).not.toContain('Pipeline ARR');
    expect((await c.call('GET', `/status/incidents/${otherId}/report`)).statusCode).toBe(404);
    expect((await api(c, 'PUT', `/api/v1/incidents/${id}/report`, { summary: 'late' })).statusCode).toBe(409);
    expect((await api(c, 'POST', `/api/v1/incidents/${id}/report/publish`)).statusCode).toBe(409);

    // 72 h: the published report escalates nothing; the other one escalates to the backup role.
    await at(c, Math.max(resolvedAt, otherResolved) + 72 * HOUR);
    expect(await events(c, id, REPORT_ESCALATED_EVENT)).toEqual([]);
    const escalated = await events(c, otherId, REPORT_ESCALATED_EVENT);
    expect(escalated).toHaveLength(1);
    expect(escalated[0]?.data).toMatchObject({ notified: expect.arrayContaining(['backup@example.test']) });
    const emails = await listMessages(c.db.kysely, { incidentId: otherId, channel: 'email', limit: 10 });
    expect(emails.map((m) => m.templateKey)).toContain('email.report_escalation');
    expect(await events(c, otherId, REPORT_REMINDER_EVENT)).toHaveLength(1);
    // Nothing fires twice.
    await at(c, Math.max(resolvedAt, otherResolved) + 200 * HOUR);
    expect(await events(c, otherId, REPORT_ESCALATED_EVENT)).toHaveLength(1);
  });

  test('keepwarm report writes the report (Markdown to stdout, PDF to a file)', async () => {
    const c = ctx();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const args = ['--database-url', c.scratch.url, '--data-dir', c.scratch.dir];
    const io = { stdout, stderr } as unknown as Parameters<typeof main>[1];
    expect(await main(['report', state.other as string, ...args], io)).toBe(0);
    expect(out).toContain('# Incident report: Sign-in slow');
    out = '';
    const file = `${c.scratch.dir}/report.pdf`;
    expect(await main(['report', state.id as string, '--format', 'pdf', '--executive', '--out', file, ...args], io)).toBe(0);
    expect(out).toMatch(/wrote .*report\.pdf \(pdf, executive summary, \d+ bytes\)/);
    let err = '';
    stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    expect(await main(['report', 'no-such-incident', ...args], io)).toBe(1);
    expect(err).toContain('does not exist');
  });
});
