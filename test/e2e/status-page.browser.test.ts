import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { MINUTE } from '../../src/core/clock.js';
import { seedDefaultTemplates } from '../../src/messaging/default-templates.js';
import { launchBrowser } from '../harness/browser.js';
import { createTestContext, type TestContext } from '../harness/context.js';
import { DIALECTS } from '../harness/databases.js';
import { chromiumMissing, describeNeeding, postgresMissing } from '../harness/env.js';
import { type NginxServer, nginxMissing, startNginx } from '../harness/nginx.js';
import { freePort } from '../harness/ports.js';

const NAME = 'Product pages <failing> for EU buyers';
const FIRST = 'We are investigating errors on product pages for buyers in Europe.';
const SECOND = 'A bad CDN rule is being rolled back; cached pages keep being served.';

/** Console errors and CSP violations a page reports (CSP violations are console errors in Chromium). */
function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(e.message));
  return problems;
}

/** The listener below records every securitypolicyviolation event (works with JavaScript on). */
interface Page$ {
  __violations: string[];
  document: { addEventListener(type: string, fn: (e: { violatedDirective: string; blockedURI: string }) => void): void };
}

async function recordViolations(context: BrowserContext): Promise<void> {
  await context.addInitScript(() => {
    const w = globalThis as unknown as Page$;
    w.__violations = [];
    w.document.addEventListener('securitypolicyviolation', (e) => w.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
}

const violations = (page: Page) => page.evaluate(() => (globalThis as unknown as Page$).__violations);

const computed = (page: Page, selector: string, property: 'backgroundColor' | 'maxWidth') =>
  page
    .locator(selector)
    .first()
    .evaluate(
      (el, prop) =>
        (globalThis as unknown as { getComputedStyle(e: unknown): Record<string, string> }).getComputedStyle(el)[prop],
      property,
    );

for (const dialect of DIALECTS) {
  const missing = chromiumMissing ?? nginxMissing ?? (dialect === 'postgres' ? postgresMissing : null);
  describeNeeding(
    dialect === 'postgres' ? 'Chromium, nginx and PostgreSQL' : 'Chromium and nginx',
    missing,
    `public status page in Chromium [${dialect}]`,
    () => {
      let ctx: TestContext;
      let base: string;
      let browser: Browser;
      let root: string;
      let nginx: NginxServer | undefined;
      let incidentId: string;

      beforeAll(async () => {
        root = await mkdtemp(join(tmpdir(), 'keepwarm-status-page-'));
        await chmod(root, 0o755); // nginx workers may run as another user
        const port = await freePort();
        base = `http://127.0.0.1:${port}`;
        ctx = await createTestContext(dialect, {
          config: {
            publicUrl: base,
            'status.pageName': 'Acme showroom',
            'status.targets': [{ type: 'folder', name: 'site', path: join(root, 'site') }],
          },
        });
        await ctx.app.listen({ port, host: '127.0.0.1' });
        // Legal's part, done up front: confirmation emails need the approved default templates.
        await seedDefaultTemplates(ctx.db, ctx.clock, { approve: true });
        const token = await ctx.token('commander');
        const component = async (name: string, kind: string) =>
          (await ctx.call('POST', '/api/v1/components', { token, body: { name, kind } })).json().id as string;
        const cdn = await component('Showroom CDN', 'cdn');
        await component('Product API', 'api');
        const declared = await ctx.call('POST', '/api/v1/incidents', {
          token,
          body: { name: NAME, impact: 'major', message: FIRST, components: [{ id: cdn, status: 'major_outage' }] },
        });
        expect(declared.statusCode, declared.body).toBe(201);
        incidentId = declared.json().id;
        ctx.clock.advance(12 * MINUTE);
        const update = await ctx.call('POST', `/api/v1/incidents/${incidentId}/updates`, {
          token,
          body: { status: 'identified', message: SECOND },
        });
        expect(update.statusCode, update.body).toBe(201);
        browser = await launchBrowser();
      }, 60_000);

      afterAll(async () => {
        await browser?.close();
        await nginx?.stop();
        await ctx?.close();
        if (root) await rm(root, { recursive: true, force: true });
      });

      test('with JavaScript: the live page shows the incident, its updates, component statuses and 90-day bars; no CSP violation, no console error', async () => {
        const context = await browser.newContext();
        await recordViolations(context);
        const page = await context.newPage();
        const problems = watch(page);
        try {
          const res = await page.goto(`${base}/status`);
          expect(res?.status()).toBe(200);
          expect(res?.headers()['content-security-policy']).toContain("default-src 'none'");
          const incident = page.locator('#open-incidents article');
          await expect.poll(() => incident.count()).toBe(1);
          // Escaped: the name is shown as written, never as markup.
          expect(await incident.getByRole('heading', { level: 3 }).innerText()).toBe(NAME);
          const text = await incident.innerText();
          expect(text).toContain(FIRST);
          expect(text).toContain(SECOND);
          expect(text.indexOf(SECOND)).toBeLessThan(text.indexOf(FIRST)); // newest first
          expect(text).toContain('Affects Showroom CDN');

          const rows = page.locator('#components .component');
          expect(await rows.count()).toBe(2);
          const cdnRow = rows.filter({ hasText: 'Showroom CDN' });
          expect(await cdnRow.innerText()).toContain('Major outage');
          expect(await rows.filter({ hasText: 'Product API' }).innerText()).toContain('Operational');
          // 90 daily bars per component; today's shows the outage, and says so in its tooltip.
          const bars = cdnRow.locator('.bars .bar');
          expect(await bars.count()).toBe(90);
          expect(await bars.last().getAttribute('class')).toContain('d-major_outage');
          expect(await bars.last().getAttribute('title')).toMatch(/major outage/);
          expect(await cdnRow.locator('.bars').getAttribute('aria-label')).toMatch(/^90-day history: [\d.]+% uptime$/);
          // The stylesheet applied under the strict CSP.
          expect(await computed(page, 'body', 'backgroundColor')).toBe('rgb(247, 248, 250)');

          expect(await violations(page)).toEqual([]);
          expect(problems).toEqual([]);
        } finally {
          await context.close();
        }
      }, 60_000);

      test('without JavaScript: the subscribe form posts and answers; an invalid email is refused naming the field', async () => {
        const context = await browser.newContext({ javaScriptEnabled: false });
        const page = await context.newPage();
        const problems = watch(page);
        try {
          await page.goto(`${base}/status`);
          // Valid for the browser's own check (so the form is sent), not an address the server accepts.
          await page.getByLabel('Email').fill('buyer@example');
          const [refused] = await Promise.all([
            page.waitForResponse((r) => r.url() === `${base}/status/subscribe` && r.request().method() === 'POST'),
            page.getByRole('button', { name: 'Subscribe' }).click(),
          ]);
          expect(refused.status()).toBe(422);
          await page.waitForLoadState();
          expect(new URL(page.url()).pathname).toBe('/status/subscribe');
          const error = await page.locator('body').innerText();
          expect(error).toMatch(/email: "buyer@example" is not an email address/);

          await page.goto(`${base}/status`);
          await page.getByLabel('Email').fill('Buyer@Example.test');
          const [answered] = await Promise.all([
            page.waitForResponse((r) => r.url() === `${base}/status/subscribe` && r.request().method() === 'POST'),
            page.getByRole('button', { name: 'Subscribe' }).click(),
          ]);
          expect(answered.status(), await answered.text()).toBe(202);
          await page.waitForLoadState();
          expect(await page.getByRole('heading', { level: 1 }).innerText()).toBe('Almost done');
          const answer = await page.locator('body').innerText();
          expect(answer).toContain('Buyer@Example.test');
          expect(answer).toContain('a confirmation link is on its way');
          expect(problems.filter((p) => !p.includes('422'))).toEqual([]);
        } finally {
          await context.close();
        }
      }, 60_000);

      test('the Atom and RSS links are on the page and the feeds load with both updates', async () => {
        const context = await browser.newContext({ javaScriptEnabled: false });
        const page = await context.newPage();
        try {
          await page.goto(`${base}/status`);
          const feeds = [
            { link: 'Atom feed', type: 'application/atom+xml', entry: /<entry>/g },
            { link: 'RSS feed', type: 'application/rss+xml', entry: /<item>/g },
          ];
          for (const feed of feeds) {
            const href = await page.getByRole('link', { name: feed.link }).getAttribute('href');
            expect(href, feed.link).toBeTruthy();
            const res = await page.goto(new URL(href as string, page.url()).toString());
            expect(res?.status(), feed.link).toBe(200);
            expect(res?.headers()['content-type'], feed.link).toContain(feed.type);
            const body = (await res?.text()) ?? '';
            expect(body.match(feed.entry), feed.link).toHaveLength(2);
            expect(body).toContain('Product pages &lt;failing&gt; for EU buyers');
            expect(body).toContain(SECOND);
            await page.goto(`${base}/status`);
          }
          // The <head> advertises both feeds too.
          expect(await page.locator('link[rel="alternate"][type="application/atom+xml"]').count()).toBe(1);
          expect(await page.locator('link[rel="alternate"][type="application/rss+xml"]').count()).toBe(1);
        } finally {
          await context.close();
        }
      }, 60_000);

      test('published to a folder and served by nginx: the same incident, styled, no CSP violation', async () => {
        await ctx.worker.pump();
        nginx = await startNginx(join(root, 'site'));
        const context = await browser.newContext();
        await recordViolations(context);
        const page = await context.newPage();
        const problems = watch(page);
        try {
          const res = await page.goto(`${nginx.url}/index.html`);
          expect(res?.status()).toBe(200);
          // A static host sends no CSP header: the page carries its own.
          expect(await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content')).toContain(
            "default-src 'none'",
          );
          const incident = page.locator(`#incident-${incidentId}`);
          expect(await incident.getByRole('heading', { level: 3 }).innerText()).toBe(NAME);
          const text = await incident.innerText();
          expect(text).toContain(FIRST);
          expect(text).toContain(SECOND);
          expect(await page.locator('#components .component').filter({ hasText: 'Showroom CDN' }).innerText()).toContain(
            'Major outage',
          );
          // The relative stylesheet link resolved on the static host and applied.
          expect(await computed(page, 'body', 'backgroundColor')).toBe('rgb(247, 248, 250)');
          expect(await computed(page, 'main', 'maxWidth')).toBe('832px');
          expect(await violations(page)).toEqual([]);
          expect(problems).toEqual([]);
        } finally {
          await context.close();
        }
      }, 60_000);
    },
  );
}
