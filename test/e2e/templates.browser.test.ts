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
    `template review in Chromium [${dialect}]`,
    () => {
      let ctx: TestContext;
      let base: string;
      let browser: Browser;
      let templateId: string;
      const password = 'template-review-pw';

      beforeAll(async () => {
        ctx = await createTestContext(dialect);
        base = await listenForBrowser(ctx);
        await ctx.services.auth.createUser(TEST_ACTOR, {
          email: 'mia@example.test',
          name: 'Mia Marketing',
          role: 'marketing',
          password,
        });
        await ctx.services.auth.createUser(TEST_ACTOR, { email: 'lee@example.test', name: 'Lee Legal', role: 'legal', password });
        // Version 1 is approved; the test edits it into version 2.
        const t = ctx.services.templates;
        const created = await t.create(TEST_ACTOR, {
          key: 'sms.high_intent',
          channel: 'sms',
          purpose: 'marketing',
          name: 'SMS to high-intent leads',
          body: '{{ company }}: Hi {{ first_name }}, our showroom is down. Reply 1 for specs, 2 to book. STOP to opt out.',
        });
        templateId = created.template.id;
        await t.submit(TEST_ACTOR, templateId);
        await t.approve(TEST_ACTOR, templateId);
        browser = await launchBrowser();
      }, 60_000);

      afterAll(async () => {
        await browser?.close();
        await ctx?.close();
      });

      const signIn = (page: Page, email: string, path: string) => signInThrough(page, base, { email, password }, path);

      test('marketing edits and submits but cannot approve; legal sees the diff and approves', async () => {
        // Marketing, without JavaScript: the console works on forms alone.
        const marketing = await browser.newContext({ javaScriptEnabled: false });
        const page = await marketing.newPage();
        try {
          await signIn(page, 'mia@example.test', '/console/templates');
          const row = page.locator('tr[data-template-key="sms.high_intent"]');
          expect(await row.innerText()).toContain('Approved');
          await row.getByRole('link', { name: 'SMS to high-intent leads' }).click();
          await page.waitForURL(`${base}/console/templates/${templateId}`);

          // A curly apostrophe: the preview will say it forces UCS-2.
          await page
            .getByLabel(/^Body/)
            .fill(
              '{{ company }}: Hi {{ first_name }}, we’re sorry <b>: our showroom is down. Reply 1 for specs, 2 to book a call. STOP to opt out.',
            );
          await page.getByRole('button', { name: 'Save draft' }).click();
          await page.waitForURL(/done=saved/);
          expect(await page.getByRole('status').innerText()).toContain('Draft saved.');
          expect(await page.locator('tr[data-version="2"]').getAttribute('data-state')).toBe('draft');
          expect(await page.locator('[data-dispatched-version]').getAttribute('data-dispatched-version')).toBe('1');
          expect(await page.locator('[data-sms-encoding]').innerText()).toBe('UCS-2');
          expect(await page.locator('[data-preview]').innerText()).toMatch(/’ U\+2019/);
          // The value is shown as text, never interpreted.
          expect(await page.locator('[data-preview-text]').innerText()).toContain('we’re sorry <b>: our showroom');

          await page.getByRole('button', { name: 'Submit for legal review' }).click();
          await page.waitForURL(/done=submitted/);
          expect(await page.locator('tr[data-version="2"]').getAttribute('data-state')).toBe('in_review');
          expect(await page.getByRole('button', { name: /Approve/ }).count()).toBe(0);
          expect(await page.getByRole('button', { name: 'Send back to draft' }).count()).toBe(0);

          // Forging the approval form: refused on the server (403), the template unchanged.
          const csrf = await page.locator('input[name="_csrf"]').first().getAttribute('value');
          const forged = await page.request.post(`${base}/console/templates/${templateId}/approve`, {
            form: { _csrf: csrf ?? '', version: '2' },
            headers: { accept: 'text/html' },
          });
          expect(forged.status()).toBe(403);
          expect(await forged.text()).toContain('Not allowed');
          const after = await ctx.services.templates.get(templateId);
          expect(after.versions.map((v) => [v.version, v.state])).toEqual([
            [2, 'in_review'],
            [1, 'approved'],
          ]);

          await page.goto(`${base}/console/templates`);
          expect(await page.locator('[data-awaiting-review]').innerText()).toContain('1 awaiting legal review');
        } finally {
          await marketing.close();
        }

        // Legal, with JavaScript and the strict CSP: no errors, sees the diff, approves.
        const legal = await browser.newContext();
        const review = await legal.newPage();
        const problems: string[] = [];
        review.on('console', (m) => {
          if (m.type() === 'error') problems.push(m.text());
        });
        review.on('pageerror', (e) => problems.push(e.message));
        try {
          await signIn(review, 'lee@example.test', `/console/templates/${templateId}`);
          const diff = review.locator('[data-diff]');
          expect(await diff.locator('del').innerText()).toContain('- {{ company }}: Hi {{ first_name }}, our showroom is down.');
          expect(await diff.locator('ins').innerText()).toContain(
            '+ {{ company }}: Hi {{ first_name }}, we’re sorry <b>: our showroom',
          );
          expect(await review.locator('[data-diff] b').count()).toBe(0);

          await review.getByRole('button', { name: 'Approve version 2' }).click();
          await review.waitForURL(/done=approved/);
          expect(await review.getByRole('status').innerText()).toContain('Approved');
          expect(await review.locator('tr[data-version="2"]').getAttribute('data-state')).toBe('approved');
          expect(await review.locator('tr[data-version="1"]').getAttribute('data-state')).toBe('retired');
          expect(await review.locator('[data-dispatched-version]').getAttribute('data-dispatched-version')).toBe('2');
          await review.goto(`${base}/console/templates`);
          expect(await review.locator('tr[data-template-key="sms.high_intent"]').innerText()).toContain('v2');
          expect(await review.locator('[data-awaiting-review]').innerText()).toContain('Nothing is awaiting legal review');
          expect(problems).toEqual([]);
        } finally {
          await legal.close();
        }

        const approved = await ctx.services.templates.requireApproved(ctx.db.kysely, 'sms.high_intent');
        expect(approved.version).toBe(2);
        expect(approved.body).toContain('we’re sorry');
      }, 90_000);
    },
  );
}
