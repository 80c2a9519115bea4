import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { launchBrowser, listenForBrowser } from '../harness/browser.js';
import { createTestContext, type TestContext } from '../harness/context.js';
import { DIALECTS } from '../harness/databases.js';
import { chromiumMissing, describeNeeding, postgresMissing } from '../harness/env.js';

const SITE_KEY = 'pk_acme_showroom_0123456789';

/** What the tests read in the page (this project's TypeScript has no DOM library). */
interface EventsState {
  queued: number;
  sending: boolean;
  attempt: number;
  lastError: string | null;
  endpoint: string | null;
  storage: string;
  sent: number;
  duplicates: number;
  rejected: number;
  dropped: number;
  beacons: number;
}
interface Page$ {
  KeepwarmEvents?: {
    track(type: string, fields?: Record<string, unknown>): string | null;
    flush(): Promise<EventsState>;
    state(): EventsState;
  };
  localStorage: { getItem(key: string): string | null };
}

function listen(server: Server, port = 0): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : 0);
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * An event endpoint in front of Keepwarm that can fail: `500` answers every request with a server
 * error; `up` passes requests on; `lose-answer` passes the next one on and then drops Keepwarm's
 * answer (the SDK cannot know it arrived). Closing the server makes it refuse connections.
 */
class Gate {
  mode: 'up' | '500' | 'lose-answer' = '500';
  /** Batches Keepwarm answered through this gate (what it said). */
  readonly answers: Array<{ accepted: number; duplicates: number }> = [];
  readonly server: Server;
  port = 0;

  constructor(private readonly upstream: string) {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    if (this.mode === '500') {
      res.writeHead(500, { 'content-type': 'text/plain' }).end('down');
      return;
    }
    const headers: Record<string, string> = {};
    for (const name of ['content-type', 'origin', 'access-control-request-method', 'access-control-request-headers']) {
      const v = req.headers[name];
      if (typeof v === 'string') headers[name] = v;
    }
    const upstream = await fetch(`${this.upstream}${req.url}`, {
      method: req.method ?? 'GET',
      headers,
      ...(req.method === 'POST' && { body }),
    });
    const text = await upstream.text();
    if (req.method === 'POST' && upstream.ok) this.answers.push(JSON.parse(text));
    if (this.mode === 'lose-answer' && req.method === 'POST') {
      this.mode = 'up';
      req.socket.destroy();
      return;
    }
    const out: Record<string, string> = {};
    upstream.headers.forEach((value, name) => {
      if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection'].includes(name)) out[name] = value;
    });
    res.writeHead(upstream.status, out).end(text);
  }

  async start(port = 0): Promise<string> {
    this.port = await listen(this.server, port);
    return `http://127.0.0.1:${this.port}/api/v1/events/browser`;
  }
}

for (const dialect of DIALECTS) {
  const missing = chromiumMissing ?? (dialect === 'postgres' ? postgresMissing : null);
  describeNeeding(
    dialect === 'postgres' ? 'Chromium and PostgreSQL' : 'Chromium',
    missing,
    `events SDK in Chromium: buffered through an outage, delivered once [${dialect}]`,
    () => {
      let ctx: TestContext;
      let keepwarm: string;
      let browser: Browser;
      let context: BrowserContext;
      let page: Page;
      let site: Server;
      let showroom: string;
      let primary: Gate;
      let backup: Gate;
      let primaryUrl: string;
      let backupUrl: string;
      const tracked: string[] = [];
      const problems: string[] = [];

      const state = async (p: Page = page): Promise<EventsState> => {
        const s = await p.evaluate(() => (globalThis as unknown as Page$).KeepwarmEvents?.state() ?? null);
        if (!s) throw new Error('the SDK did not load');
        return s;
      };
      const track = async (type: string, fields: Record<string, unknown> = {}) => {
        const id = await page.evaluate(
          ([t, f]) => (globalThis as unknown as Page$).KeepwarmEvents?.track(t as string, f as Record<string, unknown>) ?? null,
          [type, fields] as const,
        );
        expect(typeof id).toBe('string');
        tracked.push(id as string);
      };
      const loaded = (p: Page = page) => p.waitForFunction(() => (globalThis as unknown as Page$).KeepwarmEvents !== undefined);
      /** Stored events of this browser, by messageId, with how many rows each has. */
      const storedCounts = async (): Promise<Map<string, number>> => {
        const rows = await ctx.db.kysely
          .selectFrom('intent_events')
          .select(['message_id'])
          .where('source', '=', 'site:acme')
          .execute();
        const counts = new Map<string, number>();
        for (const r of rows) counts.set(r.message_id, (counts.get(r.message_id) ?? 0) + 1);
        return counts;
      };

      beforeAll(async () => {
        // The showroom: a page with a strict CSP that embeds the events script with two endpoints.
        site = createServer((req, res) => {
          const delay = req.url?.includes('slow') ? '600000' : '50';
          res.writeHead(200, {
            'content-type': 'text/html; charset=utf-8',
            'content-security-policy': `default-src 'none'; script-src ${keepwarm}; connect-src ${new URL(primaryUrl).origin} ${new URL(backupUrl).origin}`,
          });
          res.end(
            `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Acme showroom</title></head><body><main>` +
              `<h1>Acme showroom</h1><button type="button" data-kw-event="product_viewed" data-kw-product="Chiller X200">Chiller X200</button>` +
              `<button type="button" data-kw-event="cart_updated" data-kw-value="18500">Add to cart</button></main>` +
              `<script src="${keepwarm}/sdk/keepwarm-events.js" data-key="${SITE_KEY}" data-endpoints="${primaryUrl} ${backupUrl}" ` +
              `data-retry="100 800" data-delay="${delay}" data-timeout="1500" async></script></body></html>`,
          );
        });
        showroom = `http://127.0.0.1:${await listen(site)}`;
        ctx = await createTestContext(dialect, {
          config: { 'crm.events': { sites: [{ name: 'acme', key: SITE_KEY, origins: [showroom] }] } },
        });
        keepwarm = await listenForBrowser(ctx);
        primary = new Gate(keepwarm);
        backup = new Gate(keepwarm);
        primaryUrl = await primary.start();
        backupUrl = await backup.start();
        // The primary refuses connections (closed), the backup answers 500.
        await close(primary.server);
        browser = await launchBrowser();
        context = await browser.newContext();
        page = await context.newPage();
        page.on('pageerror', (e) => problems.push(e.message));
        page.on('console', (m) => {
          if (m.type() === 'error' && /Content Security Policy|Uncaught/.test(m.text())) problems.push(m.text());
        });
      }, 60_000);

      afterAll(async () => {
        await context?.close();
        await browser?.close();
        for (const s of [site, primary?.server, backup?.server]) if (s?.listening) await close(s);
        await ctx?.close();
      });

      test('while every endpoint is down, events are kept in localStorage, also across a reload', async () => {
        await page.goto(showroom);
        await loaded();
        await track('product_viewed', { product: 'Pump P1' });
        await track('form_submitted', { email: 'ana@buyer.example' });
        await page.getByRole('button', { name: 'Chiller X200' }).click();
        await page.getByRole('button', { name: 'Add to cart' }).click();
        // The clicks were tracked too: their ids are in the stored queue.
        await page.waitForFunction(() => ((globalThis as unknown as Page$).KeepwarmEvents?.state().attempt ?? 0) >= 2);
        const queue = await page.evaluate(() =>
          JSON.parse((globalThis as unknown as Page$).localStorage.getItem('keepwarm-events:v1:queue') ?? '[]'),
        );
        for (const e of queue as Array<{ messageId: string }>) if (!tracked.includes(e.messageId)) tracked.push(e.messageId);
        expect(tracked).toHaveLength(4);
        const before = await state();
        expect(before).toMatchObject({ queued: 4, sent: 0, storage: 'localStorage' });
        expect(before.lastError).toMatch(/^(error|http 500)$/);

        await page.reload();
        await loaded();
        expect((await state()).queued).toBe(4);
        await track('demo_booked');
        await track('cart_updated', { value: 990, product: 'Valve V2' });
        await page.waitForFunction(() => ((globalThis as unknown as Page$).KeepwarmEvents?.state().attempt ?? 0) >= 1);
        expect((await state()).queued).toBe(6);
        expect(await storedCounts()).toEqual(new Map());
        expect(problems).toEqual([]);
      }, 30_000);

      test('when the backup comes back (its first answer lost on the way), every event arrives exactly once', async () => {
        backup.mode = 'lose-answer';
        await page.waitForFunction(() => (globalThis as unknown as Page$).KeepwarmEvents?.state().queued === 0, undefined, {
          timeout: 15_000,
        });
        const s = await state();
        expect(s).toMatchObject({
          queued: 0,
          rejected: 0,
          dropped: 0,
          lastError: null,
          endpoint: `${backupUrl}?key=${SITE_KEY}`,
        });
        const counts = await storedCounts();
        expect([...counts.keys()].sort()).toEqual([...tracked].sort());
        expect([...counts.values()].every((n) => n === 1)).toBe(true);
        // The batch whose answer was lost was sent again: Keepwarm counted it as duplicates.
        const accepted = backup.answers.reduce((n, a) => n + a.accepted, 0);
        const duplicates = backup.answers.reduce((n, a) => n + a.duplicates, 0);
        expect(accepted).toBe(6);
        expect(duplicates).toBeGreaterThan(0);
        const stored = await ctx.db.kysely
          .selectFrom('intent_events')
          .select(['type', 'product', 'value', 'email'])
          .where('message_id', 'in', tracked)
          .execute();
        expect(
          stored
            .filter((e) => e.type === 'cart_updated')
            .map((e) => Number(e.value))
            .sort((a, b) => a - b),
        ).toEqual([990, 18_500]);
        expect(stored.find((e) => e.type === 'form_submitted')?.email).toBe('ana@buyer.example');
        expect(problems).toEqual([]);
      }, 30_000);

      test('on pagehide the queue goes out with sendBeacon; a later page confirms it without a second copy', async () => {
        // The primary is back: a fresh page tries it first.
        primary.mode = 'up';
        await primary.start(primary.port);
        const slow = await context.newPage();
        await slow.goto(`${showroom}/slow`);
        await loaded(slow);
        const id = await slow.evaluate(
          () => (globalThis as unknown as Page$).KeepwarmEvents?.track('product_viewed', { product: 'Beacon B1' }) ?? null,
        );
        expect(typeof id).toBe('string');
        expect((await state(slow)).queued).toBe(1);
        await slow.goto('about:blank');
        await expect.poll(async () => (await storedCounts()).get(id as string), { timeout: 10_000 }).toBe(1);

        // The event stayed queued (a beacon's arrival is unknown): the next page sends it again, as a duplicate.
        await slow.goto(`${showroom}/`);
        await loaded(slow);
        await slow.waitForFunction(() => (globalThis as unknown as Page$).KeepwarmEvents?.state().queued === 0, undefined, {
          timeout: 10_000,
        });
        expect((await storedCounts()).get(id as string)).toBe(1);
        expect(primary.answers.at(-1)).toMatchObject({ accepted: 0, duplicates: 1 });
        await slow.close();
        expect(problems).toEqual([]);
      }, 30_000);
    },
  );
}
