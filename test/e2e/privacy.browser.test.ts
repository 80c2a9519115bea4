import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { DAY } from '../../src/core/clock.js';
import { toDbJson } from '../../src/db/codec.js';
import { launchBrowser, listenForBrowser, signInThrough } from '../harness/browser.js';
import { createTestContext, TEST_ACTOR, type TestContext } from '../harness/context.js';
import { DIALECTS } from '../harness/databases.js';
import { chromiumMissing, describeNeeding, postgresMissing } from '../harness/env.js';

for (const dialect of DIALECTS) {
  const missing = chromiumMissing ?? (dialect === 'postgres' ? postgresMissing : null);
  describeNeeding(
    dialect === 'postgres' ? 'Chromium and PostgreSQL' : 'Chromium',
    missing,
    `an admin sets retention and erases a person in Chromium [${dialect}]`,
    () => {
      let ctx: TestContext;
      let base: string;
      let browser: Browser;
      const password = 'privacy-admin-password';

      beforeAll(async () => {
        ctx = await createTestContext(dialect);
        base = await listenForBrowser(ctx);
        await ctx.services.auth.createUser(TEST_ACTOR, { email: 'dpo@acme.example', name: 'Dee Admin', role: 'admin', password });
        await ctx.services.auth.createUser(TEST_ACTOR, {
          email: 'mo@acme.example',
          name: 'Mo Marketer',
          role: 'marketing',
          password,
        });
        const now = ctx.clock.now();
        await ctx.db.kysely
          .insertInto('leads')
          .values({
            id: 'lead-ana',
            email: 'ana.zabriskie@example.com',
            phone: '+14155550101',
            first_name: 'Ana',
            last_name: 'Zabriskie',
            lifecycle: 'sql',
            consent_email: 'granted',
            consent_sms: 'granted',
            attributes: toDbJson({}),
            fallback_sent: dialect === 'postgres' ? (false as unknown as number) : 0,
            created_at: now,
            updated_at: now,
          })
          .execute();
        await ctx.db.kysely
          .insertInto('intent_events')
          .values(
            [1, 2, 300].map((days) => ({
              id: `ev-${days}`,
              message_id: `m-${days}`,
              lead_id: 'lead-ana',
              email: 'ana.zabriskie@example.com',
              type: 'product_viewed',
              properties: toDbJson({}),
              at: now - days * DAY,
              received_at: now - days * DAY,
            })),
          )
          .execute();
        browser = await launchBrowser();
      });

      afterAll(async () => {
        await browser?.close();
        await ctx?.close();
      });

      test('retention: a bad value is named and kept for correction; saving takes over; purge removes the old event', async () => {
        const context = await browser.newContext({ javaScriptEnabled: false });
        const page = await context.newPage();
        try {
          await signInThrough(page, base, { email: 'dpo@acme.example', password }, '/console/privacy');
          await expect.poll(() => page.getByRole('link', { name: 'Privacy' }).getAttribute('aria-current')).toBe('page');
          expect(await page.locator('[data-retention-source]').getAttribute('data-retention-source')).toBe('config');
          expect(await page.getByLabel('Intent events (days)').inputValue()).toBe('180');

          await page.getByLabel('Intent events (days)').fill('two hundred');
          await page.getByLabel('Message bodies (days)').fill('30');
          await page.getByRole('button', { name: 'Save retention' }).click();
          const error = page.locator('[data-error-field="eventsDays"]');
          expect(await error.textContent()).toContain('Intent events: expected a whole number of days');
          expect(await page.getByLabel('Intent events (days)').getAttribute('aria-invalid')).toBe('true');
          // What was typed is still there, and nothing was saved.
          expect(await page.getByLabel('Message bodies (days)').inputValue()).toBe('30');
          expect((await ctx.services.privacy.retention()).source).toBe('config');

          await page.getByLabel('Intent events (days)').fill('200');
          await page.getByRole('button', { name: 'Save retention' }).click();
          await page.waitForURL(`${base}/console/privacy?done=saved`);
          expect(await page.getByRole('status').first().textContent()).toContain('Retention saved.');
          expect(await page.locator('[data-retention-source]').getAttribute('data-retention-source')).toBe('console');
          expect(await page.getByLabel('Intent events (days)').inputValue()).toBe('200');
          expect((await ctx.services.privacy.retention()).value).toMatchObject({ messageBodiesDays: 30, eventsDays: 200 });

          await page.getByRole('button', { name: 'Purge now' }).click();
          await page.waitForURL(`${base}/console/privacy?done=purged`);
          expect(await page.locator('[data-purged="events"]').textContent()).toBe('1');
          const left = await ctx.db.kysely.selectFrom('intent_events').select('id').orderBy('id').execute();
          expect(left.map((e) => e.id)).toEqual(['ev-1', 'ev-2']);
        } finally {
          await context.close();
        }
      });

      test('erase: look up, see the counts, confirm, and the person is gone; the audit keeps no address', async () => {
        const context = await browser.newContext({ javaScriptEnabled: true });
        const page = await context.newPage();
        try {
          await signInThrough(page, base, { email: 'dpo@acme.example', password }, '/console/privacy');
          await page.getByLabel('Email or phone number').fill('Ana.Zabriskie@Example.com');
          await page.getByRole('button', { name: 'Look up' }).click();
          await page.waitForURL(`${base}/console/privacy/preview`);
          expect(await page.locator('[data-table="leads"] [data-count]').textContent()).toBe('1');
          expect(await page.locator('[data-table="intent_events"] [data-count]').textContent()).toBe('2');

          // The browser will not send the form until the confirmation is ticked.
          const erase = page.getByRole('button', { name: 'Erase ana.zabriskie@example.com' });
          await erase.click();
          expect(page.url()).toBe(`${base}/console/privacy/preview`);
          await page.getByLabel('I understand erasure cannot be undone').check();
          await erase.click();
          await page.waitForURL(`${base}/console/privacy/erase`);
          const done = page.locator('[data-erased="email"]');
          expect(await done.getByRole('status').textContent()).toContain('Erased: 2 addresses');
          expect(await done.locator('[data-table="leads"] [data-count]').textContent()).toBe('1');
          expect(await ctx.db.kysely.selectFrom('leads').select('id').execute()).toEqual([]);
          expect(await ctx.db.kysely.selectFrom('intent_events').select('id').execute()).toEqual([]);

          const [audit] = await ctx.db.kysely.selectFrom('audit_log').selectAll().where('action', '=', 'privacy.erase').execute();
          expect(audit?.details.toLowerCase()).not.toContain('zabriskie');
          expect(audit?.actor_role).toBe('admin');
        } finally {
          await context.close();
        }
      });

      test('a marketer has no Privacy page', async () => {
        const context = await browser.newContext({ javaScriptEnabled: false });
        const page = await context.newPage();
        try {
          await signInThrough(page, base, { email: 'mo@acme.example', password });
          expect(await page.getByRole('link', { name: 'Privacy' }).count()).toBe(0);
          const res = await page.goto(`${base}/console/privacy`);
          expect(res?.status()).toBe(403);
        } finally {
          await context.close();
        }
      });
    },
  );
}
