import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { HOUR } from '../../src/core/clock.js';
import { launchBrowser, listenForBrowser, signInThrough } from '../harness/browser.js';
import { createTestContext, TEST_ACTOR, type TestContext } from '../harness/context.js';
import { DIALECTS } from '../harness/databases.js';
import { chromiumMissing, describeNeeding, postgresMissing } from '../harness/env.js';

for (const dialect of DIALECTS) {
  const missing = chromiumMissing ?? (dialect === 'postgres' ? postgresMissing : null);
  describeNeeding(
    dialect === 'postgres' ? 'Chromium and PostgreSQL' : 'Chromium',
    missing,
    `the commander writes, previews and publishes the incident report in Chromium [${dialect}]`,
    () => {
      let ctx: TestContext;
      let base: string;
      let browser: Browser;
      let incidentId: string;
      const password = 'commander-password';

      beforeAll(async () => {
        ctx = await createTestContext(dialect);
        base = await listenForBrowser(ctx);
        const { services } = ctx;
        await services.auth.createUser(TEST_ACTOR, {
          email: 'cam@acme.example',
          name: 'Cam Commander',
          role: 'commander',
          password,
        });
        const cdn = await services.components.create(TEST_ACTOR, { name: 'Showroom CDN', kind: 'cdn' });
        ctx.clock.set(Date.UTC(2026, 2, 10, 9));
        const inc = await services.incidents.declare(TEST_ACTOR, {
          name: 'CDN outage',
          message: 'Product pages fail to load.',
          components: [{ id: cdn.id, status: 'major_outage' }],
        });
        incidentId = inc.incident.id;
        ctx.clock.advance(2 * HOUR);
        await services.incidents.postUpdate(TEST_ACTOR, incidentId, { status: 'resolved', message: 'Pages load again.' });
        browser = await launchBrowser();
      }, 60_000);

      afterAll(async () => {
        await browser?.close();
        await ctx?.close();
      });

      test('root cause and an action with owner and due date, preview, save, publish; the status page shows the postmortem', async () => {
        const context = await browser.newContext({ javaScriptEnabled: true });
        const problems: string[] = [];
        try {
          const page = await context.newPage();
          page.on('pageerror', (e) => problems.push(e.message));
          page.on('console', (m) => {
            // The action without an owner below answers 400 on purpose; anything else is a problem.
            if (m.type() === 'error' && !m.text().includes('status of 400')) problems.push(m.text());
          });
          await signInThrough(page, base, { email: 'cam@acme.example', password }, `/console/incidents/${incidentId}`);
          await page.getByRole('link', { name: 'Incident report' }).click();
          await page.waitForURL(`${base}/console/incidents/${incidentId}/report`);
          expect(await page.locator('#report-status').innerText()).toContain('draft');
          // The generated draft: figures from the timeline, the blameless prompt for the root cause.
          const preview = page.locator('#report-preview');
          expect(await preview.innerText()).toContain('Time to acknowledge');
          expect(await preview.locator('#report-root-cause').innerText()).toContain('Not written yet');

          await page.getByLabel('Root cause').fill('The <b>CDN</b> certificate expired; no alert watched its expiry.');
          await page.getByLabel('Action 1', { exact: true }).fill('Renew the certificate and automate renewal');
          await page.getByLabel('Action 1 owner').fill('Sam Ops');
          await page.getByLabel('Action 1 due date').fill('2026-03-20');
          await page.getByLabel('Action 2 kind').selectOption('preventive');
          await page.getByLabel('Action 2', { exact: true }).fill('Alert 14 days before any certificate expires');
          await page.getByLabel('Action 2 owner').fill('Ana SRE');
          await page.getByLabel('Action 2 due date').fill('2026-04-01');
          await page.getByRole('button', { name: 'Preview' }).click();
          await page.waitForLoadState();
          expect(await page.locator('#report-preview h2').first().innerText()).toContain('Preview (not saved)');
          expect(await preview.locator('#report-root-cause').innerText()).toContain('The <b>CDN</b> certificate expired');
          expect(await preview.locator('#report-remediation').innerText()).toContain('Sam Ops');
          expect(await preview.locator('#report-preventive').innerText()).toContain('2026-04-01');
          expect(await preview.locator('svg.chart').count()).toBeGreaterThanOrEqual(1);
          // Nothing saved yet.
          expect((await ctx.services.reports.view(incidentId)).root_cause).toBe('');

          // An action without an owner is refused, naming the field, and the form keeps what was typed.
          await page.getByLabel('Action 3', { exact: true }).fill('Orphan action');
          await page.getByLabel('Action 3 due date').fill('2026-04-02');
          await page.getByRole('button', { name: 'Save' }).click();
          await page.waitForLoadState();
          expect(await page.getByRole('alert').innerText()).toContain('actions.2.owner');
          expect(await page.getByLabel('Root cause').inputValue()).toContain('certificate expired');
          await page.getByLabel('Action 3', { exact: true }).fill('');
          await page.getByLabel('Action 3 due date').fill('');

          await page.getByRole('button', { name: 'Save' }).click();
          await page.waitForURL(/done=saved/);
          expect(await page.getByText('Report saved.').count()).toBe(1);
          expect(await page.getByLabel('Action 2 owner').inputValue()).toBe('Ana SRE');

          await page.getByRole('button', { name: 'Publish the report' }).click();
          await page.waitForURL(/done=published/);
          expect(await page.locator('#report-status').innerText()).toContain('published');
          expect(await page.locator('#report-editor').count()).toBe(0);

          const status = await context.newPage();
          await status.goto(`${base}/status`);
          const past = status.locator(`#incident-${incidentId}`);
          expect(await past.innerText()).toContain('Postmortem');
          await past.getByRole('link', { name: 'Read the incident report' }).click();
          await status.waitForURL(`${base}/status/incidents/${incidentId}/report`);
          const text = await status.locator('#report').innerText();
          expect(text).toContain('The <b>CDN</b> certificate expired');
          expect(text).toContain('Alert 14 days before any certificate expires');
          expect(text).not.toContain('Ana SRE');
          expect(problems).toEqual([]);
        } finally {
          await context.close();
        }
      });
    },
  );
}
