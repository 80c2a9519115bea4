import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { beforeAll, describe, expect, test } from 'vitest';
import { useTestContext } from '../../test/harness/context.js';
import { describeEachDialect } from '../../test/harness/databases.js';
import { loadConfig } from '../config/config.js';
import { MINUTE } from '../core/clock.js';
import { bannerOptionsFromConfig } from './site/banner-json.js';

const HOSTILE = '<img src=x onerror="alert(1)"> & "quotes"';

describe('the browser SDK file', () => {
  test('stays within its 6 KB gzip budget', () => {
    const body = readFileSync(fileURLToPath(new URL('../../web/sdk/keepwarm-banner.js', import.meta.url)));
    const size = gzipSync(body, { level: 9 }).length;
    expect(size).toBeGreaterThan(500);
    expect(size).toBeLessThanOrEqual(6144);
  });
});

describe('banner links from config', () => {
  test('status.fallbackUrl wins, then messaging.variables.fallback_url, else none', () => {
    const base = { env: {}, cwd: '.', overrides: { publicUrl: 'https://status.example.test/' } };
    expect(bannerOptionsFromConfig(loadConfig(base))).toEqual({
      statusUrl: 'https://status.example.test/status',
      fallbackUrl: null,
    });
    const fromVariables = loadConfig({
      ...base,
      overrides: { ...base.overrides, 'messaging.variables': { fallback_url: 'https://mirror.example.test/' } },
    });
    expect(bannerOptionsFromConfig(fromVariables).fallbackUrl).toBe('https://mirror.example.test/');
    const both = loadConfig({
      ...base,
      overrides: {
        ...base.overrides,
        'messaging.variables': { fallback_url: 'https://mirror.example.test/' },
        'status.fallbackUrl': 'https://catalog.example.test/',
      },
    });
    expect(bannerOptionsFromConfig(both).fallbackUrl).toBe('https://catalog.example.test/');
  });
});

describeEachDialect('GET /status/banner.json', (dialect) => {
  const ctx = useTestContext(dialect, { config: { 'status.fallbackUrl': 'https://catalog.example.test/' } });
  let token: string;
  let cdn: string;

  beforeAll(async () => {
    token = await ctx().token('commander');
    cdn = (await ctx().call('POST', '/api/v1/components', { token, body: { name: 'CDN', kind: 'cdn' } })).json().id;
  });

  test('while operational: an inactive banner, public, with CORS and CDN-friendly caching', async () => {
    const res = await ctx().call('GET', '/status/banner.json');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['cache-control']).toBe('public, max-age=10, stale-while-revalidate=30, stale-if-error=86400');
    expect(res.json()).toMatchObject({
      version: 1,
      active: false,
      id: 'none',
      incidents: [],
      message: null,
      fallback_url: null,
      status_url: 'https://status.example.test/status',
    });
  });

  test('an incident makes it active; names and messages travel as JSON text; updates change the id; resolving ends it', async () => {
    const c = ctx();
    const before = await c.call('GET', '/status/banner.json');
    const inc = (
      await c.call('POST', '/api/v1/incidents', {
        token,
        body: {
          name: HOSTILE,
          impact: 'major',
          message: 'Product pages are down; browse the catalog meanwhile.',
          components: [{ id: cdn, status: 'major_outage' }],
        },
      })
    ).json();
    const res = await c.call('GET', '/status/banner.json');
    expect(res.statusCode).toBe(200);
    expect(res.headers.etag).not.toBe(before.headers.etag);
    const banner = JSON.parse(res.body);
    expect(banner).toMatchObject({
      version: 1,
      active: true,
      indicator: 'major',
      message: 'Product pages are down; browse the catalog meanwhile.',
      fallback_url: 'https://catalog.example.test/',
      status_url: 'https://status.example.test/status',
    });
    expect(banner.incidents[0]).toMatchObject({
      id: inc.id,
      name: HOSTILE,
      impact: 'major',
      components: [{ name: 'CDN', status: 'major_outage' }],
    });
    // The promise made by the cadence (default: an update within 60 minutes of the last one).
    expect(banner.incidents[0].next_update_at).toBe(new Date(c.clock.now() + 60 * MINUTE).toISOString());
    const firstId = banner.id;

    c.clock.advance(10 * MINUTE);
    await c.call('POST', `/api/v1/incidents/${inc.id}/updates`, { token, body: { status: 'identified', message: 'Found it.' } });
    const updated = (await c.call('GET', '/status/banner.json')).json();
    expect(updated.message).toBe('Found it.');
    expect(updated.id).not.toBe(firstId);

    c.clock.advance(10 * MINUTE);
    await c.call('POST', `/api/v1/incidents/${inc.id}/updates`, { token, body: { status: 'resolved', message: 'Back.' } });
    const resolved = (await c.call('GET', '/status/banner.json')).json();
    expect(resolved).toMatchObject({ active: false, id: 'none', message: null, fallback_url: null, incidents: [] });
  });

  test('ETag and 304 (with CORS), gzip', async () => {
    const c = ctx();
    const first = await c.call('GET', '/status/banner.json');
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]+"$/);
    const again = await c.call('GET', '/status/banner.json', { headers: { 'if-none-match': etag } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    expect(again.headers['access-control-allow-origin']).toBe('*');
    const gz = await c.call('GET', '/status/banner.json', { headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(gunzipSync(gz.rawPayload).toString())).toEqual(first.json());
    await c.call('POST', '/api/v1/incidents', { token, body: { name: 'Sign-in down', message: 'Sign-in fails.' } });
    const changed = await c.call('GET', '/status/banner.json', { headers: { 'if-none-match': etag } });
    expect(changed.statusCode).toBe(200);
    expect(changed.json().active).toBe(true);
  });

  test('over a real socket: answered from memory with the same bytes, and a change shows at once', async () => {
    const c = ctx();
    const viaInject = await c.call('GET', '/status/banner.json');
    await c.app.listen({ port: 0, host: '127.0.0.1' });
    const address = c.app.server.address();
    const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const res = await fetch(`${base}/status/banner.json`);
    expect(res.headers.get('etag')).toBe(viaInject.headers.etag);
    expect(await res.text()).toBe(viaInject.body);
    const open = (await c.call('GET', '/api/v1/incidents?state=open', { token })).json().incidents as Array<{ id: string }>;
    for (const i of open) {
      await c.call('POST', `/api/v1/incidents/${i.id}/updates`, { token, body: { status: 'resolved', message: 'Done.' } });
    }
    const after = await fetch(`${base}/status/banner.json`);
    expect(((await after.json()) as { active: boolean }).active).toBe(false);
  });

  test('GET /sdk/keepwarm-banner.js: the shipped file, long-cached, with an ETag; both routes are in the OpenAPI', async () => {
    const c = ctx();
    const res = await c.call('GET', '/sdk/keepwarm-banner.js');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(res.headers['cache-control']).toMatch(/max-age=86400/);
    expect(res.body).toBe(readFileSync(fileURLToPath(new URL('../../web/sdk/keepwarm-banner.js', import.meta.url)), 'utf8'));
    const etag = res.headers.etag as string;
    expect((await c.call('GET', '/sdk/keepwarm-banner.js', { headers: { 'if-none-match': etag } })).statusCode).toBe(304);
    const paths = (await c.call('GET', '/api/openapi.json')).json().paths;
    expect(paths['/status/banner.json'].get).toBeDefined();
    expect(paths['/sdk/keepwarm-banner.js'].get).toBeDefined();
  });
});
