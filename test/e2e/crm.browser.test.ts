import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { HOUR } from '../../src/core/clock.js';
import { newId } from '../../src/core/ids.js';
import { upsertOwnerProfile } from '../../src/crm/owners.repo.js';
import { toDbJson } from '../../src/db/codec.js';
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
    `a rep works a Tier A task in Chromium [${dialect}]`,
    () => {
      let ctx: TestContext;
      let base: string;
      let browser: Browser;
      const password = 'sales-rep-password';
      const leads: Record<string, string> = {};

      beforeAll(async () => {
        ctx = await createTestContext(dialect, {
          config: {
            'messaging.sink': true,
            'messaging.variables': {
              company: 'Acme Industrial',
              sender_name: 'Acme sales',
              support_email: 'help@acme.example',
              calendar_link: 'https://meet.acme.example/team',
              fallback_url: 'https://catalog.acme.example',
              assets_url: 'https://catalog.acme.example/assets',
              webinar_url: 'https://acme.example/webinar',
            },
          },
        });
        base = await listenForBrowser(ctx);
        await seedDefaultTemplates(ctx.db, ctx.clock, { approve: true });
        const now = ctx.clock.now();
        for (const [email, name] of [
          ['sam@acme.example', 'Sam Rivera'],
          ['kim@acme.example', 'Kim Lee'],
        ] as const) {
          const user = await ctx.services.auth.createUser(TEST_ACTOR, { email, name, role: 'sales', password });
          await upsertOwnerProfile(
            ctx.db.kysely,
            {
              user_id: user.id,
              phone: null,
              calendar_link: `https://meet.acme.example/${name.split(' ')[0]?.toLowerCase()}`,
              timezone: 'UTC',
              working_hours: { days: [0, 1, 2, 3, 4, 5, 6], start: '00:00', end: '23:59' },
            },
            now,
          );
          leads[email] = user.id;
        }
        await ctx.services.components.create(TEST_ACTOR, { name: 'Showroom CDN', kind: 'cdn' });
        const lead = (id: string, fields: Record<string, unknown>) => ({
          id,
          lifecycle: 'sql',
          consent_email: 'granted',
          consent_sms: 'granted',
          attributes: toDbJson({}),
          fallback_sent: dialect === 'postgres' ? (false as unknown as number) : 0,
          created_at: now,
          updated_at: now,
          ...fields,
        });
        const dana = newId(now);
        await ctx.db.kysely
          .insertInto('leads')
          .values([
            lead(dana, {
              first_name: 'Dana',
              last_name: 'Whitfield',
              email: 'dana@northwind.example',
              phone: '+14155550101',
              company: 'Northwind Fixtures',
              owner_id: leads['sam@acme.example'],
              arr_potential: 48_000,
              demo_scheduled_at: now + 3 * HOUR,
            }),
            lead(newId(now + 1), {
              first_name: 'Ravi',
              email: 'ravi@contoso.example',
              company: 'Contoso',
              owner_id: leads['kim@acme.example'],
              arr_potential: 12_000,
              last_activity_at: now - 2 * HOUR,
            }),
            lead(newId(now + 2), { first_name: 'Lee', email: 'lee@fabrikam.example', arr_potential: 2_000 }),
          ])
          .execute();
        await ctx.db.kysely
          .insertInto('intent_events')
          .values(
            ['Modular shelving S-200', 'Track lighting TL-9'].map((product, i) => ({
              id: newId(now - HOUR + i),
              message_id: `view-${i}`,
              lead_id: dana,
              type: 'product_viewed',
              email: 'dana@northwind.example',
              anonymous_id: null,
              product,
              value: null,
              properties: toDbJson({}),
              at: now - HOUR + i,
              received_at: now - HOUR + i,
            })),
          )
          .execute();
        browser = await launchBrowser();
      }, 60_000);

      afterAll(async () => {
        await browser?.close();
        await ctx?.close();
      });

      test('declaration sorts the pipeline; the owner sees the call-now task with a script naming what the lead viewed and records "demo booked" in one click', async () => {
        const cdn = (await ctx.services.components.list())[0];
        const declared = await ctx.services.incidents.declare(TEST_ACTOR, {
          name: 'Product pages not loading',
          components: cdn ? [{ id: cdn.id, status: 'major_outage' }] : [],
        });
        await ctx.worker.pump();
        await ctx.worker.pump();

        const context = await browser.newContext({ javaScriptEnabled: false });
        const page = await context.newPage();
        const problems: string[] = [];
        page.on('console', (m) => {
          if (m.type() === 'error') problems.push(m.text());
        });
        try {
          await signInThrough(page, base, { email: 'sam@acme.example', password }, '/console/tasks');
          const task = page.locator('article.task').first();
          expect(await page.locator('article.task').count()).toBe(1);
          const text = await task.innerText();
          expect(text).toContain('Dana Whitfield');
          expect(text).toContain('Tier A');
          expect(text).toMatch(/in 15 min/);
          const script = await task.locator('pre').innerText();
          expect(script).toContain('Modular shelving S-200');
          expect(script).toContain('https://catalog.acme.example');

          // The queue shows the tiers with the rule that matched.
          await page.goto(`${base}/console/leads?tier=B`);
          expect(await page.locator('table').innerText()).toContain('recent views or cart, $5K-$25K');
          await page.goto(`${base}/console/leads?tier=A`);
          expect(await page.locator('table').innerText()).toContain('demo today, ARR over $25K');

          await page.goto(`${base}/console/tasks`);
          await page.getByLabel('Note (optional)').fill('Walkthrough booked for 14:00 instead of the showroom demo.');
          await page.getByRole('button', { name: 'Demo booked' }).click();
          await page.waitForURL(/done=demo_booked/);
          expect(await page.getByText('Recorded: demo booked.').count()).toBe(1);
          expect(await page.locator('article.task').count()).toBe(0);
          expect(await page.locator('table').innerText()).toContain('Demo booked');

          const timeline = JSON.stringify(await ctx.services.incidents.timeline(declared.incident.id));
          expect(timeline).toContain('demo_booked');
          const dana = await ctx.db.kysely
            .selectFrom('leads')
            .select(['re_engaged_at', 'outage_status', 'tier'])
            .where('email', '=', 'dana@northwind.example')
            .executeTakeFirstOrThrow();
          expect(dana.tier).toBe('A');
          expect(dana.outage_status).toBe('active');
          expect(dana.re_engaged_at).not.toBeNull();
          expect(problems).toEqual([]);

          // Another rep does not see Sam's task.
          const other = await browser.newContext({ javaScriptEnabled: true });
          const otherPage = await other.newPage();
          await signInThrough(otherPage, base, { email: 'kim@acme.example', password }, '/console/tasks');
          expect(await otherPage.getByText('Dana Whitfield').count()).toBe(0);
          await other.close();
        } finally {
          await context.close();
        }
      }, 90_000);
    },
  );
}
