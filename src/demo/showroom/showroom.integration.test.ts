import { statSync } from 'node:fs';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { TEST_ACTOR, useTestContext } from '../../../test/harness/context.js';
import { describeEachDialect } from '../../../test/harness/databases.js';
import { describeNeeding } from '../../../test/harness/env.js';
import { fixturePath, fixturesMissing } from '../../../test/harness/fixtures.js';
import { DEMO_COMPONENTS, DEMO_MONITORS, seedDemoMonitors } from '../../cli/demo.js';
import { seedDemoCatalog } from '../../cli/demo-catalog.js';
import { DEMO_LEAD_COUNT, DEMO_REPS, seedDemoCrm } from '../../cli/demo-crm.js';
import { SECOND } from '../../core/clock.js';
import type { MonitorSpec } from '../../detection/monitor.js';
import { ProbeRunner } from '../../detection/probes/runner.js';
import { ENTRY_POINTS, SCENARIOS, type Scenario, SHOWROOM_COMPONENTS } from './entry-points.js';
import { CONTROL_FILE, connectShowroomControl, writeShowroomControlFile } from './showroom.control.js';
import { type Showroom, startShowroom } from './showroom.js';

const KEEPWARM = 'https://status.example.test';
const SITE_KEY = 'pk_test_showroom_0123456789';

describeEachDialect('demo showroom', (dialect) => {
  const ctx = useTestContext(dialect);
  let showroom: Showroom;
  let base: string;
  let runner: ProbeRunner;
  /** The demo's monitors as the monitor role runs them. */
  let specs: MonitorSpec[];

  beforeAll(async () => {
    const c = ctx();
    const catalog = await seedDemoCatalog(c.services, { fixturesDir: null });
    expect(catalog).toEqual({ products: 24, source: 'generated' });
    for (const component of DEMO_COMPONENTS) await c.services.components.create(TEST_ACTOR, component);
    showroom = await startShowroom({
      catalog: c.services.catalog,
      keepwarmUrl: KEEPWARM,
      siteKey: SITE_KEY,
      sampleBuyers: ['dana.patel@contoso.example'],
    });
    base = showroom.url;
    await seedDemoMonitors(c.services, base);
    specs = await c.services.detection.assignments(c.config.detection.region);
    runner = new ProbeRunner({ now: () => c.clock.now() });
  }, 60_000);

  afterAll(async () => {
    await runner?.close();
    await showroom?.close();
  });

  /** Every demo monitor once: monitor name → ok or the failure reason. */
  const probeAll = async (): Promise<Record<string, string>> => {
    const short = specs.map((s) =>
      s.check.type === 'http' ? { ...s, check: { ...s.check, check: { ...s.check.check, timeoutMs: 800 } } } : s,
    );
    const results = await Promise.all(short.map((s) => runner.run(s)));
    return Object.fromEntries(results.map((r, i) => [short[i]?.name, r.ok ? 'ok' : (r.error ?? 'failed')]));
  };
  const monitorOf = (s: Scenario) => `${ENTRY_POINTS[s].component} health`;
  const get = (path: string, init?: RequestInit) => fetch(`${base}${path}`, { redirect: 'manual', ...init });

  test('the demo monitors probe the showroom: its pages and the four entry points, every 5 s, down after 2 failures', async () => {
    const monitors = await ctx().services.monitors.list();
    expect(monitors.map((m) => m.name).sort()).toEqual(DEMO_MONITORS.map((m) => m.name).sort());
    const urls = Object.fromEntries(monitors.map((m) => [m.name, (m.check as { url: string }).url]));
    const health = showroom.healthUrls();
    for (const s of SCENARIOS) expect(urls[monitorOf(s)]).toBe(health[s]);
    expect(urls['Showroom pages']).toBe(showroom.originHealthUrl());
    for (const m of monitors) expect(m).toMatchObject({ intervalMs: 5_000, failuresToDown: 2 });
    expect(SHOWROOM_COMPONENTS).toEqual({
      cdn: 'Showroom CDN',
      api: 'Product API',
      auth: 'Sign-in (SSO)',
      'third-party': '3D configurator',
    });
    expect(await probeAll()).toEqual(Object.fromEntries(DEMO_MONITORS.map((m) => [m.name, 'ok'])));
  }, 30_000);

  test('the pages render the latest snapshot and embed the banner and events scripts under a strict CSP', async () => {
    const res = await get('/');
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain(`script-src 'self' ${KEEPWARM}`);
    expect(csp).toContain(`connect-src 'self' ${KEEPWARM}`);
    const html = await res.text();
    const snapshot = await ctx().services.catalog.snapshotFile();
    expect(snapshot.products).toHaveLength(24);
    for (const p of snapshot.products) expect(html).toContain(`href="/products/${encodeURIComponent(p.sku)}"`);
    expect(html).toContain(`<script src="${KEEPWARM}/sdk/keepwarm-banner.js" data-urls="${KEEPWARM}/status/banner.json"`);
    expect(html).toContain(
      `<script src="${KEEPWARM}/sdk/keepwarm-events.js" data-key="${SITE_KEY}" data-endpoints="${KEEPWARM}/api/v1/events/browser" async>`,
    );
    const first = snapshot.products[0];
    if (!first) throw new Error('no product');
    const page = await (await get(`/products/${encodeURIComponent(first.sku)}`)).text();
    expect(page).toContain(`<h1>${first.name}</h1>`);
    expect(page).toContain(`data-product-sku="${first.sku}"`);
    expect(page).toContain('<script src="/widgets/configurator/configurator.js" async>');
    expect(page).toMatch(/<input id="demo-email" name="email" type="email"/);
    const missing = await get('/products/NO-SUCH-SKU');
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('No product with SKU');

    // A new snapshot shows on the next page view.
    const report = await ctx().services.catalog.import(
      'sku,name,brand,category,price,currency,description\nNEW-1,Showcase counter C-7,Acme,tables,499.00,EUR,Counter.',
      {
        file: 'new.csv',
        format: 'generic-csv',
        mapping: {
          sku: 'sku',
          name: 'name',
          brand: 'brand',
          category: 'category',
          price: 'price',
          currency: 'currency',
          description: 'description',
        },
      },
    );
    expect(report.applied).toBe(true);
    const after = await (await get('/')).text();
    expect(after).toContain('Showcase counter C-7');
    expect(after).not.toContain(first.name);
    const api = await (await get('/api/products/NEW-1')).json();
    expect(api).toMatchObject({ sku: 'NEW-1', price: { amount: '499.00', currency: 'EUR' }, availability: 'in_stock' });
  }, 30_000);

  test('breaking one entry point fails its probe and its paths, the others keep working, restore brings it back at once', async () => {
    const expected: Record<Scenario, RegExp> = {
      cdn: /HTTP 503/,
      api: /HTTP 503/,
      auth: /reset|closed|socket/i,
      'third-party': /timeout/i,
    };
    for (const s of SCENARIOS) {
      const state = showroom.breakEntry(s);
      expect(state.entries.find((e) => e.scenario === s)?.broken).toBe(ENTRY_POINTS[s].defaultFailure);
      const outcomes = await probeAll();
      for (const [name, outcome] of Object.entries(outcomes)) {
        if (name === monitorOf(s)) expect(outcome, `${name} while ${s} is broken`).toMatch(expected[s]);
        else expect(outcome, `${name} while ${s} is broken`).toBe('ok');
      }
      // The buyer's side: the origin's pages still render.
      expect((await get('/')).status).toBe(200);
      showroom.restore(s);
      expect(Object.values(await probeAll()).every((o) => o === 'ok')).toBe(true);
    }

    // What a buyer's browser loads from a broken entry point fails as well, not only the probe.
    showroom.breakEntry('cdn');
    const css = await get('/assets/showroom.css');
    expect(css.status).toBe(503);
    expect(await css.text()).toContain('503 Service Unavailable');
    showroom.breakEntry('api', 'unavailable');
    const prices = await get('/api/products');
    expect(prices.status).toBe(503);
    expect(prices.headers.get('retry-after')).toBe('30');
    showroom.breakEntry('auth', 'timeout');
    const hung = get('/auth/sign-in', { signal: AbortSignal.timeout(5_000) }).then(
      () => 'answered',
      (err: Error) => err.message,
    );
    await new Promise((r) => setTimeout(r, 300));
    // Restoring ends requests held by a timeout failure (dropped), and new ones are answered.
    showroom.restore();
    expect(await hung).not.toBe('answered');
    expect((await get('/assets/showroom.css')).status).toBe(200);
    expect((await get('/api/products')).status).toBe(200);
    expect((await get('/auth/sign-in')).status).toBe(200);
    expect(showroom.state().entries.every((e) => e.broken === null)).toBe(true);
  }, 60_000);

  test('detection confirms the broken entry point: its component goes down, the others stay operational', async () => {
    const c = ctx();
    const region = c.config.detection.region;
    showroom.breakEntry('api');
    for (let i = 0; i < 2; i++) {
      await c.services.detection.recordResults(region, await Promise.all(specs.map((s) => runner.run(s))));
      c.clock.advance(5 * SECOND);
    }
    const token = await c.token('viewer');
    const health = (await c.call('GET', '/api/v1/health', { token })).json() as {
      components: Array<{ name: string; status: string }>;
    };
    const status = Object.fromEntries(health.components.map((x) => [x.name, x.status]));
    expect(status['Product API']).toBe('major_outage');
    for (const name of ['Showroom CDN', 'Showroom origin', 'Sign-in (SSO)', '3D configurator'])
      expect(status[name], name).toBe('operational');
    showroom.restore('api');
    for (let i = 0; i < 2; i++) {
      await c.services.detection.recordResults(region, await Promise.all(specs.map((s) => runner.run(s))));
      c.clock.advance(5 * SECOND);
    }
    const back = (await c.call('GET', '/api/v1/health', { token })).json() as {
      components: Array<{ name: string; status: string }>;
    };
    expect(back.components.find((x) => x.name === 'Product API')?.status).toBe('operational');
  }, 60_000);

  test('the HTTP control endpoint: token required, bad input named, the control file gives another process the same levers', async () => {
    const none = await get('/_control/state');
    expect(none.status).toBe(401);
    const wrong = await get('/_control/break', {
      method: 'POST',
      headers: { authorization: 'Bearer wrong', 'content-type': 'application/json' },
      body: '{"scenario":"api"}',
    });
    expect(wrong.status).toBe(401);
    expect(showroom.state().entries.every((e) => e.broken === null)).toBe(true);

    const auth = { authorization: `Bearer ${showroom.controlToken}`, 'content-type': 'application/json' };
    const bad = await get('/_control/break', { method: 'POST', headers: auth, body: '{"scenario":"dns"}' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: unknown }).error).toMatchObject({
      code: 'validation_failed',
      message: expect.stringContaining('scenario: expected one of cdn, api, auth, third-party'),
    });
    const badMode = await get('/_control/break', { method: 'POST', headers: auth, body: '{"scenario":"cdn","mode":"slow"}' });
    expect(badMode.status).toBe(400);
    expect(((await badMode.json()) as { error: { message: string } }).error.message).toContain(
      'mode: expected one of unavailable, reset, timeout',
    );
    const notJson = await get('/_control/break', { method: 'POST', headers: auth, body: '{' });
    expect(notJson.status).toBe(400);

    const dir = ctx().scratch.dir;
    await expect(connectShowroomControl(`${dir}/nowhere`)).rejects.toThrow(/No demo showroom runs on the data folder/);
    const file = await writeShowroomControlFile(dir, showroom);
    expect(file.endsWith(CONTROL_FILE)).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const control = await connectShowroomControl(dir);
    const broken = await control.breakEntry('third-party', 'unavailable');
    expect(broken.entries.find((e) => e.scenario === 'third-party')).toMatchObject({
      component: '3D configurator',
      broken: 'unavailable',
      health_url: `${base}/widgets/configurator/health`,
    });
    expect((await get('/widgets/configurator/configurator.js')).status).toBe(503);
    expect((await control.restore('third-party')).entries.every((e) => e.broken === null)).toBe(true);
    expect((await get('/widgets/configurator/configurator.js')).status).toBe(200);
  }, 30_000);

  test('sign-in and the quote API refuse bad input by field and work for a buyer', async () => {
    const badEmail = await get('/auth/sign-in', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'email=not-an-email&password=x&next=%2F',
    });
    expect(badEmail.status).toBe(400);
    expect(await badEmail.text()).toContain('Email: expected an email address');
    const signIn = await get('/auth/sign-in', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'email=Dana.Patel%40Contoso.example&password=x&next=%2Fproducts%2FNEW-1',
    });
    expect(signIn.status).toBe(303);
    expect(signIn.headers.get('location')).toBe('/products/NEW-1');
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const page = await (await get('/products/NEW-1', { headers: { cookie } })).text();
    expect(page).toContain('data-buyer="dana.patel@contoso.example"');
    expect(page).toContain('Signed in as dana.patel@contoso.example');
    expect(page).toContain('value="dana.patel@contoso.example"');
    expect(await (await get('/auth/sign-in')).text()).toContain('dana.patel@contoso.example');

    const quote = (body: unknown) =>
      get('/api/quote', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const badQty = await quote({ sku: 'NEW-1', quantity: 0 });
    expect(badQty.status).toBe(400);
    expect(((await badQty.json()) as { error: unknown }).error).toMatchObject({ details: [{ field: 'quantity' }] });
    expect((await quote({ sku: 'NOPE', quantity: 1 })).status).toBe(404);
    const ok = (await (await quote({ sku: 'NEW-1', quantity: 4, options: { size: 'large' } })).json()) as { quote: string };
    expect(ok).toMatchObject({ sku: 'NEW-1', quantity: 4, total: { amount: '2295.40', currency: 'EUR' } });
    expect(ok.quote).toMatch(/^Q-\d{5}$/);
  }, 30_000);

  test('the demo pipeline: 500 leads with owners, a realistic tier spread, product views of the catalog; seeded once', async () => {
    const c = ctx();
    const started = performance.now();
    const crm = await seedDemoCrm(c.services, { products: ['Showcase counter C-7'] });
    const ms = performance.now() - started;
    expect(ms).toBeLessThan(20_000);
    const leads = await c.db.kysely
      .selectFrom('leads')
      .select(['email', 'owner_id', 'arr_potential', 'demo_scheduled_at', 'last_activity_at'])
      .execute();
    expect(leads).toHaveLength(DEMO_LEAD_COUNT);
    expect(leads.every((l) => l.owner_id !== null)).toBe(true);
    expect(new Set(leads.map((l) => l.owner_id)).size).toBe(DEMO_REPS.length);
    expect(new Set(leads.map((l) => l.email)).size).toBe(DEMO_LEAD_COUNT);
    const now = c.clock.now();
    const dayStart = Math.floor(now / 86_400_000) * 86_400_000;
    const demoToday = leads.filter(
      (l) =>
        l.demo_scheduled_at !== null &&
        Number(l.demo_scheduled_at) >= dayStart &&
        Number(l.demo_scheduled_at) < dayStart + 86_400_000,
    );
    expect(demoToday).toHaveLength(12);
    expect(demoToday.every((l) => Number(l.arr_potential) > 25_000)).toBe(true);
    // Tier B material: active in the last three days with $5K–$25K; the long tail is mostly small.
    const recent = leads.filter((l) => Number(l.last_activity_at) >= now - 3 * 86_400_000 && l.demo_scheduled_at === null);
    expect(recent).toHaveLength(110);
    expect(recent.every((l) => Number(l.arr_potential) >= 5_000 && Number(l.arr_potential) <= 25_000)).toBe(true);
    const quiet = leads.filter((l) => Number(l.last_activity_at) < now - 20 * 86_400_000).map((l) => Number(l.arr_potential));
    expect(quiet).toHaveLength(DEMO_LEAD_COUNT - 152);
    expect(quiet.filter((v) => v < 5_000).length / quiet.length).toBeGreaterThan(0.6);
    expect(quiet.some((v) => v > 10_000)).toBe(true);
    const views = await c.db.kysely
      .selectFrom('intent_events')
      .select(['product', 'lead_id'])
      .where('type', '=', 'product_viewed')
      .execute();
    expect(views).toHaveLength(2 * 122);
    expect(views.every((v) => v.product === 'Showcase counter C-7' && v.lead_id !== null)).toBe(true);
    expect(crm.sampleBuyers.length).toBeGreaterThanOrEqual(4);
    expect(leads.map((l) => l.email)).toEqual(expect.arrayContaining(crm.sampleBuyers));

    const again = await seedDemoCrm(c.services);
    expect(again.sampleBuyers).toEqual(crm.sampleBuyers);
    expect(
      Number(
        (
          await c.db.kysely
            .selectFrom('leads')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirst()
        )?.n,
      ),
    ).toBe(DEMO_LEAD_COUNT);
  }, 60_000);
});

describeEachDialect('demo catalog from the shared fixtures', (dialect) => {
  const ctx = useTestContext(dialect);
  describeNeeding('the shared fixtures', fixturesMissing, 'the icecat catalog', () => {
    test('the Akeneo icecat products and categories become the demo catalog, once', async () => {
      const c = ctx();
      const seeded = await seedDemoCatalog(c.services, { fixturesDir: fixturePath('catalog') });
      expect(seeded).toEqual({ products: 10, source: 'fixtures' });
      const snapshot = await c.services.catalog.snapshotFile();
      expect(snapshot.products).toHaveLength(10);
      expect(snapshot.categories.find((x) => x.code === 'pc_monitors')?.label).toBe('PC Monitors');
      expect(await seedDemoCatalog(c.services, { fixturesDir: fixturePath('catalog') })).toEqual({
        products: 0,
        source: 'existing',
      });
    }, 30_000);
  });
});
