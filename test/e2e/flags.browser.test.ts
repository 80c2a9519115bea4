import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { gzipSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { launchBrowser, listenForBrowser } from '../harness/browser.js';
import { createTestContext, TEST_ACTOR, type TestContext } from '../harness/context.js';
import { DIALECTS } from '../harness/databases.js';
import { chromiumMissing, describeNeeding, postgresMissing } from '../harness/env.js';

interface FlagsState {
  status: string;
  source: string | null;
  flags: Record<string, unknown>;
}
interface Page$ {
  KeepwarmFlags?: {
    get(key: string, fallback: unknown): unknown;
    state(): FlagsState;
    refresh(): Promise<FlagsState>;
    ready: Promise<FlagsState>;
  };
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve(`http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`);
    });
  });
}

test('the flags script stays small (zero dependencies, under 2 KiB gzipped)', () => {
  const body = readFileSync(new URL('../../web/sdk/keepwarm-flags.js', import.meta.url));
  expect(gzipSync(body).length).toBeLessThan(2048);
});

for (const dialect of DIALECTS) {
  const missing = chromiumMissing ?? (dialect === 'postgres' ? postgresMissing : null);
  describeNeeding(
    dialect === 'postgres' ? 'Chromium and PostgreSQL' : 'Chromium',
    missing,
    `kill switches in the showroom [${dialect}]`,
    () => {
      let ctx: TestContext;
      let keepwarm: string;
      let browser: Browser;
      let page: Page;
      let showroom: string;
      let dead: string;
      const servers: Server[] = [];
      const problems: string[] = [];
      const flags = () => page.evaluate(() => (globalThis as unknown as Page$).KeepwarmFlags?.state() ?? null);
      const configurator = () =>
        page.evaluate(() => (globalThis as unknown as Page$).KeepwarmFlags?.get('showroom.configurator', 'page default'));

      beforeAll(async () => {
        ctx = await createTestContext(dialect);
        keepwarm = await listenForBrowser(ctx);
        const gone = createServer();
        dead = `${await listen(gone)}/flags.json`;
        await new Promise((resolve) => gone.close(resolve));
        // The showroom: its page embeds the flags script; /offline lists only a dead URL.
        const site = createServer((req, res) => {
          const urls = req.url === '/offline' ? dead : `${dead} ${keepwarm}/flags.json`;
          res.writeHead(200, {
            'content-type': 'text/html; charset=utf-8',
            'content-security-policy': `default-src 'none'; script-src ${keepwarm}; connect-src ${keepwarm} ${new URL(dead).origin}`,
          });
          res.end(
            `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Showroom</title></head><body><h1>Configurator</h1>` +
              `<script src="${keepwarm}/sdk/keepwarm-flags.js" data-urls="${urls}" data-timeout="500" data-poll="0"></script></body></html>`,
          );
        });
        servers.push(site);
        showroom = await listen(site);
        browser = await launchBrowser();
        page = await (await browser.newContext()).newPage();
        page.on('pageerror', (e) => problems.push(e.message));
        page.on('console', (m) => {
          if (m.type() === 'error' && /Content Security Policy|Uncaught/.test(m.text())) problems.push(m.text());
        });
      }, 60_000);

      afterAll(async () => {
        await browser?.close();
        for (const s of servers) await new Promise((resolve) => s.close(resolve));
        await ctx?.close();
      });

      test('the page reads the switches past a dead URL, sees them flip with an API incident, and keeps the last answer offline', async () => {
        await page.goto(showroom);
        await page.waitForFunction(() => (globalThis as unknown as Page$).KeepwarmFlags?.state().status === 'live');
        expect(await flags()).toMatchObject({ status: 'live', source: `${keepwarm}/flags.json` });
        expect(await configurator()).toBe(true);
        // An unknown flag gets the page's own safe default.
        expect(await page.evaluate(() => (globalThis as unknown as Page$).KeepwarmFlags?.get('showroom.unknown', 'safe'))).toBe(
          'safe',
        );

        const api = await ctx.services.components.create(TEST_ACTOR, { name: 'Showroom API', kind: 'api' });
        await ctx.services.incidents.declare(TEST_ACTOR, {
          name: 'API timeouts',
          components: [{ id: api.id, status: 'major_outage' }],
        });
        await page.evaluate(() => (globalThis as unknown as Page$).KeepwarmFlags?.refresh());
        expect(await configurator()).toBe(false);

        // Every URL down: the last answer (kept in the browser) still holds after a reload.
        await page.goto(`${showroom}/offline`);
        await page.waitForFunction(() => (globalThis as unknown as Page$).KeepwarmFlags?.state().status === 'cached');
        expect(await configurator()).toBe(false);
        expect(problems).toEqual([]);
      });

      test('a first visit with every URL down gets the page defaults', async () => {
        const fresh = await (await browser.newContext()).newPage();
        await fresh.goto(`${showroom}/offline`);
        await fresh.waitForFunction(() => (globalThis as unknown as Page$).KeepwarmFlags?.state().status === 'defaults');
        expect(
          await fresh.evaluate(() => (globalThis as unknown as Page$).KeepwarmFlags?.get('showroom.configurator', true)),
        ).toBe(true);
        await fresh.context().close();
      });
    },
  );
}
