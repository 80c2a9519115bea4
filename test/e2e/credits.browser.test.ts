import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { HOUR } from '../../src/core/clock.js';
import { parseCsv } from '../../src/crm/import/csv.js';
import { launchBrowser, listenForBrowser, signInThrough } from '../harness/browser.js';
import { createTestContext, TEST_ACTOR, type TestContext } from '../harness/context.js';
import { DIALECTS } from '../harness/databases.js';
import { chromiumMissing, describeNeeding, postgresMissing } from '../harness/env.js';

for (const dialect of DIALECTS) {
  const missing = chromiumMissing ?? (dialect === 'postgres' ? postgresMissing : null);
  describeNeeding(
    dialect === 'postgres' ? 'Chromium and PostgreSQL' : 'Chromium',
    missing,
    `approvers work the SLA credit queue in Chromium [${dialect}]`,
    () => {
      let ctx: TestContext;
      let base: string;
      let browser: Browser;
      const password = 'approver-password';

      beforeAll(async () => {
        ctx = await createTestContext(dialect);
        base = await listenForBrowser(ctx);
        const { services } = ctx;
        for (const [email, name, role] of [
          ['sam@acme.example', 'Sam Rivera', 'sales'],
          ['lee@acme.example', 'Lee Counsel', 'legal'],
        ] as const) {
          await services.auth.createUser(TEST_ACTOR, { email, name, role, password });
        }
        const cdn = await services.components.create(TEST_ACTOR, { name: 'Showroom CDN', kind: 'cdn' });
        await services.credits.setPolicy(TEST_ACTOR, 'enterprise', {
          target_percent: 99.9,
          bands: [
            { below_percent: 99.9, credit_percent: 10 },
            { below_percent: 99, credit_percent: 25 },
          ],
          cap_percent: 25,
          partial_outage_weight: 0.5,
          degraded_performance_weight: 0,
          approval_threshold_cents: 50_000,
        });
        const imported = await services.credits.importAccounts(
          TEST_ACTOR,
          [
            'external_id,name,plan,monthly_fee,components',
            'NW-1,Northwind Fixtures,enterprise,12000,Showroom CDN',
            'CT-2,<img src=x onerror=alert(1)> Contoso,enterprise,2000,Showroom CDN',
          ].join('\n'),
        );
        expect(imported.applied).toBe(true);
        // Two hours of major outage on 10 March 2025.
        ctx.clock.set(Date.UTC(2025, 2, 10, 9));
        const inc = await services.incidents.declare(TEST_ACTOR, {
          name: 'CDN outage',
          message: 'Pages fail.',
          components: [{ id: cdn.id, status: 'major_outage' }],
        });
        ctx.clock.advance(2 * HOUR);
        await services.incidents.postUpdate(TEST_ACTOR, inc.incident.id, { status: 'resolved', message: 'Back.' });
        ctx.clock.set(Date.UTC(2025, 3, 3, 9));
        browser = await launchBrowser();
      }, 60_000);

      afterAll(async () => {
        await browser?.close();
        await ctx?.close();
      });

      const row = (page: Page, account: string) => page.locator(`tr[data-account="${account}"]`);

      test('legal computes March; sales approves the small credit and cannot touch the large one; legal approves it; the ledger exports it', async () => {
        const legal = await browser.newContext({ javaScriptEnabled: true });
        const sales = await browser.newContext({ javaScriptEnabled: false });
        const problems: string[] = [];
        try {
          const lp = await legal.newPage();
          lp.on('console', (m) => {
            // The stale form below answers 409 on purpose; anything else is a problem.
            if (m.type() === 'error' && !m.text().includes('status of 409')) problems.push(m.text());
          });
          lp.on('pageerror', (e) => problems.push(e.message));
          lp.on('dialog', (d) => {
            problems.push(`dialog: ${d.message()}`);
            void d.dismiss();
          });
          await signInThrough(lp, base, { email: 'lee@acme.example', password }, '/console/credits');
          expect(await lp.locator('[data-empty-queue]').count()).toBe(1);
          // The month field defaults to the month just ended.
          expect(await lp.getByLabel('Month (YYYY-MM)').inputValue()).toBe('2025-03');
          await lp.getByRole('button', { name: 'Compute credits' }).click();
          await lp.waitForURL(/computed=2025-03/);
          expect(await lp.getByText('Credits for 2025-03 computed: 2 proposed, 0 revised, 0 withdrawn.').count()).toBe(1);
          expect(await lp.locator('tr[data-credit]').count()).toBe(2);
          const nw = await row(lp, 'NW-1').innerText();
          expect(nw).toContain('Northwind Fixtures');
          expect(nw).toContain('99.731 %'); // 120 of 44,640 minutes
          expect(nw).toContain('$1,200.00');
          expect(nw).toContain('CDN outage');
          // Hostile account names are shown as text.
          expect(await row(lp, 'CT-2').innerText()).toContain('<img src=x onerror=alert(1)> Contoso');

          const sp = await sales.newPage();
          await signInThrough(sp, base, { email: 'sam@acme.example', password }, '/console/credits');
          // Above the threshold: no buttons for sales, only who may decide.
          expect(await row(sp, 'NW-1').getByRole('button').count()).toBe(0);
          expect(await row(sp, 'NW-1').innerText()).toContain('needs admin or legal');
          await row(sp, 'CT-2')
            .getByLabel(/Approval note for/)
            .fill('Goodwill, renewal due');
          await row(sp, 'CT-2').getByRole('button', { name: 'Approve' }).click();
          await sp.waitForURL(/decided=approved/);
          expect(await sp.getByText(/Approved: \$200\.00 for .*Contoso \(2025-03\)\./).count()).toBe(1);
          expect(await sp.locator('tr[data-credit]').count()).toBe(1);

          // Legal's page was loaded before: the stale CT-2 form now answers "already approved".
          await row(lp, 'CT-2').getByRole('button', { name: 'Approve' }).click();
          await lp.waitForLoadState();
          expect(await lp.getByRole('alert').innerText()).toContain('already approved by Sam Rivera');

          await row(lp, 'NW-1').getByRole('button', { name: 'Approve' }).click();
          await lp.waitForURL(/decided=approved/);
          expect(await lp.getByText('Approved: $1,200.00 for Northwind Fixtures (2025-03).').count()).toBe(1);
          expect(await lp.locator('[data-empty-queue]').count()).toBe(1);

          await lp.getByRole('link', { name: 'Ledger' }).click();
          await lp.waitForURL(/\/console\/credits\/ledger/);
          const ledger = await lp.locator('table').first().innerText();
          expect(ledger).toContain('by Sam Rivera (sales)');
          expect(ledger).toContain('Goodwill, renewal due');
          expect(ledger).toContain('by Lee Counsel (legal)');
          const href = await lp.locator('a[data-export]').getAttribute('href');
          expect(href).toBe('/api/v1/credits/export.csv?month=2025-03');
          const csv = await lp.request.get(`${base}${href}`);
          expect(csv.status()).toBe(200);
          const rows = parseCsv(await csv.text()).map((r) => r.cells);
          expect(rows.slice(1).map((r) => [r[2], r[10], r[11]])).toEqual([
            ['CT-2', '200.00', 'Sam Rivera'],
            ['NW-1', '1200.00', 'Lee Counsel'],
          ]);
          expect(problems).toEqual([]);
        } finally {
          await legal.close();
          await sales.close();
        }
      }, 90_000);
    },
  );
}
