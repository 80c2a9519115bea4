import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { type Database, openDatabase } from '../../src/db/database.js';
import { DRILL_FILE } from '../../src/drills/drill.command.js';
import type { DrillView } from '../../src/drills/drills.service.js';
import { launchBrowser, signInThrough } from '../harness/browser.js';
import { createScratchDatabase, DIALECTS, type ScratchDatabase } from '../harness/databases.js';
import { chromiumMissing, describeNeeding, postgresMissing } from '../harness/env.js';
import { portFree } from '../harness/ports.js';
import { cleanEnv, REPO_ROOT, waitForExit, waitForLine } from '../harness/processes.js';

/**
 * A drill as it runs on the demo (`keepwarm demo`, on SQLite and on PostgreSQL), watched
 * in Chromium: the showroom's banner once the playbook acknowledges the drill incident, its link
 * to the backup catalog, a product page there and a purchase order, the status page (the demo
 * shows drills), the incident room, then the scorecard.
 */

const BUYER = { company: 'Northwind Retail GmbH', name: 'Ada Buyer', email: 'ada.drill@northwind.example' };
/** Long enough to walk the banner and the mirror while the drill incident is open. */
const HOLD_SECONDS = 60;

interface Demo {
  keepwarm: string;
  showroom: string;
  mirror: string;
  email: string;
  password: string;
  token: string;
}

/** The demo's printed addresses and credentials. */
function parseDemo(out: string, token: string): Demo {
  const find = (pattern: RegExp, what: string) => {
    const m = pattern.exec(out);
    if (!m?.[1]) throw new Error(`the demo did not print ${what}: ${out.slice(0, 2000)}`);
    return m[1];
  };
  return {
    showroom: find(/^\s*Showroom\s+(http:\/\/127\.0\.0\.1:\d+)\//m, 'the showroom'),
    keepwarm: find(/^\s*Console\s+(http:\/\/127\.0\.0\.1:\d+)\/console/m, 'the console'),
    mirror: find(/^\s*Backup catalog\s+(http:\/\/127\.0\.0\.1:\d+)\//m, 'the backup catalog'),
    email: find(/^\s*Sign in as\s+(\S+)/m, 'the admin'),
    password: find(/^\s*Password\s+(\S+)/m, 'the password'),
    token,
  };
}

/**
 * A port P with P+1 and P+2 free too: the demo listens on P (Keepwarm), P+1 (the mirror) and P+2
 * (the showroom), as `npm start` does on 8080–8082. (With --port 0 the public URL would name port
 * 0, and the mirror's order form would post there.)
 */
async function freePortRun(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 40_000);
    if ((await portFree(base)) && (await portFree(base + 1)) && (await portFree(base + 2))) return base;
  }
  throw new Error('no three consecutive free loopback ports');
}

/** Poll outside a test (expect.poll is for tests only). */
async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

const textOf = async (page: Page, selector: string) => (await page.locator(selector).first().innerText()).replace(/\s+/g, ' ');

for (const dialect of DIALECTS) {
  const missing = chromiumMissing ?? (dialect === 'postgres' ? postgresMissing : null);
  describeNeeding(
    dialect === 'postgres' ? 'Chromium and PostgreSQL' : 'Chromium',
    missing,
    `a drill on the demo, watched in Chromium [${dialect}]`,
    () => {
      let scratch: ScratchDatabase;
      let child: ChildProcess;
      let db: Database;
      let demo: Demo;
      let browser: Browser;
      let context: BrowserContext;
      let page: Page;
      let drill: DrillView;
      let output = '';
      const problems: string[] = [];

      const api = async <T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: T }> => {
        const res = await fetch(`${demo.keepwarm}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${demo.token}`,
            accept: 'application/json',
            ...(body !== undefined && { 'content-type': 'application/json' }),
          },
          ...(body !== undefined && { body: JSON.stringify(body) }),
        });
        return { status: res.status, json: (await res.json()) as T };
      };
      const current = async () => (await api<DrillView>('GET', `/api/v1/drills/${drill.id}`)).json;

      beforeAll(async () => {
        scratch = await createScratchDatabase(dialect);
        child = spawn(
          process.execPath,
          [
            `${REPO_ROOT}bin/keepwarm`,
            'demo',
            '--data-dir',
            scratch.dir,
            '--port',
            String(await freePortRun()),
            '--database-url',
            scratch.url,
          ],
          { cwd: REPO_ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
        );
        child.stdout?.on('data', (c: Buffer) => {
          output += c.toString();
        });
        child.stderr?.on('data', (c: Buffer) => {
          output += c.toString();
        });
        await waitForLine(child, /Press Ctrl\+C to stop/);
        const access = JSON.parse(await readFile(join(scratch.dir, DRILL_FILE), 'utf8')) as { token: string };
        demo = parseDemo(output, access.token);
        db = openDatabase(scratch.url);
        // The monitor role picks the demo's monitors up within its reload period: every entry point up first.
        await until('every showroom monitor to report up', 60_000, async () => {
          const health = (
            await api<{ components: Array<{ status: string; monitors: Array<{ regions: Array<{ state: string }> }> }> }>(
              'GET',
              '/api/v1/health',
            )
          ).json;
          const probed = health.components.filter((c) => c.monitors.length > 0);
          return (
            probed.length >= 5 &&
            probed.every((c) => c.status === 'operational' && c.monitors.every((m) => m.regions.some((r) => r.state === 'up')))
          );
        });
        browser = await launchBrowser();
        context = await browser.newContext();
        page = await context.newPage();
        page.on('pageerror', (e) => problems.push(e.message));
        page.on('console', (m) => {
          if (m.type() === 'error' && /Content Security Policy|Uncaught/.test(m.text())) problems.push(m.text());
        });
      }, 150_000);

      afterAll(async () => {
        await context?.close();
        await browser?.close();
        if (child && child.exitCode === null) {
          child.kill('SIGTERM');
          await waitForExit(child);
        }
        await db?.close();
        await scratch?.drop();
      }, 60_000);

      test('the drill breaks the product API; once the playbook acknowledges, the showroom shows the banner', async () => {
        await page.goto(`${demo.showroom}/`);
        const banner = page.getByRole('status', { name: 'Service status' });
        expect(await banner.count()).toBe(0);
        const started = await api<DrillView>('POST', '/api/v1/drills', { scenario: 'api', hold_seconds: HOLD_SECONDS });
        expect(started.status).toBe(201);
        drill = started.json;
        expect(drill).toMatchObject({ scenario: 'api', target: 'demo showroom', state: 'running' });
        // Detection (5 s probes, 2 failures), the drill's 30 s confirmation window, the playbook's
        // acknowledgement, then the banner script's next check (every 10 s).
        await banner.waitFor({ timeout: 90_000 });
        // The drill records its milestones on its own steps, which queue behind the acknowledgement's
        // message fan-out: the drill page catches up within seconds of the banner.
        await expect
          .poll(
            async () => {
              drill = await current();
              return { incident: drill.incident_id !== null, acknowledged: drill.progress.acknowledge !== null };
            },
            { timeout: 60_000, interval: 1_000 },
          )
          .toEqual({ incident: true, acknowledged: true });
        const incident = await db.kysely
          .selectFrom('incidents')
          .select(['name', 'drill'])
          .where('id', '=', drill.incident_id as string)
          .executeTakeFirstOrThrow();
        expect(Number(incident.drill)).toBe(1);
        expect((await banner.innerText()).replace(/\s+/g, ' ')).toContain(incident.name);
        expect(problems).toEqual([]);
      }, 180_000);

      test("the banner's link opens the backup catalog; a product page renders and a purchase order goes in", async () => {
        await page.getByRole('status', { name: 'Service status' }).getByRole('link', { name: 'Browse the catalog' }).click();
        await page.waitForURL(`${demo.mirror}/`);
        expect(await textOf(page, '.notice')).toContain('You are on the backup catalog');
        // Home → the first category (down its first sub-categories until products are listed) → a product.
        const go = async (link: ReturnType<Page['locator']>) => {
          const before = page.url();
          await link.click();
          await page.waitForURL((u) => u.toString() !== before);
        };
        await go(page.locator('main ul.categories a').first());
        const cards = page.locator('main ul.cards h3 a');
        for (let depth = 0; depth < 4 && (await cards.count()) === 0; depth++) {
          await go(page.getByRole('navigation', { name: 'Sub-categories' }).getByRole('link').first());
        }
        const product = cards.first();
        const name = (await product.innerText()).trim();
        await product.click();
        await expect.poll(() => page.locator('h1').innerText()).toBe(name);
        expect(await page.locator('article.product .price').count()).toBe(1);
        const sku = (await page.locator('section.order-one input[name="sku"]').getAttribute('value')) ?? '';
        expect(sku).not.toBe('');

        const form = page.locator('section.order-one form');
        await form.getByLabel('Quantity').fill('4');
        await form.getByLabel('Company').fill(BUYER.company);
        await form.getByLabel('Your name').fill(BUYER.name);
        await form.getByLabel('Email').fill(BUYER.email);
        await form.getByRole('button', { name: 'Send the order' }).click();
        await page.waitForURL(`${demo.keepwarm}/fallback/v1/orders`);
        expect(await page.locator('h1').innerText()).toBe('Thank you, your order is in');
        const reference = (await page.locator('[data-reference]').innerText()).trim();
        expect(reference).not.toBe('');
        const stored = await db.kysely
          .selectFrom('orders')
          .select(['company', 'email', 'lines', 'incident_id'])
          .where('reference', '=', reference)
          .execute();
        expect(stored).toHaveLength(1);
        expect(stored[0]).toMatchObject({ company: BUYER.company, email: BUYER.email });
        const lines = stored[0]?.lines;
        expect(typeof lines === 'string' ? JSON.parse(lines) : lines).toMatchObject([{ sku, quantity: 4 }]);
        expect(problems).toEqual([]);
      }, 60_000);

      test('the status page shows the drill incident', async () => {
        const incident = await db.kysely
          .selectFrom('incidents')
          .select('name')
          .where('id', '=', drill.incident_id as string)
          .executeTakeFirstOrThrow();
        await page.goto(`${demo.keepwarm}/status`);
        expect(await textOf(page, 'main')).toContain(incident.name);
      }, 30_000);

      test("the incident room shows the playbook's acknowledgement on the timeline and the checklist", async () => {
        const path = `/console/incidents/${drill.incident_id}`;
        await signInThrough(page, demo.keepwarm, { email: demo.email, password: demo.password }, path);
        expect(await textOf(page, '[data-drill]')).toContain('Drill.');
        const timeline = await textOf(page, '[data-live="timeline"]');
        expect(timeline).toContain('acknowledge-and-fall-back');
        // The acknowledgement and the commander items complete themselves from the timeline.
        const checklist = page.locator('#checklist');
        expect(await checklist.locator('[data-item]').count()).toBe(8);
        expect(await textOf(page, '#checklist [data-item="acknowledge"]')).toContain('Publish the first public acknowledgement');
        expect(await checklist.locator('tr.done[data-item="acknowledge"]').count()).toBe(1);
      }, 60_000);

      test('the drill restores the API, resolves its incident and keeps a scorecard: acknowledged within a minute', async () => {
        await expect.poll(async () => (await current()).state, { timeout: 150_000, interval: 1_000 }).toBe('done');
        drill = await current();
        expect(drill.error).toBeNull();
        const card = drill.scorecard;
        expect(card).not.toBeNull();
        const seconds = Object.fromEntries((card?.milestones ?? []).map((m) => [m.key, m.seconds]));
        expect(seconds.detect).toBeLessThan(30);
        expect(seconds.acknowledge).toBeLessThan(60);
        expect(seconds.fallback).not.toBeNull();
        expect(card?.checklist.total).toBe(8);
        expect(card?.score).toBeGreaterThan(0);
        const incident = await db.kysely
          .selectFrom('incidents')
          .select('status')
          .where('id', '=', drill.incident_id as string)
          .executeTakeFirstOrThrow();
        expect(incident.status).toBe('resolved');
        await page.goto(`${demo.keepwarm}/console/drills/${drill.id}`);
        expect(await textOf(page, 'main')).toContain('Time to first public acknowledgement');
      }, 180_000);
    },
  );
}
