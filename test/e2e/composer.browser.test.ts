import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { MINUTE } from '../../src/core/clock.js';
import { seedDefaultTemplates } from '../../src/messaging/default-templates.js';
import { launchBrowser, listenForBrowser, signInThrough } from '../harness/browser.js';
import { createTestContext, TEST_ACTOR, type TestContext } from '../harness/context.js';
import { DIALECTS } from '../harness/databases.js';
import { chromiumMissing, describeNeeding, postgresMissing } from '../harness/env.js';

for (const dialect of DIALECTS) {
  const missing = chromiumMissing ?? (dialect === 'postgres' ? postgresMissing : null);
  describeNeeding(
    dialect === 'postgres' ? 'Chromium and PostgreSQL' : 'Chromium',
    missing,
    `update composer in Chromium [${dialect}]`,
    () => {
      let ctx: TestContext;
      let base: string;
      let browser: Browser;
      let incidentId: string;
      let cdnId: string;
      const password = 'composer-password';

      beforeAll(async () => {
        ctx = await createTestContext(dialect, {
          config: {
            'messaging.sink': true,
            'messaging.variables': { company: 'Acme Industrial' },
            'status.fallbackUrl': 'https://catalog.example.test',
          },
        });
        base = await listenForBrowser(ctx);
        await seedDefaultTemplates(ctx.db, ctx.clock, { approve: true });
        await ctx.services.auth.createUser(TEST_ACTOR, { email: 'ic@example.test', name: 'Iris', role: 'commander', password });
        cdnId = (await ctx.services.components.create(TEST_ACTOR, { name: 'Showroom CDN', kind: 'cdn' })).id;
        const declared = await ctx.services.incidents.declare(TEST_ACTOR, {
          name: 'Product pages not loading',
          components: [{ id: cdnId, status: 'major_outage' }],
        });
        incidentId = declared.incident.id;
        browser = await launchBrowser();
      }, 60_000);

      afterAll(async () => {
        await browser?.close();
        await ctx?.close();
      });

      for (const javaScript of [false, true]) {
        test(`${javaScript ? 'with' : 'without'} JavaScript: deadline, draft, preview on every channel, refusal, publish everywhere`, async () => {
          const context = await browser.newContext({ javaScriptEnabled: javaScript });
          const page = await context.newPage();
          const problems: string[] = [];
          page.on('console', (m) => {
            // The refused update answers 409 on purpose; anything else is a problem.
            if (m.type() === 'error' && !m.text().includes('status of 409')) problems.push(m.text());
          });
          try {
            await signInThrough(page, base, { email: 'ic@example.test', password }, `/console/incidents/${incidentId}`);
            const deadlines = page.getByRole('list', { name: 'Update deadlines' });
            if (!javaScript) {
              // Declared without a public word: the acknowledgement deadline counts down.
              ctx.clock.advance(4 * MINUTE);
              await page.reload();
              expect(await deadlines.innerText()).toMatch(/Acknowledge publicly by[\s\S]*in 11 min/);
            } else {
              expect(await deadlines.innerText()).toContain('Next update due (target)');
            }

            await page.getByRole('button', { name: 'Draft for me' }).click();
            const draft = await page.getByLabel('Message').inputValue();
            expect(draft).toContain('Showroom CDN');
            expect(draft).toContain('https://catalog.example.test');

            await page.getByRole('button', { name: 'Preview on every channel' }).click();
            const preview = page.locator('#preview');
            expect(await preview.getByText('Every surface agrees').count()).toBe(1);
            for (const surface of ['status_page', 'banner', 'slack', 'social']) {
              expect(await preview.locator(`[data-surface="${surface}"]`).innerText()).toContain('Showroom CDN');
            }
            expect(await preview.locator('[data-surface="subscribers_sms"]').innerText()).toMatch(/GSM-7, \d SMS part/);
            // The form keeps the draft after previewing.
            expect(await page.getByLabel('Message').inputValue()).toBe(draft);

            // Resolved while the CDN is named as still down: refused, with every surface shown.
            const before = (await ctx.services.incidents.get(incidentId)).incident.status;
            await page.getByLabel('Status').selectOption('resolved');
            await page.getByLabel('Showroom CDN').selectOption('major_outage');
            await page.getByRole('button', { name: 'Publish everywhere' }).click();
            expect(await page.getByText('Showroom CDN would still show major outage').count()).toBeGreaterThan(0);
            expect((await ctx.services.incidents.get(incidentId)).incident.status).toBe(before);

            await page.getByLabel('Status').selectOption(javaScript ? 'monitoring' : 'identified');
            await page.getByLabel('Showroom CDN').selectOption('');
            await page.getByLabel('Message').fill(`Traffic moves to the backup CDN (${javaScript ? 'js' : 'no js'}).`);
            await page.getByRole('button', { name: 'Publish everywhere' }).click();
            await page.waitForURL(/done=update/);
            const timeline = await page.locator('#timeline + .panel').innerText();
            expect(timeline).toContain(`Traffic moves to the backup CDN (${javaScript ? 'js' : 'no js'}).`);
            const slack = (
              await ctx.services.db.kysely.selectFrom('messages').select('body_text').where('channel', '=', 'slack').execute()
            ).map((m) => m.body_text);
            expect(slack.some((t) => t.includes(`backup CDN (${javaScript ? 'js' : 'no js'})`))).toBe(true);
            expect(problems).toEqual([]);
          } finally {
            await context.close();
          }
        }, 60_000);
      }
    },
  );
}
