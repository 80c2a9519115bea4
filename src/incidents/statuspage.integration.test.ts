import { gunzipSync } from 'node:zlib';
import { beforeAll, expect, test } from 'vitest';
import { createTestContext, useTestContext } from '../../test/harness/context.js';
import { describeEachDialect } from '../../test/harness/databases.js';
import { MINUTE, SECOND } from '../core/clock.js';

const COMPONENT_KEYS = [
  'created_at',
  'description',
  'group',
  'group_id',
  'id',
  'name',
  'only_show_if_degraded',
  'page_id',
  'position',
  'showcase',
  'start_date',
  'status',
  'updated_at',
];
const INCIDENT_KEYS = [
  'components',
  'created_at',
  'id',
  'impact',
  'incident_updates',
  'monitoring_at',
  'name',
  'page_id',
  'resolved_at',
  'shortlink',
  'started_at',
  'status',
  'updated_at',
];
const UPDATE_KEYS = [
  'affected_components',
  'body',
  'created_at',
  'custom_tweet',
  'deliver_notifications',
  'display_at',
  'id',
  'incident_id',
  'status',
  'tweet_id',
  'updated_at',
];

describeEachDialect('Statuspage v2 public API', (dialect) => {
  const ctx = useTestContext(dialect, { config: { 'status.pageName': 'Acme status' } });
  let token: string;
  let cdn: string;
  let origin: string;

  beforeAll(async () => {
    token = await ctx().token('commander');
    cdn = (
      await ctx().call('POST', '/api/v1/components', { token, body: { name: 'CDN', kind: 'cdn', group: 'Showroom' } })
    ).json().id;
    origin = (
      await ctx().call('POST', '/api/v1/components', { token, body: { name: 'Origin', kind: 'origin', group: 'Showroom' } })
    ).json().id;
    await ctx().call('POST', '/api/v1/components', { token, body: { name: 'Checkout', kind: 'checkout' } });
  });

  test('all systems operational: exact Statuspage shapes, no auth needed', async () => {
    const res = await ctx().call('GET', '/api/v2/summary.json');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(['components', 'incidents', 'page', 'scheduled_maintenances', 'status']);
    expect(Object.keys(body.page).sort()).toEqual(['id', 'name', 'time_zone', 'updated_at', 'url']);
    expect(body.page).toMatchObject({ name: 'Acme status', url: 'https://status.example.test', time_zone: 'Etc/UTC' });
    expect(body.status).toEqual({ indicator: 'none', description: 'All Systems Operational' });
    const group = body.components.find((c: { group: boolean }) => c.group);
    expect(group).toMatchObject({ name: 'Showroom', group: true, components: [cdn, origin], status: 'operational' });
    const child = body.components.find((c: { id: string }) => c.id === cdn);
    expect(Object.keys(child).sort()).toEqual(COMPONENT_KEYS);
    expect(child).toMatchObject({ group_id: group.id, page_id: body.page.id, group: false, status: 'operational' });
    expect((await ctx().call('GET', '/api/v2/status.json')).json()).toEqual({ page: body.page, status: body.status });
    expect((await ctx().call('GET', '/api/v2/components.json')).json().components).toEqual(body.components);
  });

  test('an acknowledged incident appears with its updates newest first; the indicator follows its impact', async () => {
    const c = ctx();
    const inc = (
      await c.call('POST', '/api/v1/incidents', {
        token,
        body: {
          name: 'Slow product pages',
          impact: 'minor',
          message: 'Pages load slowly; investigating.',
          components: [{ id: cdn, status: 'degraded_performance' }],
        },
      })
    ).json();
    let summary = (await c.call('GET', '/api/v2/summary.json')).json();
    expect(summary.status).toEqual({ indicator: 'minor', description: 'Minor Service Outage' });
    expect(summary.incidents).toHaveLength(1);
    const published = summary.incidents[0];
    expect(Object.keys(published).sort()).toEqual(INCIDENT_KEYS);
    expect(published).toMatchObject({
      id: inc.id,
      name: 'Slow product pages',
      status: 'investigating',
      impact: 'minor',
      shortlink: `https://status.example.test/incidents/${inc.id}`,
      resolved_at: null,
      monitoring_at: null,
      page_id: summary.page.id,
    });
    expect(published.components.map((x: { id: string }) => x.id)).toEqual([cdn]);
    expect(Object.keys(published.incident_updates[0]).sort()).toEqual(UPDATE_KEYS);
    expect(published.incident_updates[0]).toMatchObject({
      status: 'investigating',
      body: 'Pages load slowly; investigating.',
      incident_id: inc.id,
      affected_components: [{ code: cdn, name: 'CDN', old_status: 'operational', new_status: 'degraded_performance' }],
    });

    c.clock.advance(20 * MINUTE);
    await c.call('POST', `/api/v1/incidents/${inc.id}/updates`, {
      token,
      body: {
        status: 'identified',
        impact: 'critical',
        message: 'The origin is down.',
        components: [{ id: origin, status: 'major_outage' }],
      },
    });
    summary = (await c.call('GET', '/api/v2/summary.json')).json();
    expect(summary.status).toEqual({ indicator: 'critical', description: 'Major Service Outage' });
    expect(summary.incidents[0].incident_updates.map((u: { status: string }) => u.status)).toEqual([
      'identified',
      'investigating',
    ]);
    expect(summary.components.find((x: { group: boolean }) => x.group).status).toBe('major_outage');

    c.clock.advance(20 * MINUTE);
    await c.call('POST', `/api/v1/incidents/${inc.id}/updates`, { token, body: { status: 'resolved', message: 'Fixed.' } });
    summary = (await c.call('GET', '/api/v2/summary.json')).json();
    expect(summary.status.indicator).toBe('none');
    expect(summary.incidents).toEqual([]);
    expect((await c.call('GET', '/api/v2/incidents/unresolved.json')).json().incidents).toEqual([]);
    const all = (await c.call('GET', '/api/v2/incidents.json')).json().incidents;
    expect(all[0]).toMatchObject({ id: inc.id, status: 'resolved', resolved_at: new Date(c.clock.now()).toISOString() });
    expect(all[0].incident_updates[0].affected_components).toEqual([
      { code: cdn, name: 'CDN', old_status: 'degraded_performance', new_status: 'operational' },
      { code: origin, name: 'Origin', old_status: 'major_outage', new_status: 'operational' },
    ]);
  });

  test('ETag and 304, cache headers for CDNs, CORS, gzip', async () => {
    const c = ctx();
    const first = await c.call('GET', '/api/v2/summary.json');
    expect(first.headers['cache-control']).toBe('public, max-age=10, stale-while-revalidate=30, stale-if-error=86400');
    expect(first.headers['access-control-allow-origin']).toBe('*');
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const again = await c.call('GET', '/api/v2/summary.json', { headers: { 'if-none-match': etag } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    expect((await c.call('GET', '/api/v2/summary.json', { headers: { 'if-none-match': `"other", W/${etag}` } })).statusCode).toBe(
      304,
    );
    const gz = await c.call('GET', '/api/v2/summary.json', { headers: { 'accept-encoding': 'gzip, br' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(gunzipSync(gz.rawPayload).toString())).toEqual(first.json());
    // Any change gives a new ETag at once.
    await c.call('PATCH', `/api/v1/components/${cdn}`, { token, body: { status: 'under_maintenance' } });
    const changed = await c.call('GET', '/api/v2/summary.json', { headers: { 'if-none-match': etag } });
    expect(changed.statusCode).toBe(200);
    expect(changed.headers.etag).not.toBe(etag);
    await c.call('PATCH', `/api/v1/components/${cdn}`, { token, body: { status: 'operational' } });
  });

  test('incidents.json holds the 50 most recent incidents, newest first; drills stay off by default', async () => {
    const c = ctx();
    const drill = (
      await c.call('POST', '/api/v1/incidents', { token, body: { name: 'Drill', message: 'drill', drill: true } })
    ).json();
    for (let i = 0; i < 52; i++) {
      c.clock.advance(SECOND);
      await c.call('POST', '/api/v1/incidents', { token, body: { name: `Incident ${i}`, message: `n${i}`, impact: 'none' } });
    }
    const incidents = (await c.call('GET', '/api/v2/incidents.json')).json().incidents;
    expect(incidents).toHaveLength(50);
    expect(incidents[0].name).toBe('Incident 51');
    expect(incidents[49].name).toBe('Incident 2');
    const unresolved = (await c.call('GET', '/api/v2/incidents/unresolved.json')).json().incidents;
    expect(unresolved).toHaveLength(52);
    expect(unresolved.some((i: { id: string }) => i.id === drill.id)).toBe(false);
  });
  test('over a real socket the documents are answered ahead of the framework, with the same bytes and headers', async () => {
    const c = ctx();
    const viaInject = await c.call('GET', '/api/v2/summary.json');
    await c.app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const address = c.app.server.address();
      const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
      const res = await fetch(`${base}/api/v2/summary.json`, { headers: { 'accept-encoding': 'identity' } });
      expect(res.status).toBe(200);
      expect(await res.text()).toBe(viaInject.body);
      expect(res.headers.get('etag')).toBe(viaInject.headers.etag);
      expect(res.headers.get('cache-control')).toBe(viaInject.headers['cache-control']);
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
      const notModified = await fetch(`${base}/api/v2/summary.json`, {
        headers: { 'if-none-match': String(viaInject.headers.etag) },
      });
      expect(notModified.status).toBe(304);
      const head = await fetch(`${base}/api/v2/status.json`, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(await head.text()).toBe('');
      // Anything unusual (a cache-busting query string) goes through the framework route, same answer.
      const busted = await fetch(`${base}/api/v2/status.json?t=1`);
      expect(await busted.json()).toEqual((await c.call('GET', '/api/v2/status.json')).json());
      // A change is visible on the very next request.
      await c.call('PATCH', `/api/v1/components/${cdn}`, { token, body: { status: 'partial_outage' } });
      const after = (await (await fetch(`${base}/api/v2/status.json`)).json()) as { status: { indicator: string } };
      expect(after.status.indicator).toBe('minor');
      await c.call('PATCH', `/api/v1/components/${cdn}`, { token, body: { status: 'operational' } });
    } finally {
      await c.app.close();
    }
  });
});

describeEachDialect('Statuspage documents across processes', (dialect) => {
  test('a change written by another process shows within the revalidation interval; a dead database keeps the last copy served', async () => {
    const a = await createTestContext(dialect);
    // A second app on the same database, like a second web process.
    const { buildApp } = await import('../app/build-app.js');
    const { openDatabase } = await import('../db/database.js');
    const { silentLogger } = await import('../core/log.js');
    const db2 = openDatabase(a.scratch.url);
    const b = await buildApp({ config: a.config, db: db2, clock: a.clock, log: silentLogger });
    try {
      const before = (await b.app.inject({ method: 'GET', url: '/api/v2/components.json' })).json();
      expect(before.components).toEqual([]);
      const token = await a.token('admin');
      await a.call('POST', '/api/v1/components', { token, body: { name: 'API', kind: 'api' } });
      // Within the interval, b still serves its copy; after it, b notices the new revision.
      expect((await b.app.inject({ method: 'GET', url: '/api/v2/components.json' })).json().components).toEqual([]);
      a.clock.advance(1500);
      await b.app.inject({ method: 'GET', url: '/api/v2/components.json' }); // triggers the background check
      await b.services.statusFeed.settled();
      const after = (await b.app.inject({ method: 'GET', url: '/api/v2/components.json' })).json();
      expect(after.components.map((x: { name: string }) => x.name)).toEqual(['API']);
      await db2.close();
      a.clock.advance(1500);
      const stale = await b.app.inject({ method: 'GET', url: '/api/v2/components.json' });
      expect(stale.statusCode).toBe(200);
      expect(stale.json().components.map((x: { name: string }) => x.name)).toEqual(['API']);
    } finally {
      await b.app.close();
      await a.close();
    }
  });
});
