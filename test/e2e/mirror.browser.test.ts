import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { createMirrorServer } from '../../src/fallback/mirror/serve.js';
import { seedDefaultTemplates } from '../../src/messaging/default-templates.js';
import { launchBrowser } from '../harness/browser.js';
import { createTestContext, type TestContext } from '../harness/context.js';
import { DIALECTS } from '../harness/databases.js';
import { chromiumMissing, describeNeeding, IN_CI, postgresMissing } from '../harness/env.js';
import { freePort } from '../harness/ports.js';

/**
 * The fallback mirror as a buyer meets it: Keepwarm builds and publishes the mirror to a folder,
 * a static server on another loopback origin serves it, and Chromium browses, searches,
 * downloads a spec sheet, sends a purchase order (to Keepwarm) and uses the chat box.
 */

const HOSTILE = '<img src=x onerror=alert(1)>';

/** A small showroom catalog as a PIM exports it: categories as paths, specifications as extra columns. */
const CATALOG = [
  'sku,name,brand,category,price,currency,availability,url,description,Width,Height,Material,Load capacity',
  'SHL-100,Modular shelving unit 100 cm,Acme,Furniture > Shelving,129.00,EUR,in_stock,https://showroom.acme.example/products/modular-shelving-100,"Powder-coated steel shelving for stock rooms and showrooms.",100 cm,200 cm,Powder-coated steel,80 kg per shelf',
  'SHL-120,Modular shelving unit 120 cm,Acme,Furniture > Shelving,149.00,EUR,in_stock,,Wider bays for bulky stock.,120 cm,200 cm,Powder-coated steel,80 kg per shelf',
  'SHL-150,Heavy-duty shelving 150 cm,Acme,Furniture > Shelving,219.00,EUR,backorder,,For pallets and tools.,150 cm,220 cm,Galvanised steel,200 kg per shelf',
  'TBL-200,Display table oak 160 x 80 cm,Acme,Furniture > Tables,349.00,EUR,in_stock,,Solid oak top on a steel frame.,160 cm,75 cm,Oak,',
  'TBL-210,Display table walnut 200 x 90 cm,Acme,Furniture > Tables,489.00,EUR,preorder,,Walnut veneer.,200 cm,75 cm,Walnut veneer,',
  'LGT-300,Track spotlight 20 W,Lumo,Lighting > Track lighting,89.00,EUR,in_stock,,Warm white LED spot.,,,Aluminium,',
  'LGT-310,Track spotlight 35 W,Lumo,Lighting > Track lighting,109.00,EUR,in_stock,,Brighter spot for high ceilings.,,,Aluminium,',
  'LGT-400,Pendant lamp 45 cm,Lumo,Lighting > Pendants,159.00,EUR,out_of_stock,,Opal glass pendant.,45 cm,30 cm,Opal glass,',
  // A PIM that stores escaped HTML: the importer decodes it, so the name and a spec are markup-looking text.
  `HOST-1,&lt;img src=x onerror=alert(1)&gt; Demo shelf,Acme,Furniture > Shelving,99.00,EUR,in_stock,,Test product.,90 cm,180 cm,&lt;img src=x onerror=alert(1)&gt;,`,
].join('\n');

const BUYER = { company: 'Northwind Retail GmbH', name: 'Ada Buyer', email: 'ada@northwind.example' };

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

const pdftotext = ['/usr/bin/pdftotext', '/usr/local/bin/pdftotext'].find((p) => existsSync(p)) ?? null;

/** Console errors, uncaught errors and dialogs (an injected onerror=alert would open one). */
function watch(page: Page): { problems: string[]; dialogs: string[] } {
  const problems: string[] = [];
  const dialogs: string[] = [];
  page.on('console', (m) => {
    // Chromium asks every new origin for /favicon.ico; the mirror has none (a 404 the buyer never sees).
    if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico')) problems.push(`${m.text()} (${m.location().url})`);
  });
  page.on('pageerror', (e) => problems.push(e.message));
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  return { problems, dialogs };
}

for (const dialect of DIALECTS) {
  const missing = chromiumMissing ?? (dialect === 'postgres' ? postgresMissing : null);
  describeNeeding(
    dialect === 'postgres' ? 'Chromium and PostgreSQL' : 'Chromium',
    missing,
    `fallback mirror in Chromium [${dialect}]`,
    () => {
      let root: string;
      let ctx: TestContext;
      let keepwarm: string;
      let mirrorServer: Server;
      let mirror: string;
      let browser: Browser;
      let appClosed = false;
      /** Every request any page made, over the whole suite. */
      const requested: string[] = [];

      const newPage = async (): Promise<{ context: BrowserContext; page: Page; problems: string[]; dialogs: string[] }> => {
        const context = await browser.newContext({ acceptDownloads: true });
        context.on('request', (r) => requested.push(r.url()));
        const page = await context.newPage();
        return { context, page, ...watch(page) };
      };

      beforeAll(async () => {
        root = await mkdtemp(join(tmpdir(), 'keepwarm-mirror-e2e-'));
        await chmod(root, 0o755);
        const folder = join(root, 'catalog');
        // The mirror host: another origin than Keepwarm's, serving whatever is published.
        mirrorServer = createMirrorServer(folder);
        mirror = await listen(mirrorServer);
        const port = await freePort();
        keepwarm = `http://127.0.0.1:${port}`;
        ctx = await createTestContext(dialect, {
          config: {
            publicUrl: keepwarm,
            'status.pageName': 'Acme Showroom status',
            'fallback.targets': [{ type: 'folder', name: 'mirror', path: folder }],
            'fallback.mirrorUrl': mirror,
            'fallback.orderOrigins': [mirror],
            'fallback.contactEmail': 'sales@acme.example',
            'fallback.contactPhone': '+1 555 0100',
            'messaging.variables': { company: 'Acme Industrial', fallback_url: mirror },
          },
        });
        await ctx.app.listen({ port, host: '127.0.0.1' });
        // The chat menu answers from an approved template.
        await seedDefaultTemplates(ctx.db, ctx.clock, { approve: true });
        const imported = await ctx.services.catalog.import(CATALOG, {
          file: 'showroom.csv',
          format: 'generic-csv',
          actor: 'test',
        });
        expect(imported.errors, JSON.stringify(imported.issues)).toBe(0);
        expect(imported.valid).toBe(9);
        const result = await ctx.services.mirror.rebuild({ trigger: 'test' });
        expect(result.publications).toHaveLength(1);
        expect(result.publications[0], JSON.stringify(result.publications[0])).not.toHaveProperty('error');
        browser = await launchBrowser();
      }, 120_000);

      afterAll(async () => {
        await browser?.close();
        mirrorServer?.closeAllConnections();
        await new Promise((resolve) => (mirrorServer ? mirrorServer.close(resolve) : resolve(undefined)));
        if (ctx) {
          if (appClosed) {
            await ctx.db.close();
            await ctx.scratch.drop();
          } else await ctx.close();
        }
        if (root) await rm(root, { recursive: true, force: true });
      });

      test('a buyer browses home → category → sub-category → product: name, price, availability and the spec table', async () => {
        const { context, page, problems } = await newPage();
        await page.goto(`${mirror}/`);
        await expect.poll(() => page.title()).toBe('Acme Showroom: backup catalog');
        expect(await page.locator('.notice').textContent()).toContain('You are on the backup catalog');
        const main = page.getByRole('main');
        expect(await main.textContent()).toContain('9 products in 2 categories');
        await main.getByRole('link', { name: 'Furniture', exact: true }).click();
        await page.waitForURL(/\/c\/[^/]+\/$/);
        expect(await page.locator('h1').textContent()).toBe('Furniture');
        await page.getByRole('navigation', { name: 'Sub-categories' }).getByRole('link', { name: 'Shelving' }).click();
        await expect.poll(() => page.locator('h1').textContent()).toBe('Shelving');
        // The breadcrumb leads back up.
        const crumbs = page.getByRole('navigation', { name: 'Breadcrumb' });
        expect(await crumbs.getByRole('link').allTextContents()).toEqual(['Home', 'Furniture']);
        await page.getByRole('link', { name: 'Modular shelving unit 100 cm' }).click();
        await expect.poll(() => page.locator('h1').textContent()).toBe('Modular shelving unit 100 cm');
        expect(new URL(page.url()).pathname).toMatch(/^\/p\/[0-9a-f]{2}\/shl-100-[0-9a-f]{6}\/$/);
        const product = page.locator('article.product');
        expect(await product.locator('.meta').textContent()).toContain('SKU SHL-100');
        expect(await product.locator('.price').textContent()).toMatch(/129\.00 EUR\s+In stock/i);
        const specs: Record<string, string> = {};
        for (const row of await page.locator('table.specs tr').all()) {
          specs[(await row.locator('th').textContent()) ?? ''] = (await row.locator('td').textContent()) ?? '';
        }
        expect(specs).toMatchObject({
          Width: '100 cm',
          Height: '200 cm',
          Material: 'Powder-coated steel',
          'Load capacity': '80 kg per shelf',
        });
        expect(problems).toEqual([]);
        await context.close();
      });

      test('the spec sheet downloads as a real PDF naming the product', async () => {
        const { context, page, problems } = await newPage();
        await page.goto(`${mirror}/`);
        await page.getByRole('main').getByRole('link', { name: 'Shelving' }).click();
        await page.getByRole('link', { name: 'Modular shelving unit 100 cm' }).click();
        await expect.poll(() => page.locator('h1').textContent()).toBe('Modular shelving unit 100 cm');
        const [download] = await Promise.all([
          page.waitForEvent('download'),
          page.getByRole('link', { name: 'Download the spec sheet (PDF)' }).click(),
        ]);
        expect(download.suggestedFilename()).toBe('spec-sheet.pdf');
        const file = join(root, `download-${dialect}.pdf`);
        await download.saveAs(file);
        const bytes = await readFile(file);
        expect(bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
        expect(bytes.subarray(-8).toString('latin1')).toContain('%%EOF');
        if (pdftotext) {
          const { stdout } = await promisify(execFile)(pdftotext, [file, '-']);
          expect(stdout).toContain('Modular shelving unit 100 cm');
          expect(stdout).toContain('SHL-100');
          expect(stdout).toContain('129.00 EUR');
        } else if (IN_CI) {
          throw new Error('pdftotext is required in CI (apt-get install poppler-utils)');
        }
        expect(problems).toEqual([]);
        await context.close();
      });

      test('searching from the header box finds the product by name words and by SKU prefix', async () => {
        const { context, page, problems } = await newPage();
        await page.goto(`${mirror}/`);
        await page.getByLabel('Search products').fill('shelving 120');
        await page.getByLabel('Search products').press('Enter');
        await page.waitForURL(/\/search\/\?q=shelving\+120$/);
        const results = page.locator('.results');
        await expect.poll(() => results.getByRole('link').allTextContents()).toContain('Modular shelving unit 120 cm');
        expect(await page.locator('.search-status').textContent()).toMatch(/result/);
        // The search box keeps what was searched.
        expect(await page.getByLabel('Search products').inputValue()).toBe('shelving 120');

        // Typing on the search page answers as the buyer types: a SKU prefix lists exactly that family.
        const skus = async () => (await results.locator('li .meta').allTextContents()).map((t) => /SKU (\S+)/.exec(t)?.[1]);
        await page.getByLabel('Search products').fill('LGT-3');
        await expect.poll(async () => (await skus()).sort()).toEqual(['LGT-300', 'LGT-310']);
        expect(await page.locator('.search-status').textContent()).toBe('2 results for “LGT-3”.');
        await page.getByLabel('Search products').fill('lgt-31');
        await expect.poll(async () => await skus()).toEqual(['LGT-310']);
        await page.getByLabel('Search products').fill('SHL-1');
        await expect.poll(async () => (await skus()).sort()).toEqual(['SHL-100', 'SHL-120', 'SHL-150']);
        await page.getByLabel('Search products').fill('TBL');
        await expect.poll(async () => (await skus()).sort()).toEqual(['TBL-200', 'TBL-210']);
        await page.getByLabel('Search products').fill('zeppelin');
        await expect.poll(() => page.locator('.search-status').textContent()).toBe('No products match “zeppelin”.');

        // A result leads to the product page.
        await page.getByLabel('Search products').fill('walnut');
        await results.getByRole('link', { name: 'Display table walnut 200 x 90 cm' }).click();
        await expect.poll(() => page.locator('h1').textContent()).toBe('Display table walnut 200 x 90 cm');
        expect(await page.locator('article.product .price').textContent()).toContain('489.00 EUR');
        expect(problems).toEqual([]);
        await context.close();
      });

      test('a purchase order with two lines reaches Keepwarm: thank-you page with the reference, order stored', async () => {
        const { context, page, problems } = await newPage();
        await page.goto(`${mirror}/`);
        await page.getByRole('link', { name: 'Purchase order', exact: true }).click();
        await expect.poll(() => page.locator('h1').textContent()).toBe('Purchase order');
        await page.getByLabel('SKU, line 1').fill('SHL-120');
        await page.getByLabel('Product, line 1').fill('Modular shelving unit 120 cm');
        await page.getByLabel('Quantity, line 1').fill('12');
        await page.getByLabel('SKU, line 2').fill('LGT-310');
        await page.getByLabel('Quantity, line 2').fill('40');
        await page.getByLabel('Company').fill(BUYER.company);
        await page.getByLabel('Your name').fill(BUYER.name);
        await page.getByLabel('Email').fill(BUYER.email);
        await page.getByLabel('Notes (optional)').fill('Deliver to the Hamburg store.');
        await page.getByRole('button', { name: 'Send the order' }).click();
        await page.waitForURL(`${keepwarm}/fallback/v1/orders`);
        expect(await page.locator('h1').textContent()).toBe('Thank you, your order is in');
        const reference = (await page.locator('[data-reference]').textContent()) ?? '';
        expect(reference).toMatch(/^KW-[A-Z0-9]{4}-[A-Z0-9]{4}$/);
        const shown = await page.locator('main li').allTextContents();
        expect(shown).toEqual(['12 × SHL-120 (Modular shelving unit 120 cm)', '40 × LGT-310']);
        // "Back to the catalog" leads back to the page the order came from (the form says which, as a full address).
        expect(await page.getByRole('link', { name: 'Back to the catalog' }).getAttribute('href')).toBe(`${mirror}/order/`);

        const stored = await ctx.db.kysely.selectFrom('orders').selectAll().where('reference', '=', reference).execute();
        expect(stored).toHaveLength(1);
        const order = stored[0] as (typeof stored)[number];
        expect(order).toMatchObject({ company: BUYER.company, contact_name: BUYER.name, email: BUYER.email });
        const lines = typeof order.lines === 'string' ? JSON.parse(order.lines) : order.lines;
        expect(lines).toEqual([
          expect.objectContaining({ sku: 'SHL-120', quantity: 12, known: true }),
          expect.objectContaining({ sku: 'LGT-310', quantity: 40, known: true }),
        ]);
        expect(problems).toEqual([]);
        await context.close();
      });

      test('ordering from a product page sends that product; the order page pre-fills from ?sku=', async () => {
        const { context, page, problems } = await newPage();
        await page.goto(`${mirror}/search/?q=TBL-200`);
        await page.locator('.results').getByRole('link', { name: 'Display table oak 160 x 80 cm' }).click();
        await expect.poll(() => page.locator('h1').textContent()).toBe('Display table oak 160 x 80 cm');
        const form = page.locator('section.order-one form');
        await form.getByLabel('Quantity').fill('3');
        await form.getByLabel('Company').fill(BUYER.company);
        await form.getByLabel('Your name').fill(BUYER.name);
        await form.getByLabel('Email').fill(BUYER.email);
        await form.getByRole('button', { name: 'Send the order' }).click();
        await page.waitForURL(`${keepwarm}/fallback/v1/orders`);
        expect(await page.locator('main li').allTextContents()).toEqual(['3 × TBL-200 (Display table oak 160 x 80 cm)']);
        const reference = (await page.locator('[data-reference]').textContent()) ?? '';
        const stored = await ctx.db.kysely.selectFrom('orders').select(['lines']).where('reference', '=', reference).execute();
        expect(stored).toHaveLength(1);
        const lines = stored[0]?.lines;
        expect(typeof lines === 'string' ? JSON.parse(lines) : lines).toEqual([
          expect.objectContaining({ sku: 'TBL-200', name: 'Display table oak 160 x 80 cm', quantity: 3, known: true }),
        ]);

        await page.goto(`${mirror}/order/?sku=LGT-400&product=Pendant%20lamp%2045%20cm&qty=6`);
        expect(await page.getByLabel('SKU, line 1').inputValue()).toBe('LGT-400');
        expect(await page.getByLabel('Product, line 1').inputValue()).toBe('Pendant lamp 45 cm');
        expect(await page.getByLabel('Quantity, line 1').inputValue()).toBe('6');
        // More lines than the form has rows: "Add a line".
        expect(await page.locator('table.lines tbody tr').count()).toBe(5);
        await page.getByRole('button', { name: 'Add a line' }).click();
        expect(await page.locator('table.lines tbody tr').count()).toBe(6);
        expect(await page.getByLabel('SKU, line 6').inputValue()).toBe('');
        expect(problems).toEqual([]);
        await context.close();
      });

      test('a product named like markup renders as text everywhere: no dialog, no injected element', async () => {
        const { context, page, problems, dialogs } = await newPage();
        const name = `${HOSTILE} Demo shelf`;
        await page.goto(`${mirror}/`);
        await page.getByRole('main').getByRole('link', { name: 'Shelving' }).click();
        await expect.poll(() => page.locator('h1').textContent()).toBe('Shelving');
        const card = page.locator('.cards li', { hasText: 'HOST-1' });
        expect(await card.locator('h3 a').textContent()).toBe(name);
        await card.locator('h3 a').click();
        await expect.poll(() => page.locator('h1').textContent()).toBe(name);
        expect(await page.title()).toBe(`${name} · Acme Showroom: backup catalog`);
        const material = page.locator('table.specs tr', { hasText: 'Material' }).locator('td');
        expect(await material.textContent()).toBe(HOSTILE);
        expect(await page.locator('img').count()).toBe(0);
        // The hidden order fields carry the name as a value, not as markup.
        expect(await page.locator('section.order-one input[name="product"]').getAttribute('value')).toBe(name);

        await page.getByLabel('Search products').fill('onerror');
        await page.getByLabel('Search products').press('Enter');
        await expect.poll(() => page.locator('.results a').allTextContents()).toEqual([name]);
        expect(await page.locator('img').count()).toBe(0);

        // Ordered by name: Keepwarm's thank-you page shows it as text too.
        await page.goto(`${mirror}/order/?sku=HOST-1&product=${encodeURIComponent(name)}`);
        await page.getByLabel('Company').fill(BUYER.company);
        await page.getByLabel('Your name').fill(BUYER.name);
        await page.getByLabel('Email').fill(BUYER.email);
        await page.getByRole('button', { name: 'Send the order' }).click();
        await page.waitForURL(`${keepwarm}/fallback/v1/orders`);
        expect(await page.locator('main li').allTextContents()).toEqual([`1 × HOST-1 (${name})`]);
        expect(await page.locator('img').count()).toBe(0);
        await page.waitForTimeout(200); // an onerror handler would have fired by now
        expect(dialogs).toEqual([]);
        expect(problems).toEqual([]);
        await context.close();
      });

      test('the chat box answers with the outage menu while Keepwarm is up', async () => {
        const { context, page, problems } = await newPage();
        await page.goto(`${mirror}/`);
        const chat = page.locator('.chat');
        await chat.waitFor({ state: 'visible' });
        await chat.getByLabel('Message').focus();
        const replies = chat.locator('.chat-log li.them');
        await expect.poll(() => replies.count(), { timeout: 10_000 }).toBe(1);
        const menu = (await replies.first().textContent()) ?? '';
        expect(menu).toContain('Acme Industrial here');
        expect(menu).toMatch(/1 - Spec sheets[\s\S]*2 - Book a live demo[\s\S]*3 - Compare products/);
        await chat.getByLabel('Message').fill('1');
        await chat.getByRole('button', { name: 'Send' }).click();
        await expect.poll(() => replies.count(), { timeout: 10_000 }).toBe(2);
        expect(await chat.locator('.chat-log li.me').allTextContents()).toEqual(['1']);
        expect(await chat.locator('.chat-down').isHidden()).toBe(true);
        expect(problems).toEqual([]);
        await context.close();
      });

      test('no page request leaves loopback or goes anywhere but the mirror and Keepwarm', () => {
        const origins = new Set<string>();
        for (const url of requested) {
          const parsed = new URL(url);
          if (parsed.protocol === 'data:' || parsed.protocol === 'blob:') continue;
          origins.add(parsed.origin);
        }
        expect([...origins].sort()).toEqual([keepwarm, mirror].sort());
        // And Keepwarm was reached the ways the mirror uses it: orders, chat, the banner.
        expect(requested.some((u) => u === `${keepwarm}/fallback/v1/orders`)).toBe(true);
        expect(requested.some((u) => u === `${keepwarm}/api/v1/chat/messages`)).toBe(true);
        expect(requested.some((u) => u.startsWith(`${keepwarm}/status/banner.json`))).toBe(true);
      });

      test('with Keepwarm down, the chat box says so and leaves the contact links; browsing still works', async () => {
        // Keepwarm stops: the mirror host is all that is left.
        await ctx.app.close();
        appClosed = true;
        const { context, page } = await newPage();
        await page.goto(`${mirror}/`);
        const chat = page.locator('.chat');
        await chat.waitFor({ state: 'visible' });
        await chat.getByLabel('Message').focus();
        await chat.locator('.chat-down').waitFor({ state: 'visible', timeout: 10_000 });
        expect(await chat.locator('.chat-down').textContent()).toContain(
          'Chat is unavailable right now: please use the email or phone above.',
        );
        expect(await chat.locator('.chat-form').isHidden()).toBe(true);
        const contact = page.locator('.contact-links');
        expect(await contact.getByRole('link', { name: 'sales@acme.example' }).getAttribute('href')).toBe(
          'mailto:sales@acme.example',
        );
        expect(await contact.getByRole('link', { name: '+1 555 0100' }).getAttribute('href')).toBe('tel:+15550100');
        // The catalog itself does not need Keepwarm.
        await page.getByRole('main').getByRole('link', { name: 'Lighting', exact: true }).click();
        await expect.poll(() => page.locator('h1').textContent()).toBe('Lighting');
        expect(await page.locator('.cards li').count()).toBe(3);
        await context.close();
      });
    },
  );
}
