import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { MINUTE } from '../../src/core/clock.js';
import { launchBrowser, listenForBrowser } from '../harness/browser.js';
import { createTestContext, type TestContext } from '../harness/context.js';
import { DIALECTS } from '../harness/databases.js';
import { chromiumMissing, describeNeeding, postgresMissing } from '../harness/env.js';

const HOSTILE = '<img src=x onerror="window.__pwned=1">Catalog outage';
const FALLBACK = 'https://catalog.example.test/';

/** What the tests read in the page (this project's TypeScript has no DOM library). */
interface Page$ {
  KeepwarmBanner?: { state(): BannerState; refresh(): Promise<BannerState> };
  __events: BannerState[];
  __pwned?: number;
  document: { addEventListener(type: string, fn: (e: { detail: BannerState }) => void): void };
}

interface BannerState {
  status: string;
  active: boolean;
  shown: boolean;
  dismissed: boolean;
  id: string | null;
  message: string | null;
  source: string | null;
  fetchedAt: string | null;
  attempts: Array<{ url: string; outcome: string; ms: number }>;
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      resolve(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
    });
  });
}

/** A port nothing listens on (taken, then released). */
async function deadPortUrl(): Promise<string> {
  const server = createServer();
  const base = await listen(server);
  await new Promise((resolve) => server.close(resolve));
  return `${base}/banner.json`;
}

for (const dialect of DIALECTS) {
  const missing = chromiumMissing ?? (dialect === 'postgres' ? postgresMissing : null);
  describeNeeding(
    dialect === 'postgres' ? 'Chromium and PostgreSQL' : 'Chromium',
    missing,
    `showroom banner in Chromium [${dialect}]`,
    () => {
      let ctx: TestContext;
      let keepwarm: string;
      let browser: Browser;
      let context: BrowserContext;
      let page: Page;
      let token: string;
      let cdn: string;
      let dead: string;
      let hanging: string;
      let showroom: string;
      let incidentId: string;
      const servers: Server[] = [];
      const sockets = new Set<Socket>();
      const problems: string[] = [];

      const state = async (p: Page = page): Promise<BannerState> => {
        const s = await p.evaluate(() => (globalThis as unknown as Page$).KeepwarmBanner?.state() ?? null);
        if (!s) throw new Error('the SDK did not load');
        return s;
      };
      const refresh = (p: Page = page) => p.evaluate(() => (globalThis as unknown as Page$).KeepwarmBanner?.refresh() ?? null);
      const live = (p: Page = page) =>
        p.waitForFunction(() => (globalThis as unknown as Page$).KeepwarmBanner?.state().status === 'live');

      beforeAll(async () => {
        ctx = await createTestContext(dialect, { config: { 'status.fallbackUrl': FALLBACK } });
        keepwarm = await listenForBrowser(ctx);
        token = await ctx.token('commander');
        cdn = (await ctx.call('POST', '/api/v1/components', { token, body: { name: 'Showroom CDN', kind: 'cdn' } })).json().id;
        dead = await deadPortUrl();
        // Accepts the connection and never answers: only the SDK's timeout gets it out.
        const hang = createServer(() => {});
        hang.on('connection', (s) => sockets.add(s));
        servers.push(hang);
        hanging = `${await listen(hang)}/banner.json`;
        // The showroom: a page with a strict CSP that embeds the one script tag.
        const site = createServer((req, res) => {
          const urls = req.url === '/offline' ? `${dead} ${hanging}` : `${dead} ${hanging} ${keepwarm}/status/banner.json`;
          const origins = [keepwarm, new URL(dead).origin, new URL(hanging).origin].join(' ');
          res.writeHead(200, {
            'content-type': 'text/html; charset=utf-8',
            'content-security-policy': `default-src 'none'; script-src ${keepwarm}; connect-src ${origins}; style-src 'none'; img-src 'none'`,
          });
          res.end(
            `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme showroom</title></head>` +
              `<body><main><h1>Acme showroom</h1><p>Configure your product.</p></main>` +
              `<script src="${keepwarm}/sdk/keepwarm-banner.js" data-urls="${urls}" data-timeout="400" data-poll="1" async></script>` +
              `</body></html>`,
          );
        });
        servers.push(site);
        showroom = await listen(site);
        browser = await launchBrowser();
        context = await browser.newContext();
        await context.addInitScript(() => {
          const w = globalThis as unknown as Page$;
          w.__events = [];
          w.document.addEventListener('keepwarm:banner', (e) => w.__events.push(e.detail));
        });
        page = await context.newPage();
        page.on('console', (m) => {
          if (m.type() === 'error' && /Content Security Policy|Uncaught/.test(m.text())) problems.push(m.text());
        });
        page.on('pageerror', (e) => problems.push(e.message));
        page.on('dialog', (d) => {
          problems.push(`dialog: ${d.message()}`);
          void d.dismiss();
        });
      }, 60_000);

      afterAll(async () => {
        await context?.close();
        await browser?.close();
        for (const s of sockets) s.destroy();
        for (const s of servers) await new Promise((resolve) => s.close(resolve));
        await ctx?.close();
      });

      test('while operational no banner shows; the dead primary and the hanging backup are tried in order, then Keepwarm answers', async () => {
        await page.goto(showroom);
        await live();
        const s = await state();
        expect(s).toMatchObject({ active: false, shown: false, source: `${keepwarm}/status/banner.json` });
        expect(s.attempts.map((a) => [a.url, a.outcome])).toEqual([
          [dead, 'error'],
          [hanging, 'timeout'],
          [`${keepwarm}/status/banner.json`, 'ok'],
        ]);
        const [, timedOut] = s.attempts;
        expect(timedOut?.ms).toBeGreaterThanOrEqual(350);
        expect(timedOut?.ms).toBeLessThan(2000);
        expect(await page.getByRole('status').count()).toBe(0);
        expect(problems).toEqual([]);
      }, 30_000);

      test('a declared incident shows within a poll: accessible, styled under a strict CSP, hostile text shown as text', async () => {
        incidentId = (
          await ctx.call('POST', '/api/v1/incidents', {
            token,
            body: {
              name: HOSTILE,
              impact: 'major',
              message: 'Product pages are down. Browse the catalog meanwhile.',
              components: [{ id: cdn, status: 'major_outage' }],
            },
          })
        ).json().id;
        const banner = page.getByRole('status');
        await banner.waitFor({ timeout: 5000 });
        expect(await banner.getAttribute('aria-live')).toBe('polite');
        const text = await banner.innerText();
        expect(text).toContain(HOSTILE);
        expect(text).toContain('Product pages are down. Browse the catalog meanwhile.');
        expect(text).toMatch(/Updated .+ · Next update by /);
        expect(await banner.locator('img').count()).toBe(0);
        expect(await page.evaluate(() => (globalThis as unknown as Page$).__pwned)).toBeUndefined();
        expect(await banner.getByRole('link', { name: 'Browse the catalog' }).getAttribute('href')).toBe(FALLBACK);
        expect(await banner.getByRole('link', { name: 'Status page' }).getAttribute('href')).toBe(
          'https://status.example.test/status',
        );
        // The class-scoped styles apply although the page allows no inline styles.
        expect(
          await banner.evaluate(
            (el) =>
              (globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string } }).getComputedStyle(el)
                .backgroundColor,
          ),
        ).toBe('rgb(255, 244, 229)');
        // The banner is the first thing in the page.
        expect(await page.locator('body > :first-child').getAttribute('role')).toBe('status');
        const events = await page.evaluate(() => (globalThis as unknown as Page$).__events);
        expect(events.at(-1)).toMatchObject({ active: true, shown: true, status: 'live' });
        expect(problems).toEqual([]);
      }, 30_000);

      test('a dismissed banner stays dismissed (also after a reload) until a new update', async () => {
        await page.getByRole('button', { name: 'Dismiss status notice' }).click();
        expect(await page.getByRole('status').count()).toBe(0);
        expect(await refresh()).toMatchObject({ active: true, shown: false, dismissed: true });
        await page.reload();
        await live();
        expect(await state()).toMatchObject({ active: true, shown: false, dismissed: true });
        expect(await page.getByRole('status').count()).toBe(0);

        ctx.clock.advance(20 * MINUTE);
        await ctx.call('POST', `/api/v1/incidents/${incidentId}/updates`, {
          token,
          body: { status: 'identified', message: 'The CDN provider is restoring service.' },
        });
        const banner = page.getByRole('status');
        await banner.waitFor({ timeout: 5000 });
        expect(await banner.innerText()).toContain('The CDN provider is restoring service.');
        expect(await state()).toMatchObject({ shown: true, dismissed: false });
      }, 30_000);

      test('when every URL fails, the last known notice is shown with the time it was checked', async () => {
        const offline = await context.newPage();
        try {
          await offline.goto(`${showroom}/offline`);
          const banner = offline.getByRole('status');
          await banner.waitFor({ timeout: 5000 });
          const text = await banner.innerText();
          expect(text).toContain('The CDN provider is restoring service.');
          expect(text).toContain('Last known status, checked');
          const s = await state(offline);
          expect(s).toMatchObject({ status: 'cached', active: true, shown: true, source: `${keepwarm}/status/banner.json` });
          expect(s.attempts.map((a) => a.outcome)).toEqual(['error', 'timeout']);
        } finally {
          await offline.close();
        }
      }, 30_000);

      test('resolving the incident removes the banner', async () => {
        ctx.clock.advance(20 * MINUTE);
        await ctx.call('POST', `/api/v1/incidents/${incidentId}/updates`, {
          token,
          body: { status: 'resolved', message: 'Everything works again.' },
        });
        await page.getByRole('status').waitFor({ state: 'detached', timeout: 5000 });
        expect(await state()).toMatchObject({ status: 'live', active: false, shown: false });
        expect(problems).toEqual([]);
      }, 30_000);
    },
  );
}
