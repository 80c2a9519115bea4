import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { launchBrowser, listenForBrowser, signInThrough } from '../harness/browser.js';
import { createTestContext, TEST_ACTOR, type TestContext } from '../harness/context.js';
import { DIALECTS } from '../harness/databases.js';
import { chromiumMissing, describeNeeding, postgresMissing } from '../harness/env.js';

for (const dialect of DIALECTS) {
  const missing = chromiumMissing ?? (dialect === 'postgres' ? postgresMissing : null);
  describeNeeding(
    dialect === 'postgres' ? 'Chromium and PostgreSQL' : 'Chromium',
    missing,
    `console in Chromium [${dialect}]`,
    () => {
      let ctx: TestContext;
      let base: string;
      let browser: Browser;
      const password = 'incident-commander-pw';

      beforeAll(async () => {
        ctx = await createTestContext(dialect);
        base = await listenForBrowser(ctx);
        await ctx.services.auth.createUser(TEST_ACTOR, {
          email: 'ic@example.test',
          name: 'Iris Commander',
          role: 'commander',
          password,
        });
        await ctx.services.auth.createUser(TEST_ACTOR, {
          email: 'viewer@example.test',
          name: 'Vic Viewer',
          role: 'viewer',
          password,
        });
        await ctx.services.components.create(TEST_ACTOR, { name: 'Showroom CDN', kind: 'cdn' });
        await ctx.services.components.create(TEST_ACTOR, { name: 'Product API', kind: 'api' });
        browser = await launchBrowser();
      }, 60_000);

      afterAll(async () => {
        await browser?.close();
        await ctx?.close();
      });

      const signIn = (page: Page, email: string) => signInThrough(page, base, { email, password });

      test('without JavaScript: sign in, declare, post an update, see it on the timeline and in summary.json', async () => {
        const context = await browser.newContext({ javaScriptEnabled: false });
        const page = await context.newPage();
        try {
          await signIn(page, 'ic@example.test');
          await page.getByRole('link', { name: 'Declare incident' }).click();
          await page.getByLabel('Name').fill('Product pages unavailable <b>');
          await page.getByLabel('Showroom CDN').selectOption('major_outage');
          await page.getByLabel('First public update').fill('We are investigating errors on product pages.');
          await page.getByRole('button', { name: 'Declare incident' }).click();
          await expect.poll(() => page.url()).toMatch(/\/console\/incidents\/[0-9a-f-]{36}$/);
          const incidentId = page.url().split('/').at(-1) as string;
          // User text is escaped, never interpreted.
          expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Product pages unavailable <b>');

          await page.getByLabel('Status', { exact: true }).selectOption('identified');
          await page.getByLabel('Message').fill('Our CDN provider confirmed an outage; the backup CDN is being enabled.');
          await page.getByRole('button', { name: 'Publish everywhere' }).click();
          await page.waitForURL(/done=update/);
          expect(await page.getByRole('status').innerText()).toContain('Update published.');
          const timeline = await page.locator('[data-live="timeline"]').innerText();
          expect(timeline).toContain('Our CDN provider confirmed an outage; the backup CDN is being enabled.');
          expect(timeline).toContain('We are investigating errors on product pages.');
          expect(timeline).toContain('Iris Commander');

          const summary = (await (await fetch(`${base}/api/v2/summary.json`)).json()) as {
            status: { indicator: string };
            incidents: Array<{ id: string; status: string; incident_updates: Array<{ body: string }> }>;
          };
          const published = summary.incidents.find((i) => i.id === incidentId);
          if (!published) throw new Error('the incident is not in summary.json');
          expect(published.status).toBe('identified');
          expect(published.incident_updates[0]?.body).toBe(
            'Our CDN provider confirmed an outage; the backup CDN is being enabled.',
          );
          expect(summary.status.indicator).toBe('critical');

          // An illegal move is explained on the page, not a crash.
          await page.getByLabel('Status', { exact: true }).selectOption('resolved');
          await page.getByLabel('Message').fill('Fixed.');
          await page.getByRole('button', { name: 'Publish everywhere' }).click();
          await page.waitForURL(/done=update/);
          expect(await page.locator('.badge').first().innerText()).toMatch(/resolved/i);
        } finally {
          await context.close();
        }
      }, 60_000);

      test('with JavaScript: strict CSP holds (no violations, no console errors); a viewer sees no forms', async () => {
        const context = await browser.newContext();
        const page = await context.newPage();
        const problems: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error') problems.push(m.text());
        });
        page.on('pageerror', (e) => problems.push(e.message));
        await signIn(page, 'viewer@example.test');
        const response = await page.goto(`${base}/console/incidents?state=all`);
        expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
        await page.getByRole('link', { name: /Product pages unavailable/ }).click();
        expect(await page.locator('time').first().getAttribute('title')).toMatch(/UTC|Z\)/);
        expect(await page.getByRole('button', { name: 'Publish everywhere' }).count()).toBe(0);
        expect(await page.getByRole('link', { name: 'Declare incident' }).count()).toBe(0);
        const blocked = await page.goto(`${base}/console/incidents/new`);
        expect(blocked?.status()).toBe(403);
        expect(problems.filter((p) => !p.includes('403'))).toEqual([]);
        await context.close();

        // Every page a commander uses, with JavaScript on: no CSP violation, no script error.
        const commander = await browser.newContext();
        const page2 = await commander.newPage();
        const seen: string[] = [];
        page2.on('console', (m) => {
          if (m.type() === 'error') seen.push(m.text());
        });
        page2.on('pageerror', (e) => seen.push(e.message));
        await signIn(page2, 'ic@example.test');
        for (const path of [
          '/console/incidents?state=all',
          '/console/incidents/new',
          '/console/components',
          '/console/outbox',
          '/console/templates',
        ]) {
          const res = await page2.goto(`${base}${path}`);
          expect(res?.status(), path).toBe(200);
        }
        await page2.goto(`${base}/console/incidents?state=all`);
        await page2.getByRole('link', { name: /Product pages unavailable/ }).click();
        expect(seen).toEqual([]);
        await commander.close();
      }, 60_000);
    },
  );
}
