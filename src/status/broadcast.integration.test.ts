import { expect, test } from 'vitest';
import { TEST_ACTOR, useTestContext } from '../../test/harness/context.js';
import { describeEachDialect } from '../../test/harness/databases.js';
import { seedDefaultTemplates } from '../messaging/default-templates.js';
import { listMessages } from '../messaging/messages.repo.js';

describeEachDialect('publish once, everywhere', (dialect) => {
  const ctx = useTestContext(dialect, {
    config: {
      'messaging.sink': true,
      'status.fallbackUrl': 'https://catalog.example.test',
      'messaging.variables': { company: 'Acme Industrial' },
    },
  });
  let admin: string;
  let cdn: string;
  let api: string;

  const declare = async (name: string) => {
    const res = await ctx().call('POST', '/api/v1/incidents', {
      token: admin,
      body: {
        name,
        message: 'Product pages are not loading. We are investigating.',
        components: [
          { id: cdn, status: 'major_outage' },
          { id: api, status: 'degraded_performance' },
        ],
      },
    });
    expect(res.statusCode).toBe(201);
    return res.json().id as string;
  };

  test('setup', async () => {
    admin = await ctx().token('admin');
    await seedDefaultTemplates(ctx().db, ctx().clock, { approve: true });
    cdn = (await ctx().services.components.create(TEST_ACTOR, { name: 'Showroom CDN', kind: 'cdn' })).id;
    api = (await ctx().services.components.create(TEST_ACTOR, { name: 'Product API', kind: 'api' })).id;
  });

  test('every public update also goes to internal Slack and social, once, in its own transaction', async () => {
    const id = await declare('Showroom pages down');
    const update = await ctx().call('POST', `/api/v1/incidents/${id}/updates`, {
      token: admin,
      body: { status: 'identified', message: 'Our CDN provider has an outage; traffic moves to the backup CDN.' },
    });
    expect(update.statusCode).toBe(201);
    const messages = await listMessages(ctx().db.kysely, { incidentId: id, limit: 50 });
    const byChannel = (channel: string) => messages.filter((m) => m.channel === channel);
    // The declaration's update and this one: one Slack message and one post each.
    expect(byChannel('slack')).toHaveLength(2);
    expect(byChannel('social')).toHaveLength(2);
    const latestSlack = byChannel('slack').find((m) => m.bodyText.includes('backup CDN'));
    expect(latestSlack?.bodyText).toContain('identified');
    expect(latestSlack?.bodyText).toContain('https://catalog.example.test');
    await ctx().worker.pump();
    const sent = await listMessages(ctx().db.kysely, { incidentId: id, channel: 'slack', limit: 10 });
    expect(sent.every((m) => m.status === 'sent' || m.status === 'delivered')).toBe(true);
  });

  test('preview shows every surface with the same facts; nothing is published', async () => {
    const id = await declare('Configurator widget failing');
    const before = (await ctx().call('GET', `/api/v1/incidents/${id}`, { token: admin })).json();
    const res = await ctx().call('POST', `/api/v1/incidents/${id}/preview`, {
      token: admin,
      body: { status: 'monitoring', message: 'A fix is live; we are watching the error rates.' },
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.publishable).toBe(true);
    const surfaces = body.reach.map((r: { surface: string; enabled: boolean }) => [r.surface, r.enabled]);
    expect(surfaces).toEqual(
      expect.arrayContaining([
        ['status_page', true],
        ['banner', true],
        ['slack', true],
        ['social', true],
      ]),
    );
    const channels = body.rendering.channels as Array<{
      key: string;
      ok: boolean;
      rendered?: { text: string };
      facts_shown?: string[];
    }>;
    expect(channels.map((c) => [c.key, c.ok])).toEqual([
      ['status.notice', true],
      ['banner.notice', true],
      ['email.status_update', true],
      ['sms.status_update', true],
      ['slack.update', true],
      ['social.post', true],
    ]);
    // Every channel that shows the message shows this one, and every one names the status.
    for (const c of channels) {
      if (c.facts_shown?.includes('message')) expect(c.rendered?.text).toContain('watching the error rates');
      if (c.facts_shown?.includes('status')) expect(c.rendered?.text.toLowerCase()).toContain('monitoring');
    }
    const after = (await ctx().call('GET', `/api/v1/incidents/${id}`, { token: admin })).json();
    expect(after).toEqual(before);
  });

  test('resolved while a named component stays down is refused with the reason, and nothing changes anywhere', async () => {
    const id = await declare('Checkout errors');
    const messagesBefore = (await listMessages(ctx().db.kysely, { incidentId: id, limit: 50 })).length;
    const res = await ctx().call('POST', `/api/v1/incidents/${id}/updates`, {
      token: admin,
      body: { status: 'resolved', message: 'All fixed.', components: [{ id: cdn, status: 'major_outage' }] },
    });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('inconsistent_update');
    expect(res.json().error.message).toContain('Showroom CDN would still show major outage');
    const incident = (await ctx().call('GET', `/api/v1/incidents/${id}`, { token: admin })).json();
    expect(incident.status).toBe('investigating');
    expect((await listMessages(ctx().db.kysely, { incidentId: id, limit: 50 })).length).toBe(messagesBefore);
    // Resolving without contradicting itself goes through.
    const ok = await ctx().call('POST', `/api/v1/incidents/${id}/updates`, {
      token: admin,
      body: { status: 'resolved', message: 'Checkout works again for everyone.' },
    });
    expect(ok.statusCode).toBe(201);
  });

  test('a channel without an approved template is skipped by the hook but refuses a checked publish', async () => {
    const id = await declare('Sign-in failures');
    const social = (await ctx().services.templates.list({ key: 'social.post' })).templates[0];
    if (!social) throw new Error('the default library has social.post');
    await ctx().services.templates.retire(TEST_ACTOR, social.template.id);
    const res = await ctx().call('POST', `/api/v1/incidents/${id}/updates`, {
      token: admin,
      body: { status: 'identified', message: 'Our sign-in provider is failing.' },
    });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.message).toContain('Social post');
  });
});
