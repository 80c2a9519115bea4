import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { SECOND } from '../../src/core/clock.js';
import { launchBrowser, listenForBrowser, signInThrough } from '../harness/browser.js';
import { createTestContext, TEST_ACTOR, type TestContext } from '../harness/context.js';
import { DIALECTS } from '../harness/databases.js';
import { chromiumMissing, describeNeeding, postgresMissing } from '../harness/env.js';

for (const dialect of DIALECTS) {
  const missing = chromiumMissing ?? (dialect === 'postgres' ? postgresMissing : null);
  describeNeeding(
    dialect === 'postgres' ? 'Chromium and PostgreSQL' : 'Chromium',
    missing,
    `health board in Chromium [${dialect}]`,
    () => {
      let ctx: TestContext;
      let base: string;
      let browser: Browser;
      const password = 'health-board-password';

      beforeAll(async () => {
        ctx = await createTestContext(dialect, { config: { 'detection.declare': 'suggest' } });
        base = await listenForBrowser(ctx);
        await ctx.services.auth.createUser(TEST_ACTOR, {
          email: 'ic@example.test',
          name: 'Iris Commander',
          role: 'commander',
          password,
        });
        await ctx.services.components.create(TEST_ACTOR, { name: 'Showroom CDN', kind: 'cdn' });
        browser = await launchBrowser();
      }, 60_000);

      afterAll(async () => {
        await browser?.close();
        await ctx?.close();
      });

      test('a commander adds a monitor, sees the suggested outage on the health board and declares it with one click', async () => {
        const context = await browser.newContext();
        const page = await context.newPage();
        const problems: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error') problems.push(m.text());
        });
        try {
          await signInThrough(page, base, { email: 'ic@example.test', password }, '/console/monitors');
          await page.getByLabel('Name').fill('CDN home page');
          await page.getByLabel('URL').fill('https://cdn.showroom.example/health');
          await page.getByLabel('Every (seconds, at least 5)').fill('10');
          await page.getByRole('button', { name: 'Add monitor' }).click();
          await page.waitForURL(/done=created/);
          expect(await page.locator('table').innerText()).toContain('CDN home page');

          const [monitor] = await ctx.services.monitors.list();
          for (let i = 0; i < 2; i++) {
            ctx.clock.advance(10 * SECOND);
            await ctx.services.detection.recordResults('eu-west', [
              {
                monitorId: monitor?.id ?? '',
                at: ctx.clock.now(),
                ok: false,
                degraded: false,
                latencyMs: 3000,
                error: 'HTTP 503',
              },
            ]);
          }
          await page.goto(`${base}/console/health`);
          expect(await page.getByRole('heading', { name: 'Outage detected: declare an incident?' }).count()).toBe(1);
          expect(await page.locator('table').first().innerText()).toContain('eu-west: down');
          await page.getByRole('button', { name: 'Declare incident' }).click();
          await page.waitForURL(/\/console\/incidents\//);
          expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('CDN outage: Showroom CDN');
          expect(await page.locator('dl.facts').innerText()).toContain('Iris Commander');
          expect(problems).toEqual([]);
        } finally {
          await context.close();
        }
      }, 60_000);
    },
  );
}
