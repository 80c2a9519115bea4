import { readFileSync } from 'node:fs';
import { expect, test } from 'vitest';
import { useTestContext } from '../../test/harness/context.js';
import { describeEachDialect } from '../../test/harness/databases.js';
import { describeNeeding } from '../../test/harness/env.js';
import { fixturePath, fixturesMissing } from '../../test/harness/fixtures.js';

const fixture = (name: string) => readFileSync(fixturePath('catalog', name), 'utf8');

describeEachDialect('catalog import and snapshots', (dialect) => {
  const ctx = useTestContext(dialect);
  const post = async (body: string, query = '', type = 'text/plain') => {
    const c = ctx();
    return c.call('POST', `/api/v1/catalog/imports${query}`, {
      token: await c.token('marketing'),
      body,
      headers: { 'content-type': type },
    });
  };

  describeNeeding('the shared fixtures', fixturesMissing, 'every fixture imports', () => {
    test('each catalog fixture imports with concrete products, GTINs and the Excel-mangled warning', async () => {
      const merchant = (
        await post(fixture('google_merchant_rss_feed_example.xml'), '?filename=feed.xml', 'application/rss+xml')
      ).json();
      expect(merchant).toMatchObject({ format: 'merchant-xml', applied: true, valid: 2, errors: 0 });
      const shopify = await post(fixture('shopify_product_template_excel_mangled.csv'), '?filename=shop.csv', 'text/csv');
      expect(shopify.statusCode, shopify.body).toBe(200);
      const s = shopify.json();
      expect(s).toMatchObject({ format: 'shopify-csv', applied: true, errors: 0 });
      expect(s.issues).toContainEqual({
        level: 'warning',
        file: 'shop.csv',
        row: 2,
        field: 'Variant Barcode',
        message: expect.stringContaining('3.65275E+11'),
      });
      const akeneoCsv = (await post(fixture('akeneo_icecat_products_subset.csv'), '?filename=icecat.csv')).json();
      expect(akeneoCsv).toMatchObject({ format: 'akeneo-csv', applied: true, valid: 10, errors: 0 });
      const cats = (await post(fixture('akeneo_icecat_categories.csv'), '?filename=categories.csv')).json();
      expect(cats).toMatchObject({ format: 'akeneo-categories', applied: true });
      // Categories alone keep the products of the previous snapshot.
      expect(cats.snapshot.product_count).toBe(10);
      expect(cats.diff).toMatchObject({ added: [], removed: [], changed: [], unchanged: 10 });
      for (const name of ['akeneo_api_products_page_v5.json', 'akeneo_api_products_uuid_page_v7.json']) {
        const refused = await post(fixture(name), `?filename=${name}`, 'application/json');
        expect(refused.statusCode).toBe(422);
        expect(refused.json().issues).toContainEqual(
          expect.objectContaining({ level: 'error', row: 3, field: 'name', file: name }),
        );
        const r = (await post(fixture(name), `?filename=${name}&skip_invalid=true`, 'application/json')).json();
        expect(r).toMatchObject({ format: 'akeneo-json', applied: true, valid: 2, refused: 1 });
      }
      const c = ctx();
      const snap = await c.services.catalog.snapshotFile();
      expect(snap.products.map((p) => p.sku)).toEqual(['top-xl', 'cap']);
      expect(snap.products[0]).toMatchObject({
        name: 'Top XL',
        description: 'Summer top XL',
        price: { amount: '15.5', currency: 'EUR' },
        group: 'tops',
      });
      const list = (await c.call('GET', '/api/v1/catalog/snapshots', { token: await c.token('viewer') })).json().snapshots;
      expect(list.map((x: { version: number }) => x.version)).toEqual([6, 5, 4, 3, 2, 1]);

      const v1 = await c.services.catalog.snapshotFile(list[5].id);
      expect(v1.products[0]).toMatchObject({
        sku: 'celebird-eg-variants-apparel-upi-001',
        name: "Diesel Men's Black Stainless-Steel Analog Watch with Black Dial",
        price: { amount: '105.29', currency: 'USD' },
        gtin: '698615070527',
        mpn: 'DZ1437',
        availability: 'in_stock',
        group: 'dz1',
      });
      const v2 = await c.services.catalog.snapshotFile(list[4].id);
      const shirt = v2.products.find((p) => p.sku === 'SRT_COT_111');
      expect(shirt).toMatchObject({
        name: 'Example T-Shirt (Green / S)',
        price: { amount: '25', currency: 'USD' },
        gtin: null,
        mpn: null,
        group: 'example-shirt',
      });
      const v3 = await c.services.catalog.snapshotFile(list[3].id);
      const camcorder = v3.products.find((p) => p.sku === '18383106');
      expect(camcorder?.name).toBe('Sony HDR-CX290E hand-held camcorder');
      expect(v3.products.find((p) => p.sku === 'AKNTS_BPXS')?.price).toEqual({ amount: '10.00', currency: 'EUR' });
    });
  });

  test('a second import is diffed: added, changed (with fields), removed; the same file again creates nothing', async () => {
    const first = 'sku,name,price,currency,brand\nA-1,Anvil,10.00,EUR,Acme\nB-2,Bolt,2.50,EUR,Acme\nC-3,Crate,7,EUR,Acme\n';
    const second = 'sku,name,price,currency,brand\nA-1,Anvil,12.00,EUR,Acme\nC-3,Crate,7,EUR,Acme\nD-4,Drill,99,EUR,Acme\n';
    const base = (await post(first)).json();
    expect(base).toMatchObject({ applied: true });
    const v = base.snapshot.version as number;
    const r = (await post(second)).json();
    expect(r.snapshot.version).toBe(v + 1);
    expect(r.diff).toMatchObject({
      added: ['D-4'],
      removed: ['B-2'],
      changed: [{ sku: 'A-1', fields: ['price'] }],
      unchanged: 1,
    });
    const again = (await post(second)).json();
    expect(again).toMatchObject({ applied: false, snapshot: { version: v + 1 } });
    const c = ctx();
    const diff = await c.call('GET', `/api/v1/catalog/snapshots/${r.snapshot.id}/diff`, { token: await c.token('viewer') });
    expect(diff.json()).toMatchObject({ from: { version: v }, to: { version: v + 1 }, added: ['D-4'], removed: ['B-2'] });
    expect((await c.call('GET', '/api/v1/catalog/snapshots/nope/diff', { token: await c.token('viewer') })).statusCode).toBe(404);
  });

  test('all or nothing: a bad price and a missing name refuse the import with 422 naming row and field', async () => {
    const before = (await ctx().services.catalog.list()).length;
    const res = await post('sku,name,price\nA-1,Anvil,10 EUR\nB-2,,3 EUR\nC-3,Crate,cheap\n', '?filename=bad.csv');
    expect(res.statusCode).toBe(422);
    const body = res.json();
    expect(body.applied).toBe(false);
    expect(body.issues).toEqual([
      expect.objectContaining({ level: 'error', file: 'bad.csv', row: 3, field: 'name' }),
      expect.objectContaining({ level: 'error', file: 'bad.csv', row: 4, field: 'price' }),
    ]);
    const c = ctx();
    expect(await c.services.catalog.list()).toHaveLength(before);
    const skipped = (await post('sku,name,price\nA-1,Anvil,10 EUR\nB-2,,3 EUR\n', '?skip_invalid=true')).json();
    expect(skipped).toMatchObject({ applied: true, valid: 1, refused: 1 });
  });

  test('bad input: unknown format, bad locale, broken JSON and empty body are 4xx naming the field', async () => {
    const fmt = await post('x', '?format=excel');
    expect(fmt.statusCode).toBe(400);
    expect(fmt.body).toContain('format');
    const loc = await post('sku,name\nA,B\n', '?locale=english');
    expect(loc.statusCode).toBe(400);
    expect(loc.body).toContain('locale');
    const json = await post('{"products": [', '', 'application/json');
    expect(json.statusCode).toBe(422);
    expect(json.body).toContain('body');
    const empty = await post('', '');
    expect(empty.statusCode).toBe(400);
    expect(empty.body).toContain('body');
  });
});
