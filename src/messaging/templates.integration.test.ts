import { expect, test } from 'vitest';
import { type TestContext, useTestContext } from '../../test/harness/context.js';
import { describeEachDialect } from '../../test/harness/databases.js';
import { listAudit } from '../audit/audit.repo.js';
import { seedDemo } from '../cli/demo.js';
import type { AppError } from '../core/errors.js';
import { DEFAULT_TEMPLATES, seedDefaultTemplates } from './default-templates.js';
import { findMessageByKey } from './messages.repo.js';
import { UPDATE_TEMPLATE_KEYS } from './update-renderer.js';

interface VersionJson {
  id: string;
  version: number;
  state: string;
  subject: string | null;
  body: string;
  variables: string[];
  approved_by: string | null;
  retired_at: string | null;
  review_note: string | null;
}

async function json<T = Record<string, unknown>>(
  c: TestContext,
  method: string,
  url: string,
  role: Parameters<TestContext['token']>[0],
  body?: unknown,
  expected = 200,
): Promise<T> {
  const res = await c.call(method, url, { token: await c.token(role), ...(body !== undefined && { body }) });
  expect(res.statusCode, `${method} ${url} → ${res.body}`).toBe(expected);
  return res.json() as T;
}

type Detail = { id: string; state: string; approved_version: number | null; versions: VersionJson[] };

async function createApproved(
  c: TestContext,
  input: { key: string; channel: string; purpose?: string; subject?: string; body: string },
): Promise<Detail> {
  const created = await json<Detail>(
    c,
    'POST',
    '/api/v1/templates',
    'marketing',
    { purpose: 'transactional', name: input.key, ...input },
    201,
  );
  await json(c, 'POST', `/api/v1/templates/${created.id}/submit`, 'marketing', {});
  return json<Detail>(c, 'POST', `/api/v1/templates/${created.id}/approve`, 'legal', {});
}

describeEachDialect('template library', (dialect) => {
  const ctx = useTestContext(dialect, {
    config: { 'messaging.sink': true, 'messaging.postalAddress': 'Northwind, 1 Main St, Springfield' },
  });

  test('full lifecycle over HTTP: draft, review, approval, new version, send back, retire', async () => {
    const c = ctx();
    const created = await json<Detail>(
      c,
      'POST',
      '/api/v1/templates',
      'marketing',
      {
        key: 'email.price_list',
        channel: 'email',
        purpose: 'transactional',
        name: 'Price list',
        subject: 'Prices for {{ first_name }}',
        body: '<p>Hi {{ first_name }}, prices are at {{ fallback_url }}.</p>',
      },
      201,
    );
    const id = created.id;
    expect(created).toMatchObject({ state: 'draft', approved_version: null, locale: 'en' });
    expect(created.versions).toHaveLength(1);
    expect(created.versions[0]).toMatchObject({ version: 1, state: 'draft', variables: ['first_name', 'fallback_url'] });

    // Editing a draft changes it in place.
    const edited = await json<Detail>(c, 'PATCH', `/api/v1/templates/${id}`, 'marketing', {
      body: '<p>Hi {{ first_name }}, our prices are at {{ fallback_url }}.</p>',
    });
    expect(edited.versions).toHaveLength(1);
    expect(edited.versions[0]?.body).toContain('our prices');

    // Approving a draft is illegal (409 with the reason); marketing may not approve at all (403).
    const early = await c.call('POST', `/api/v1/templates/${id}/approve`, { token: await c.token('legal'), body: {} });
    expect(early.statusCode).toBe(409);
    expect(early.json().error.message).toMatch(/submit it for review/);

    const submitted = await json<Detail>(c, 'POST', `/api/v1/templates/${id}/submit`, 'marketing', { version: 1 });
    expect(submitted).toMatchObject({ state: 'in_review', open_version: { version: 1, state: 'in_review' } });
    const list = await json<{ awaiting_review: number }>(c, 'GET', '/api/v1/templates?state=in_review', 'viewer');
    expect(list.awaiting_review).toBeGreaterThanOrEqual(1);

    const whileReviewed = await c.call('PATCH', `/api/v1/templates/${id}`, {
      token: await c.token('marketing'),
      body: { body: 'x' },
    });
    expect(whileReviewed.statusCode).toBe(409);
    expect(whileReviewed.json().error.message).toMatch(/awaiting legal review/);

    for (const role of ['marketing', 'commander', 'sales', 'viewer'] as const) {
      const denied = await c.call('POST', `/api/v1/templates/${id}/approve`, { token: await c.token(role), body: {} });
      expect(denied.statusCode, role).toBe(403);
    }
    const approved = await json<Detail>(c, 'POST', `/api/v1/templates/${id}/approve`, 'legal', { version: 1 });
    expect(approved).toMatchObject({ state: 'approved', approved_version: 1, open_version: null });
    expect(approved.versions[0]).toMatchObject({ state: 'approved', approved_by: 'test legal' });

    // An approved version never changes: editing creates version 2 as a draft.
    const v2 = await json<Detail>(c, 'PATCH', `/api/v1/templates/${id}`, 'marketing', {
      subject: 'Our prices, {{ first_name }}',
    });
    expect(v2.versions.map((v) => [v.version, v.state])).toEqual([
      [2, 'draft'],
      [1, 'approved'],
    ]);
    expect(v2.versions[1]).toMatchObject({ subject: 'Prices for {{ first_name }}', body: approved.versions[0]?.body });
    expect(v2.versions[0]).toMatchObject({ subject: 'Our prices, {{ first_name }}', body: approved.versions[0]?.body });
    expect(v2.approved_version).toBe(1);

    // A stale version number is refused rather than acting on another version.
    const stale = await c.call('POST', `/api/v1/templates/${id}/submit`, {
      token: await c.token('marketing'),
      body: { version: 1 },
    });
    expect(stale.statusCode).toBe(409);
    expect(stale.json().error.code).toBe('version_mismatch');

    await json(c, 'POST', `/api/v1/templates/${id}/submit`, 'marketing', { version: 2 });
    const noNote = await c.call('POST', `/api/v1/templates/${id}/reject`, { token: await c.token('legal'), body: {} });
    expect(noNote.statusCode).toBe(400);
    expect(noNote.json().error.details[0].field).toBe('note');
    const rejected = await json<Detail>(c, 'POST', `/api/v1/templates/${id}/reject`, 'legal', {
      note: 'Say "list prices", not "prices".',
    });
    expect(rejected.versions[0]).toMatchObject({ version: 2, state: 'draft', review_note: 'Say "list prices", not "prices".' });
    await json(c, 'PATCH', `/api/v1/templates/${id}`, 'marketing', { subject: 'Our list prices, {{ first_name }}' });
    await json(c, 'POST', `/api/v1/templates/${id}/submit`, 'marketing', {});
    const final = await json<Detail>(c, 'POST', `/api/v1/templates/${id}/approve`, 'admin', { note: 'ok' });
    expect(final.versions.map((v) => [v.version, v.state])).toEqual([
      [2, 'approved'],
      [1, 'retired'],
    ]);
    expect(final.versions[1]?.retired_at).not.toBeNull();

    // Retire: nothing of this template is dispatched any more.
    await json(c, 'POST', `/api/v1/templates/${id}/retire`, 'legal', { version: 2 });
    const retiredAgain = await c.call('POST', `/api/v1/templates/${id}/retire`, { token: await c.token('legal'), body: {} });
    expect(retiredAgain.statusCode).toBe(409);
    const gone = await c.db.tx((trx) =>
      c.services.templates.requireApproved(trx, 'email.price_list').then(
        () => null,
        (e: AppError) => e.code,
      ),
    );
    expect(gone).toBe('template_not_approved');

    // Every state change is in the audit log, by ids.
    const audit = await listAudit(c.db.kysely, { targetType: 'template', targetId: id, limit: 50 });
    expect(audit.map((a) => a.action).reverse()).toEqual([
      'template.create',
      'template.edit',
      'template.submit',
      'template.approve',
      'template.edit',
      'template.submit',
      'template.reject',
      'template.edit',
      'template.submit',
      'template.approve',
      'template.retire',
    ]);
    expect(audit.find((a) => a.action === 'template.approve')?.details).toMatchObject({ version: 2, retired_version: 1 });
  });

  test('bad input: 400 naming the field, 422 for channel rules and Liquid, 409 for a duplicate, 404 for an unknown id', async () => {
    const c = ctx();
    const token = await c.token('marketing');
    const bad = await c.call('POST', '/api/v1/templates', {
      token,
      body: { key: 'Email Ack', channel: 'fax', purpose: 'transactional', name: '', body: 'x' },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details.map((d: { field: string }) => d.field)).toEqual(
      expect.arrayContaining(['key', 'channel', 'name']),
    );

    const noSubject = await c.call('POST', '/api/v1/templates', {
      token,
      body: { key: 'email.no_subject', channel: 'email', purpose: 'transactional', name: 'x', body: '<p>x</p>' },
    });
    expect(noSubject.statusCode).toBe(422);
    expect(noSubject.json().error).toMatchObject({ code: 'invalid_content', details: [{ field: 'subject' }] });

    const badLiquid = await c.call('POST', '/api/v1/templates', {
      token,
      body: { key: 'sms.broken', channel: 'sms', purpose: 'transactional', name: 'x', body: 'Hi {{ first_name | shout }}' },
    });
    expect(badLiquid.statusCode).toBe(422);
    expect(badLiquid.json().error.code).toBe('invalid_template');
    expect(badLiquid.json().error.message).toContain('undefined filter: shout');

    const body = { key: 'sms.dupe', channel: 'sms', purpose: 'transactional', name: 'x', body: 'Hi' };
    await json(c, 'POST', '/api/v1/templates', 'marketing', body, 201);
    const dupe = await c.call('POST', '/api/v1/templates', { token, body });
    expect(dupe.statusCode).toBe(409);
    expect(dupe.json().error.code).toBe('template_exists');
    const otherLocale = await c.call('POST', '/api/v1/templates', { token, body: { ...body, locale: 'de' } });
    expect(otherLocale.statusCode).toBe(201);

    expect((await c.call('GET', '/api/v1/templates/nope', { token })).statusCode).toBe(404);
    expect((await c.call('POST', '/api/v1/templates/nope/submit', { token, body: {} })).statusCode).toBe(404);
    expect((await c.call('PATCH', '/api/v1/templates/nope', { token, body: {} })).statusCode).toBe(400);
    const sales = await c.call('POST', '/api/v1/templates', { token: await c.token('sales'), body });
    expect(sales.statusCode).toBe(403);
  });

  test('only approved versions are dispatched, drills included', async () => {
    const c = ctx();
    const created = await json<Detail>(
      c,
      'POST',
      '/api/v1/templates',
      'marketing',
      {
        key: 'sms.dispatch_test',
        channel: 'sms',
        purpose: 'transactional',
        name: 'x',
        body: 'Hi {{ first_name }}, catalog: {{ fallback_url }}',
      },
      201,
    );
    const request = (drill: boolean) => ({
      templateKey: 'sms.dispatch_test',
      recipients: [{ address: '+15005550006', variables: { first_name: 'Dana' } }],
      variables: { fallback_url: 'https://catalog.example.test' },
      step: drill ? 'drill' : 'live',
      drill,
    });
    for (const drill of [false, true]) {
      const refused = await c.db
        .tx((trx) => c.services.outbox.dispatch(trx, request(drill)))
        .then(
          () => null,
          (e: AppError) => [e.status, e.code],
        );
      expect(refused, `drill=${drill}`).toEqual([422, 'template_not_approved']);
    }
    // In review is not approved either.
    await json(c, 'POST', `/api/v1/templates/${created.id}/submit`, 'marketing', {});
    const inReview = await c.db.tx((trx) => c.services.outbox.dispatch(trx, request(true))).catch((e: AppError) => e.code);
    expect(inReview).toBe('template_not_approved');

    const approved = await json<Detail>(c, 'POST', `/api/v1/templates/${created.id}/approve`, 'legal', {});
    const result = await c.db.tx((trx) => c.services.outbox.dispatch(trx, request(true)));
    expect(result).toMatchObject({ channel: 'sms', created: 1, templateVersionId: approved.versions[0]?.id });
    const message = await findMessageByKey(c.db.kysely, `-|sms|+15005550006|sms.dispatch_test|drill`);
    expect(message).toMatchObject({
      bodyText: 'Hi Dana, catalog: https://catalog.example.test',
      templateVersionId: approved.versions[0]?.id,
    });

    // A draft of version 2 changes nothing about what is dispatched.
    await json(c, 'PATCH', `/api/v1/templates/${created.id}`, 'marketing', { body: 'CHANGED {{ first_name }}' });
    await c.db.tx((trx) => c.services.outbox.dispatch(trx, { ...request(false), step: 'live-2' }));
    const second = await findMessageByKey(c.db.kysely, `-|sms|+15005550006|sms.dispatch_test|live-2`);
    expect(second?.bodyText).toBe('Hi Dana, catalog: https://catalog.example.test');

    // A missing variable for one recipient refuses the whole dispatch, naming it.
    const missing = await c.db
      .tx((trx) =>
        c.services.outbox.dispatch(trx, { ...request(false), step: 'live-3', recipients: [{ address: '+15005550007' }] }),
      )
      .catch((e: AppError) => e);
    expect(missing).toMatchObject({ status: 422, code: 'render_failed', details: { missing: ['first_name'], recipient: 0 } });
    await c.worker.pump();
    expect((await findMessageByKey(c.db.kysely, `-|sms|+15005550006|sms.dispatch_test|drill`))?.status).toBe('delivered');
  });

  test('marketing email over the outbox carries the footer; HTML escapes recipient values', async () => {
    const c = ctx();
    await createApproved(c, {
      key: 'email.outbox_marketing',
      channel: 'email',
      purpose: 'marketing',
      subject: 'Hello {{ first_name }}',
      body: '<p>Hi {{ first_name }}, book here: <a href="{{ calendar_link }}">{{ calendar_link }}</a></p>',
    });
    await c.db.tx((trx) =>
      c.services.outbox.dispatch(trx, {
        templateKey: 'email.outbox_marketing',
        recipients: [{ address: 'lead@example.test', variables: { first_name: '<b>Dana</b>' }, consent: { email: true } }],
        variables: { calendar_link: 'https://meet.example.test/sam' },
        step: 'followup',
      }),
    );
    const m = await findMessageByKey(c.db.kysely, '-|email|lead@example.test|email.outbox_marketing|followup');
    expect(m?.subject).toBe('Hello <b>Dana</b>');
    expect(m?.bodyHtml).toContain('Hi &lt;b&gt;Dana&lt;/b&gt;');
    expect(m?.bodyHtml).toContain('Northwind, 1 Main St, Springfield');
    expect(m?.bodyHtml).toMatch(/<a href="https:\/\/status\.example\.test\/u\/[^"]+">Unsubscribe<\/a>/);
    expect(m?.bodyText).toMatch(/Unsubscribe with one click: https:\/\/status\.example\.test\/u\//);
    expect(m?.bodyText).toContain('Hi <b>Dana</b>, book here: https://meet.example.test/sam');
  });

  test('preview: rendering plus channel facts; missing variables named; samples on request', async () => {
    const c = ctx();
    const sms = await json<Detail>(
      c,
      'POST',
      '/api/v1/templates',
      'marketing',
      {
        key: 'sms.preview',
        channel: 'sms',
        purpose: 'marketing',
        name: 'x',
        body: 'We’re sorry, {{ first_name }} – the showroom is down.',
      },
      201,
    );
    const preview = await json<{
      rendered: { text: string; subject: null; html: null };
      facts: {
        sms: { encoding: string; segments: number; non_gsm: Array<{ char: string; suggestion: string }> };
        warnings: string[];
      };
      version: number;
      state: string;
    }>(c, 'POST', `/api/v1/templates/${sms.id}/preview`, 'viewer', { variables: { first_name: 'Dana' } });
    expect(preview.rendered).toEqual({ text: 'We’re sorry, Dana – the showroom is down.', subject: null, html: null });
    expect(preview).toMatchObject({ version: 1, state: 'draft' });
    expect(preview.facts.sms).toMatchObject({ encoding: 'UCS-2', segments: 1 });
    expect(preview.facts.sms.non_gsm.map((x) => [x.char, x.suggestion])).toEqual([
      ['’', "'"],
      ['–', '-'],
    ]);
    expect(preview.facts.warnings[0]).toMatch(/UCS-2/);

    const missing = await c.call('POST', `/api/v1/templates/${sms.id}/preview`, {
      token: await c.token('viewer'),
      body: { variables: {} },
    });
    expect(missing.statusCode).toBe(422);
    expect(missing.json().error).toMatchObject({ code: 'render_failed', details: { missing: ['first_name'] } });
    const sampled = await json<{ rendered: { text: string }; sampled: string[] }>(
      c,
      'POST',
      `/api/v1/templates/${sms.id}/preview`,
      'viewer',
      {
        variables: {},
        use_samples: true,
      },
    );
    expect(sampled.rendered.text).toContain('Dana');
    expect(sampled.sampled).toEqual(['first_name']);
    const unknownVersion = await c.call('POST', `/api/v1/templates/${sms.id}/preview`, {
      token: await c.token('viewer'),
      body: { variables: {}, version: 9 },
    });
    expect(unknownVersion.statusCode).toBe(422);

    const social = await json<Detail>(
      c,
      'POST',
      '/api/v1/templates',
      'marketing',
      {
        key: 'social.preview',
        channel: 'social',
        purpose: 'transactional',
        name: 'x',
        body: '{{ message }} https://example.test/a/very/long/link/indeed',
      },
      201,
    );
    const post = await json<{ facts: { social: { length: number; limit: number; over_by: number } } }>(
      c,
      'POST',
      `/api/v1/templates/${social.id}/preview`,
      'viewer',
      { variables: { message: 'x'.repeat(480) } },
    );
    expect(post.facts.social).toEqual({ length: 480 + 1 + 23, limit: 500, over_by: 4, remaining: 0, links: 1 });

    const email = await json<Detail>(
      c,
      'POST',
      '/api/v1/templates',
      'marketing',
      {
        key: 'email.preview',
        channel: 'email',
        purpose: 'marketing',
        name: 'x',
        subject: 'A very long subject line that goes on and on about {{ first_name }} and the showroom outage',
        body: '<p>Hi {{ first_name }}</p>',
      },
      201,
    );
    const mail = await json<{
      rendered: { html: string; text: string };
      facts: { email: { subject_length: number }; warnings: string[] };
    }>(c, 'POST', `/api/v1/templates/${email.id}/preview`, 'viewer', { variables: { first_name: 'Dana' } });
    expect(mail.facts.email.subject_length).toBeGreaterThan(78);
    expect(mail.facts.warnings.join(' ')).toMatch(/subject is \d+ characters/);
    expect(mail.rendered.html).toContain('Unsubscribe');
    expect(mail.rendered.text).toContain('Northwind, 1 Main St, Springfield');
  });
});

describeEachDialect('the demo', (dialect) => {
  const ctx = useTestContext(dialect, {
    config: {
      'messaging.variables': { company: 'Northwind Fixtures', sender_name: 'Sam', support_email: 'help@northwind.example' },
    },
  });

  test('the demo seeds the default library approved, so every update channel renders', async () => {
    const c = ctx();
    await seedDemo(c.services);
    await seedDemo(c.services);
    const list = await c.services.templates.list();
    expect(list.templates).toHaveLength(DEFAULT_TEMPLATES.length);
    expect(list.templates.every((t) => t.state === 'approved' && t.approvedVersion === 1)).toBe(true);
    const result = await c.services.templates.renderUpdate(
      {
        incident_name: 'Checkout errors',
        status: 'monitoring',
        message: 'A fix is live; we are watching error rates.',
        fallback_url: 'https://catalog.northwind.example',
        next_update_at: '2026-01-15T11:00:00.000Z',
      },
      { socialLimit: 500, defaults: c.config.messaging.variables },
    );
    expect(result.channels.filter((ch) => !ch.ok)).toEqual([]);
  });
});

describeEachDialect('default library and one update, every channel', (dialect) => {
  const ctx = useTestContext(dialect, { config: { 'messaging.variables': { company: 'Northwind Fixtures' } } });

  test('seeding is idempotent and never touches existing templates; the library awaits legal review', async () => {
    const c = ctx();
    const first = await seedDefaultTemplates(c.db, c.clock, { approve: false });
    expect(first.created.sort()).toEqual(DEFAULT_TEMPLATES.map((t) => t.key).sort());
    const list = await json<{ awaiting_review: number; templates: Array<{ key: string; state: string; id: string }> }>(
      c,
      'GET',
      '/api/v1/templates',
      'viewer',
    );
    expect(list.awaiting_review).toBe(DEFAULT_TEMPLATES.length);
    expect(new Set(list.templates.map((t) => t.state))).toEqual(new Set(['in_review']));

    // Legal sends one back; marketing rewrites it. Seeding again leaves it alone.
    const banner = list.templates.find((t) => t.key === 'banner.notice');
    if (!banner) throw new Error('banner.notice not seeded');
    await json(c, 'POST', `/api/v1/templates/${banner.id}/reject`, 'legal', { note: 'Shorter, please.' });
    await json(c, 'PATCH', `/api/v1/templates/${banner.id}`, 'marketing', { body: 'Showroom trouble: {{ fallback_url }}' });
    const again = await seedDefaultTemplates(c.db, c.clock, { approve: true });
    expect(again.created).toEqual([]);
    expect(again.existing).toHaveLength(DEFAULT_TEMPLATES.length);
    const kept = await json<Detail>(c, 'GET', `/api/v1/templates/${banner.id}`, 'viewer');
    expect(kept.versions.map((v) => [v.version, v.state, v.body])).toEqual([
      [1, 'draft', 'Showroom trouble: {{ fallback_url }}'],
    ]);
    const audit = await listAudit(c.db.kysely, { action: 'template.seed', limit: 100 });
    expect(audit).toHaveLength(DEFAULT_TEMPLATES.length);
  });

  test('render-update: every channel from one set of facts; a channel without approval is reported, not fatal', async () => {
    const c = ctx();
    // Approve the library (as legal would) except the banner, which is still a draft.
    const list = await json<{ templates: Array<{ key: string; id: string; state: string }> }>(
      c,
      'GET',
      '/api/v1/templates',
      'viewer',
    );
    for (const t of list.templates.filter((x) => x.state === 'in_review')) {
      await json(c, 'POST', `/api/v1/templates/${t.id}/approve`, 'legal', {});
    }
    const facts = {
      incident_name: 'Product pages unavailable',
      status: 'identified',
      message: 'Our CDN provider confirmed an outage; traffic is moving to the backup CDN.',
      fallback_url: 'https://catalog.northwind.example',
      next_update_at: '2026-01-15T10:30:00Z',
    };
    const res = await json<{
      facts: Record<string, string>;
      channels: Array<{
        key: string;
        ok: boolean;
        channel?: string;
        rendered?: { text: string; subject: string | null; html: string | null };
        facts?: { sms?: { encoding: string; segments: number }; social?: { over_by: number } };
        facts_shown?: string[];
        error?: { code: string };
      }>;
    }>(c, 'POST', '/api/v1/templates/render-update', 'commander', facts);
    expect(res.facts.next_update_at).toBe('2026-01-15T10:30:00.000Z');
    expect(res.channels.map((ch) => ch.key)).toEqual([...UPDATE_TEMPLATE_KEYS]);
    const banner = res.channels.find((ch) => ch.key === 'banner.notice');
    expect(banner).toMatchObject({ ok: false, error: { code: 'template_not_approved' } });
    const rendered = res.channels.filter((ch) => ch.ok);
    expect(rendered).toHaveLength(UPDATE_TEMPLATE_KEYS.length - 1);
    for (const ch of rendered) {
      const all = `${ch.rendered?.subject ?? ''}\n${ch.rendered?.text ?? ''}`;
      // The same facts in every channel: name, status, link and time never differ.
      expect(all, ch.key).toContain(facts.incident_name);
      expect(all.toLowerCase(), ch.key).toContain('identified');
      expect(all, ch.key).toContain(facts.fallback_url);
      expect(all, ch.key).toContain('10:30');
      expect(ch.facts_shown, ch.key).toEqual(
        expect.arrayContaining(['incident_name', 'status', 'fallback_url', 'next_update_at']),
      );
      if (ch.facts_shown?.includes('message')) expect(all, ch.key).toContain(facts.message);
    }
    const sms = rendered.find((ch) => ch.key === 'sms.update');
    expect(sms?.facts?.sms).toMatchObject({ encoding: 'GSM-7', segments: 1 });
    expect(rendered.find((ch) => ch.key === 'social.post')?.facts?.social?.over_by).toBe(0);
    expect(rendered.find((ch) => ch.key === 'email.hourly_update')?.rendered?.html).toContain(
      '<strong>Product pages unavailable</strong>',
    );

    const bad = await c.call('POST', '/api/v1/templates/render-update', {
      token: await c.token('commander'),
      body: { ...facts, status: 'on fire', fallback_url: 'javascript:alert(1)', next_update_at: 'soon' },
    });
    expect(bad.statusCode).toBe(400);
    expect(
      bad
        .json()
        .error.details.map((d: { field: string }) => d.field)
        .sort(),
    ).toEqual(['fallback_url', 'next_update_at', 'status']);
  });
});
