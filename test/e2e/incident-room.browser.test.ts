import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { HOUR } from '../../src/core/clock.js';
import { newId } from '../../src/core/ids.js';
import { toDbBool } from '../../src/db/codec.js';
import { seedDefaultTemplates } from '../../src/messaging/default-templates.js';
import { launchBrowser, listenForBrowser, signInThrough } from '../harness/browser.js';
import { createTestContext, TEST_ACTOR, type TestContext } from '../harness/context.js';
import { DIALECTS } from '../harness/databases.js';
import { chromiumMissing, describeNeeding, postgresMissing } from '../harness/env.js';

const PASSWORD = 'incident-room-password';

/** The element that has the keyboard focus, described by its id, aria-label or text. */
function focused(page: Page): Promise<string> {
  return page.evaluate<string>(
    `(() => { const el = document.activeElement; if (!el) return ''; return el.id || el.getAttribute('aria-label') || (el.textContent || '').trim(); })()`,
  );
}

for (const dialect of DIALECTS) {
  const missing = chromiumMissing ?? (dialect === 'postgres' ? postgresMissing : null);
  describeNeeding(
    dialect === 'postgres' ? 'Chromium and PostgreSQL' : 'Chromium',
    missing,
    `incident room in Chromium [${dialect}]`,
    () => {
      let ctx: TestContext;
      let base: string;
      let browser: Browser;

      beforeAll(async () => {
        ctx = await createTestContext(dialect, {
          config: {
            'messaging.sink': true,
            'messaging.variables': { company: 'Acme Industrial', fallback_url: 'https://catalog.example.test' },
            'status.fallbackUrl': 'https://catalog.example.test',
          },
        });
        base = await listenForBrowser(ctx);
        await seedDefaultTemplates(ctx.db, ctx.clock, { approve: true });
        await ctx.services.auth.createUser(TEST_ACTOR, {
          email: 'ic@example.test',
          name: 'Iris Commander',
          role: 'commander',
          password: PASSWORD,
        });
        await ctx.services.auth.createUser(TEST_ACTOR, {
          email: 'mia@example.test',
          name: 'Mia Marketing',
          role: 'marketing',
          password: PASSWORD,
        });
        const sam = await ctx.services.auth.createUser(TEST_ACTOR, {
          email: 'sam@example.test',
          name: 'Sam Sales',
          role: 'sales',
          password: PASSWORD,
        });
        await ctx.services.components.create(TEST_ACTOR, { name: 'Showroom CDN', kind: 'cdn' });
        const now = ctx.clock.now();
        const lead = (first: string, arr: number, demoIn: number | null) => ({
          id: newId(now),
          email: `${first.toLowerCase()}@buyer.test`,
          first_name: first,
          last_name: 'Buyer',
          company: `${first} Ltd`,
          owner_id: sam.id,
          account_id: null,
          lifecycle: 'lead',
          arr_potential: arr,
          demo_scheduled_at: demoIn === null ? null : now + demoIn,
          last_activity_at: null,
          timezone: null,
          outage_status: null,
          outage_incident_id: null,
          fallback_sent: toDbBool(false),
          attributes: '{}',
          consent_email: 'unknown',
          consent_sms: 'unknown',
          created_at: now,
          updated_at: now,
        });
        await ctx.db.kysely
          .insertInto('leads')
          .values([lead('Ada', 50_000, 2 * HOUR), lead('Cleo', 1_000, null), lead('Carl', 2_000, null)])
          .execute();
        browser = await launchBrowser();
      }, 60_000);

      afterAll(async () => {
        await browser?.close();
        await ctx?.close();
      });

      test('a whole incident worked from the room, mostly from the keyboard, with live updates', async () => {
        const context = await browser.newContext();
        const page = await context.newPage();
        const problems: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error') problems.push(m.text());
        });
        page.on('pageerror', (e) => problems.push(e.message));
        try {
          // Declare from the form.
          await signInThrough(page, base, { email: 'ic@example.test', password: PASSWORD }, '/console/incidents/new');
          await page.getByLabel('Name').fill('Product pages not loading');
          await page.getByLabel('Showroom CDN').selectOption('major_outage');
          await page.getByLabel('Name').press('Enter');
          await page.waitForURL(/\/console\/incidents\/[0-9a-f-]{36}$/);
          const incidentId = page.url().split('/').at(-1) as string;

          // The room: skip links to every panel, the live stream connected.
          const nav = page.getByRole('navigation', { name: 'Incident room' });
          for (const name of ['Timeline', 'Checklist', 'Roles', 'Tier queues', 'Delivery', 'Health', 'Fallback and flags']) {
            expect(await nav.getByRole('link', { name, exact: true }).count()).toBe(1);
          }
          await expect.poll(() => page.locator('[data-stream-state]').innerText()).toContain('Live');
          expect(await page.locator('#health').innerText()).toContain('Showroom CDN');
          expect(await page.locator('#fallback [data-flag="showroom.configurator"]').count()).toBe(1);
          expect(await page.locator('#delivery').innerText()).toContain('No messages for this incident yet.');
          await page.evaluate('window.roomMarker = 1');

          // The worker tags the pipeline: the tier queues fill without a reload.
          await ctx.worker.pump();
          await expect.poll(() => page.locator('#tiers [data-tier="A"]').innerText(), { timeout: 15_000 }).toMatch(/: 1 leads/);
          await expect.poll(() => page.locator('#tiers').innerText(), { timeout: 15_000 }).toContain('Ada Buyer');
          expect(await page.locator('#tiers').innerText()).toContain('Sam Sales');

          // Another session posts an update through the API: it appears live, announced, no reload.
          const mia = await ctx.token('marketing');
          const posted = await ctx.call('POST', `/api/v1/incidents/${incidentId}/updates`, {
            token: mia,
            body: { status: 'identified', message: 'Our CDN provider <b>confirmed</b> an outage in Frankfurt.' },
          });
          expect(posted.statusCode).toBeLessThan(300);
          const timeline = page.locator('[data-live="timeline"]');
          await expect
            .poll(() => timeline.innerText(), { timeout: 15_000 })
            .toContain('Our CDN provider <b>confirmed</b> an outage');
          expect(await timeline.locator('b').count()).toBe(0);
          await expect.poll(() => page.locator('[data-announce]').innerText()).not.toBe('');
          expect(await page.evaluate('window.roomMarker')).toBe(1);
          // The acknowledgement item is done by that update; the facts show it acknowledged.
          await expect
            .poll(() => page.locator('#checklist [data-item="acknowledge"]').innerText(), { timeout: 15_000 })
            .toContain('✓');

          // Keyboard: "g c" goes to the checklist; Tab reaches its first action; Enter completes it.
          await page.locator('body').click({ position: { x: 5, y: 5 } });
          await page.keyboard.press('g');
          await page.keyboard.press('c');
          expect(await focused(page)).toBe('checklist');
          let label = '';
          for (let i = 0; i < 10 && !label.startsWith('Mark done: Send the email'); i++) {
            await page.keyboard.press('Tab');
            label = await focused(page);
          }
          expect(label).toBe('Mark done: Send the email and SMS templates to the high-intent segments');
          await page.keyboard.press('Enter');
          await page.waitForURL(/done=checklist/);
          expect(await page.locator('#checklist [data-item="outreach"]').innerText()).toContain('Iris Commander');

          // Roles: "g r", choose the communications lead, Tab to its button, Enter.
          await page.keyboard.press('g');
          await page.keyboard.press('r');
          expect(await focused(page)).toBe('roles');
          for (const expected of ['role-commander', 'Assign incident commander', 'role-communications']) {
            await page.keyboard.press('Tab');
            expect(await focused(page)).toBe(expected);
          }
          await page.getByLabel('Communications lead', { exact: true }).selectOption({ label: 'Mia Marketing (marketing)' });
          await page.keyboard.press('Tab');
          expect(await focused(page)).toBe('Assign communications lead');
          await page.keyboard.press('Enter');
          await page.waitForURL(/done=role/);
          expect(await page.locator('[data-role="communications"]').innerText()).toContain('Mia Marketing');
          await page.getByLabel('Sales lead', { exact: true }).selectOption({ label: 'Sam Sales (sales)' });
          await page.getByRole('button', { name: 'Assign sales lead' }).press('Enter');
          await page.waitForURL(/done=role/);
          expect(await page.locator('[data-role="sales"]').innerText()).toContain('Sam Sales');
          expect(await timeline.innerText()).toContain('Sales lead: Sam Sales');

          // The composer: "u" focuses the message; type it, publish with the keyboard.
          await page.locator('h1').click();
          await page.keyboard.press('u');
          expect(await focused(page)).toBe('update-message');
          await page.keyboard.type('Traffic is moving to the backup CDN; browse the catalog meanwhile.');
          await page.getByLabel('Status', { exact: true }).selectOption('monitoring');
          await page.getByRole('button', { name: 'Publish everywhere' }).press('Enter');
          await page.waitForURL(/done=update/);
          expect(await timeline.innerText()).toContain('Traffic is moving to the backup CDN');

          // Delivery figures: queued first, then sent once the worker delivers (live, no reload).
          const slack = page.locator('#delivery [data-channel="slack"]');
          expect(await slack.count()).toBe(1);
          const cell = async (status: string) => Number(await slack.locator(`[data-status="${status}"]`).innerText());
          const delivered = async () => (await cell('sent')) + (await cell('delivered'));
          expect(await cell('queued')).toBeGreaterThan(0);
          const before = await delivered();
          await ctx.worker.pump();
          await expect.poll(delivered, { timeout: 15_000 }).toBeGreaterThan(before);

          // Resolve from the composer.
          await page.keyboard.press('u');
          await page.keyboard.type('Product pages load normally again.');
          await page.getByLabel('Status', { exact: true }).selectOption('resolved');
          await page.getByRole('button', { name: 'Publish everywhere' }).press('Enter');
          await page.waitForURL(/done=update/);
          expect(await page.locator('#facts').innerText()).toMatch(/Resolved/);
          expect((await ctx.services.incidents.get(incidentId)).incident.status).toBe('resolved');
          expect(problems).toEqual([]);
        } finally {
          await context.close();
        }
      }, 120_000);

      test('without JavaScript the room still works: panels render, forms post, reload shows what changed', async () => {
        const context = await browser.newContext({ javaScriptEnabled: false });
        const page = await context.newPage();
        try {
          const declared = await ctx.services.incidents.declare(TEST_ACTOR, { name: 'Search is slow', drill: true });
          const id = declared.incident.id;
          await signInThrough(page, base, { email: 'ic@example.test', password: PASSWORD }, `/console/incidents/${id}`);
          expect(await page.locator('[data-drill]').innerText()).toContain('Drill.');
          await page.getByRole('button', { name: 'Mark done: Send the email and SMS templates' }).click();
          await page.waitForURL(/done=checklist/);
          expect(await page.locator('#checklist [data-item="outreach"]').innerText()).toContain('Iris Commander');
          await ctx.services.incidents.addNote(TEST_ACTOR, id, 'Written elsewhere');
          await page.reload();
          expect(await page.locator('[data-live="timeline"]').innerText()).toContain('Written elsewhere');
        } finally {
          await context.close();
        }
      }, 60_000);
    },
  );
}
