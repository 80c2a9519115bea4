import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { DEMO_COMPONENTS } from '../../src/cli/demo.js';
import { seedDemoCatalog } from '../../src/cli/demo-catalog.js';
import { seedDemoCrm } from '../../src/cli/demo-crm.js';
import { SHOWROOM_COMPONENTS } from '../../src/demo/showroom/entry-points.js';
import { Showroom } from '../../src/demo/showroom/showroom.js';
import { launchBrowser, listenForBrowser } from '../harness/browser.js';
import { createTestContext, TEST_ACTOR, type TestContext } from '../harness/context.js';
import { DIALECTS } from '../harness/databases.js';
import { chromiumMissing, describeNeeding, postgresMissing } from '../harness/env.js';

const SITE_KEY = 'pk_test_acme_showroom_42';

interface StoredEvent {
  type: string;
  lead_id: string | null;
  email: string | null;
  product: string | null;
}

for (const dialect of DIALECTS) {
  const missing = chromiumMissing ?? (dialect === 'postgres' ? postgresMissing : null);
  describeNeeding(
    dialect === 'postgres' ? 'Chromium and PostgreSQL' : 'Chromium',
    missing,
    `demo showroom in Chromium: intent events reach Keepwarm, the banner shows in an outage [${dialect}]`,
    () => {
      let ctx: TestContext;
      let showroom: Showroom;
      let site: string;
      let browser: Browser;
      let context: BrowserContext;
      let page: Page;
      let buyers: string[];
      const problems: string[] = [];

      /** The showroom's events in Keepwarm, once `count` of them arrived (the SDK gathers for a second). */
      const eventsFromShowroom = async (count: number): Promise<StoredEvent[]> => {
        const deadline = Date.now() + 15_000;
        for (;;) {
          const rows = await ctx.db.kysely
            .selectFrom('intent_events')
            .select(['type', 'lead_id', 'email', 'product'])
            .where('source', '=', 'site:showroom')
            .orderBy('received_at')
            .execute();
          if (rows.length >= count || Date.now() > deadline) return rows;
          await new Promise((r) => setTimeout(r, 200));
        }
      };
      const leadId = async (email: string) =>
        (await ctx.db.kysely.selectFrom('leads').select('id').where('email', '=', email).executeTakeFirstOrThrow()).id;
      const watch = (p: Page) => {
        p.on('pageerror', (e) => problems.push(e.message));
        p.on('console', (m) => {
          if (m.type() === 'error' && /Content Security Policy|Uncaught/.test(m.text())) problems.push(m.text());
        });
      };

      beforeAll(async () => {
        // The showroom listens first: its origin is the one the site key allows.
        showroom = new Showroom();
        site = await showroom.listen();
        ctx = await createTestContext(dialect, {
          config: { 'crm.events': { sites: [{ name: 'showroom', key: SITE_KEY, origins: [site] }] } },
        });
        const keepwarm = await listenForBrowser(ctx);
        await seedDemoCatalog(ctx.services, { fixturesDir: null });
        buyers = (await seedDemoCrm(ctx.services)).sampleBuyers;
        for (const component of DEMO_COMPONENTS) await ctx.services.components.create(TEST_ACTOR, component);
        showroom.connect({
          catalog: ctx.services.catalog,
          keepwarmUrl: keepwarm,
          siteKey: SITE_KEY,
          bannerPollSeconds: 1,
          sampleBuyers: buyers,
        });
        browser = await launchBrowser();
        context = await browser.newContext();
        page = await context.newPage();
        watch(page);
      }, 90_000);

      afterAll(async () => {
        await context?.close();
        await browser?.close();
        await showroom?.close();
        await ctx?.close();
      });

      test('a signed-in buyer views a product: live price, configurator, and the view reaches Keepwarm matched to the demo lead', async () => {
        const buyer = buyers[0] as string;
        await page.goto(`${site}/auth/sign-in`);
        // The sign-in page suggests demo leads to sign in as.
        expect(await page.getByText(buyer).count()).toBe(1);
        await page.getByLabel('Work email').fill(buyer);
        await page.getByLabel('Password').fill('anything');
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.waitForURL(`${site}/`);
        expect(await page.getByText(`Signed in as ${buyer}`).count()).toBe(1);

        const products = page.getByRole('list', { name: 'Products' }).getByRole('link');
        expect(await products.count()).toBe(24);
        // Prices come from the product API once the page has loaded.
        await page.locator('[data-price-for][data-state="ok"]').first().waitFor({ timeout: 10_000 });
        const name = (await products.first().innerText()).trim();
        await products.first().click();
        await page.getByRole('heading', { level: 1, name }).waitFor();
        await page.locator('#price[data-state="ok"]').waitFor({ timeout: 10_000 });
        expect(await page.locator('#price').innerText()).toMatch(/€\d/);
        await page.locator('[data-configurator][data-state="ready"]').waitFor({ timeout: 10_000 });
        await page.getByLabel('Finish').selectOption('black');

        const [viewed] = await eventsFromShowroom(1);
        expect(viewed).toMatchObject({ type: 'product_viewed', product: name, email: buyer, lead_id: await leadId(buyer) });

        // A quote: priced by the API, an intent event with its value.
        await page.getByLabel('Quantity').fill('3');
        await page.getByRole('button', { name: 'Add to quote' }).click();
        await page.locator('#quote-result[data-state="ok"]').waitFor({ timeout: 10_000 });
        expect(await page.locator('#quote-result').innerText()).toMatch(/^Quote Q-\d{5}: 3 × /);
        const events = await eventsFromShowroom(2);
        expect(events[1]).toMatchObject({ type: 'cart_updated', lead_id: await leadId(buyer) });
        expect(problems).toEqual([]);
      }, 60_000);

      test('a buyer who is not signed in requests a demo with their email: the event is matched to that lead', async () => {
        const other = await browser.newContext();
        const p = await other.newPage();
        watch(p);
        const buyer = buyers[1] as string;
        await p.goto(`${site}/`);
        await p.getByRole('list', { name: 'Products' }).getByRole('link').nth(3).click();
        await p.getByLabel('Work email').fill('not an email');
        await p.getByRole('button', { name: 'Request a demo' }).click();
        await p.locator('#demo-result[data-state="failed"]').waitFor();
        expect(await p.locator('#demo-result').innerText()).toContain('Email:');
        await p.getByLabel('Work email').fill(buyer);
        await p.getByRole('button', { name: 'Request a demo' }).click();
        await p.locator('#demo-result[data-state="ok"]').waitFor();
        const events = await eventsFromShowroom(4);
        const booked = events.find((e) => e.type === 'demo_booked');
        expect(booked).toMatchObject({ email: buyer, lead_id: await leadId(buyer) });
        // The product view before it was anonymous; the demo request names the buyer.
        expect(events.filter((e) => e.type === 'product_viewed')).toHaveLength(2);
        await other.close();
        expect(problems).toEqual([]);
      }, 60_000);

      test('with the product API broken the page says so; once an incident is declared the banner shows', async () => {
        showroom.breakEntry('api');
        await page.reload();
        await page.locator('#price[data-state="failed"]').waitFor({ timeout: 10_000 });
        expect(await page.locator('#price').innerText()).toBe('Live pricing is unavailable right now');
        const banner = page.getByRole('status', { name: 'Service status' });
        expect(await banner.count()).toBe(0);

        const api = await ctx.db.kysely
          .selectFrom('components')
          .select('id')
          .where('name', '=', SHOWROOM_COMPONENTS.api)
          .executeTakeFirstOrThrow();
        const incident = await ctx.services.incidents.declare(TEST_ACTOR, {
          name: 'Prices and availability are not loading',
          impact: 'major',
          message: 'Live prices are unavailable on product pages. Quotes are still taken by sales.',
          components: [{ id: api.id, status: 'major_outage' }],
        });
        await banner.waitFor({ timeout: 10_000 });
        const text = await banner.innerText();
        expect(text).toContain('Prices and availability are not loading');
        expect(text).toContain('Live prices are unavailable on product pages.');

        // Restored and resolved: prices are back and the banner leaves.
        showroom.restore('api');
        await ctx.services.incidents.postUpdate(TEST_ACTOR, incident.incident.id, {
          status: 'resolved',
          message: 'Prices load again.',
          components: [{ id: api.id, status: 'operational' }],
        });
        await banner.waitFor({ state: 'detached', timeout: 10_000 });
        await page.reload();
        await page.locator('#price[data-state="ok"]').waitFor({ timeout: 10_000 });
        expect(problems).toEqual([]);
      }, 60_000);
    },
  );
}
