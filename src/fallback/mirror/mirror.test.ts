import { createHash } from 'node:crypto';
import { chmod, lstat, mkdtemp, readdir, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { S3RVER_CREDENTIALS, type S3StandIn, startS3StandIn } from '../../../test/harness/s3rver.js';
import type { CatalogProduct, CatalogSnapshotFile } from '../../catalog/product.js';
import { MirrorBuilder } from './builder.js';
import { bundleOf, productPage, relativeUrl, specSheetPath } from './paths.js';
import { type MirrorSettings, planMirror } from './plan.js';
import { ChecksumMismatch, MirrorFolderTarget, MirrorS3Target } from './targets.js';

const SETTINGS: MirrorSettings = {
  title: 'Northwind: backup catalog',
  siteUrl: 'https://mirror.northwind.example',
  orderEndpoint: 'https://kw.northwind.example/fallback/v1/orders',
  chatEndpoint: 'https://kw.northwind.example/api/v1/chat/messages',
  statusUrl: 'https://kw.northwind.example/status',
  bannerUrls: ['https://kw.northwind.example/status/banner.json'],
  contact: { email: 'sales@northwind.example', phone: '+49 30 1234567' },
  pdfs: true,
};

function product(sku: string, name: string, category: string, extra: Partial<CatalogProduct> = {}): CatalogProduct {
  return {
    sku,
    name,
    description: `${name} for busy showrooms.\n\nShips in five days.`,
    brand: 'Northwind',
    categories: ['furniture', category],
    group: null,
    price: { amount: '120.00', currency: 'EUR' },
    availability: 'in_stock',
    gtin: null,
    mpn: null,
    images: ['https://cdn.northwind.example/img.jpg'],
    url: null,
    attributes: [{ code: 'width', label: 'Width', value: '60', unit: 'cm' }],
    updated_at: null,
    ...extra,
  };
}

function catalog(products: CatalogProduct[]): CatalogSnapshotFile {
  return {
    version: 1,
    id: 'snap-1',
    created_at: '2026-11-20T08:00:00.000Z',
    source: 'test',
    categories: [
      { code: 'furniture', parent: null, label: 'Furniture' },
      { code: 'chairs', parent: 'furniture', label: 'Chairs' },
      { code: 'desks', parent: 'furniture', label: 'Desks' },
    ],
    products,
  };
}

const PRODUCTS = [
  product('CH-100', 'Task chair', 'chairs', { url: 'https://shop.northwind.example/products/task-chair' }),
  product('CH-200', 'Lounge chair', 'chairs'),
  product('DK-220', 'Standing desk', 'desks', {
    attributes: [{ code: 'height', label: 'Height', value: '=HYPERLINK("x")', unit: null }],
  }),
  product('DK-330', 'Corner desk', 'desks'),
];

const fileOf = (plan: ReturnType<typeof planMirror>, path: string) => {
  const f = plan.files.find((x) => x.path === path);
  if (!f) throw new Error(`no ${path} in the plan`);
  return f;
};
const text = (plan: ReturnType<typeof planMirror>, path: string) => fileOf(plan, path).render().toString('utf8');

describe('mirror plan', () => {
  test('relative links work from any depth', () => {
    expect(relativeUrl('index.html', 'index.html')).toBe('./');
    expect(relativeUrl('p/ab/x/index.html', 'index.html')).toBe('../../../');
    expect(relativeUrl('c/chairs/index.html', 'c/chairs/2/index.html')).toBe('2/');
    expect(relativeUrl('c/chairs/2/index.html', 'p/ab/x/spec-sheet.pdf')).toBe('../../../p/ab/x/spec-sheet.pdf');
    expect(bundleOf('p/ab/x/index.html')).toBe('p/ab');
    expect(bundleOf('index.html')).toBeNull();
  });

  test('has home, category, product, comparison, order, search, sitemap and alias pages, all linked', () => {
    const plan = planMirror(catalog(PRODUCTS), SETTINGS);
    const paths = new Set(plan.files.map((f) => f.path));
    for (const p of PRODUCTS) {
      expect(paths.has(productPage(p.sku))).toBe(true);
      expect(paths.has(specSheetPath(p.sku))).toBe(true);
    }
    for (const p of [
      'index.html',
      'order/index.html',
      'search/index.html',
      'search/index.json',
      'sitemap.xml',
      'robots.txt',
      '404.html',
    ]) {
      expect(paths.has(p), p).toBe(true);
    }
    // Every relative link of every page points at a file of the mirror.
    for (const f of plan.files.filter((x) => x.contentType.startsWith('text/html'))) {
      const html = f.render().toString('utf8');
      for (const [, href] of html.matchAll(/(?:href|src|action)="([^"]+)"/g)) {
        if (/^(https?:|mailto:|tel:|#)/.test(href as string)) continue;
        const base = new URL(f.path, 'http://m/');
        const target = new URL(href as string, base).pathname.slice(1);
        const resolved = target === '' || target.endsWith('/') ? `${target}index.html` : target;
        expect(paths.has(resolved), `${f.path} links to ${href}`).toBe(true);
      }
    }
    // The live URL of a product gets a page sending buyers to its mirror page.
    const alias = text(plan, 'products/task-chair/index.html');
    expect(alias).toContain('http-equiv="refresh"');
    expect(alias).toContain(`../../${productPage('CH-100').replace('index.html', '')}`);
    expect(text(plan, 'sitemap.xml')).toContain(
      `https://mirror.northwind.example/${productPage('CH-100').replace('index.html', '')}`,
    );
  });

  test('escapes catalog text everywhere and keeps spreadsheets safe', () => {
    const hostile = product('X-1', '<img src=x onerror=alert(1)>', 'chairs', {
      attributes: [{ code: 'note', label: '<b>Note</b>', value: '"><script>alert(2)</script>', unit: null }],
    });
    const plan = planMirror(catalog([...PRODUCTS, hostile]), SETTINGS);
    const page = text(plan, productPage('X-1'));
    expect(page).not.toContain('<img src=x');
    expect(page).not.toContain('<script>alert');
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;');
    const csvPath = plan.files.find((f) => f.path.includes('c/desks/compare-1/comparison.csv'))?.path as string;
    expect(text(plan, csvPath)).toContain(`'=HYPERLINK`);
    // No third-party request: product images are not used, scripts and styles are the mirror's own.
    expect(page).not.toContain('cdn.northwind.example');
    expect(page).toMatch(/Content-Security-Policy" content="default-src &#39;none&#39;/);
  });

  test('a price change changes the keys of exactly what shows that price', () => {
    const before = planMirror(catalog(PRODUCTS), SETTINGS);
    const changed = PRODUCTS.map((p) => (p.sku === 'DK-220' ? { ...p, price: { amount: '999.00', currency: 'EUR' } } : p));
    const after = planMirror(catalog(changed), SETTINGS);
    const keys = new Map(before.files.map((f) => [f.path, f.key]));
    const differ = after.files.filter((f) => keys.get(f.path) !== f.key).map((f) => f.path);
    expect(differ).toEqual(
      expect.arrayContaining([
        productPage('DK-220'),
        specSheetPath('DK-220'),
        'c/desks/index.html',
        'c/furniture/index.html',
        'c/desks/compare-1/index.html',
      ]),
    );
    expect(differ.some((p) => p.startsWith('search/shard-'))).toBe(true);
    expect(differ).not.toContain(productPage('DK-330'));
    expect(differ).not.toContain(productPage('CH-100'));
    expect(differ).not.toContain('c/chairs/index.html');
    expect(differ).not.toContain('index.html');
    expect(text(after, productPage('DK-220'))).toContain('999.00 EUR');
  });
});

describe('mirror build and publish', () => {
  let dir: string;
  let s3: S3StandIn | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'keepwarm-mirror-'));
    await chmod(dir, 0o755);
    s3 = await startS3StandIn('mirror');
  });
  afterAll(async () => {
    await s3?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('builds incrementally and starts over after an interrupted build', async () => {
    const builder = new MirrorBuilder(join(dir, 'work-a'));
    const first = await builder.build(planMirror(catalog(PRODUCTS), SETTINGS), {
      build: 'b1',
      snapshotId: 's1',
      now: new Date(),
    });
    expect(first.report.full).toBe(true);
    expect(first.report.rendered).toBe(first.report.files);
    const again = await builder.build(planMirror(catalog(PRODUCTS), SETTINGS), {
      build: 'b2',
      snapshotId: 's1',
      now: new Date(),
    });
    expect(again.report.rendered).toBe(0);
    const fewer = PRODUCTS.filter((p) => p.sku !== 'CH-200');
    const third = await builder.build(planMirror(catalog(fewer), SETTINGS), { build: 'b3', snapshotId: 's2', now: new Date() });
    expect(third.report.removedPaths).toContain(productPage('CH-200'));
    await expect(stat(join(builder.siteDir, productPage('CH-200')))).rejects.toThrow();
    // Every manifest checksum is the file's.
    for (const [path, f] of Object.entries(third.manifest.files)) {
      const body = await readFile(join(builder.siteDir, path));
      expect(createHash('sha256').update(body).digest('hex'), path).toBe(f.sha256);
    }
    await writeFile(join(builder.dir, 'building'), 'b4'); // as a build killed half-way leaves it
    const after = await builder.build(planMirror(catalog(fewer), SETTINGS), { build: 'b5', snapshotId: 's2', now: new Date() });
    expect(after.report.full).toBe(true);
  });

  test('a folder target switches versions atomically, shares unchanged bundles and prunes old versions', async () => {
    const builder = new MirrorBuilder(join(dir, 'work-b'));
    const target = new MirrorFolderTarget({ name: 'local', path: join(dir, 'www', 'mirror'), keepVersions: 1 });
    const flags = { path: 'flags.json', body: Buffer.from('{"flags":[]}'), type: 'application/json' };
    const one = await builder.build(planMirror(catalog(PRODUCTS), SETTINGS), { build: 'b1', snapshotId: 's1', now: new Date() });
    const r1 = await target.publish({ siteDir: builder.siteDir, manifest: one.manifest, extras: [flags] });
    expect(r1.written).toBe(Object.keys(one.manifest.files).length + 1);
    expect(r1.verified).toBe(r1.written);
    expect((await lstat(target.path)).isSymbolicLink()).toBe(true);
    const chairsBefore = await readlink(join(target.path, 'c', 'chairs'));

    const changed = PRODUCTS.map((p) => (p.sku === 'DK-220' ? { ...p, price: { amount: '999.00', currency: 'EUR' } } : p));
    const two = await builder.build(planMirror(catalog(changed), SETTINGS), { build: 'b2', snapshotId: 's2', now: new Date() });
    const r2 = await target.publish({ siteDir: builder.siteDir, manifest: two.manifest, extras: [flags] });
    // Only the files the build rendered again are written (and read back); the rest are linked as they were.
    expect(r2.written).toBe(two.report.rendered + 1); // + flags.json
    expect(r2.reused).toBe(Object.keys(two.manifest.files).length - two.report.rendered);
    expect(r2.written).toBeLessThan(r1.written / 2);
    expect(await readFile(join(target.path, productPage('DK-220')), 'utf8')).toContain('999.00 EUR');
    expect(await readlink(join(target.path, 'c', 'chairs'))).toBe(chairsBefore); // the same shared directory
    expect(await readFile(join(target.path, 'flags.json'), 'utf8')).toBe('{"flags":[]}');

    for (let i = 0; i < 3; i++) await target.publish({ siteDir: builder.siteDir, manifest: two.manifest, extras: [flags] });
    const versions = (await readdir(join(dir, 'www', '.mirror.versions'), { withFileTypes: true })).filter((d) =>
      d.isDirectory(),
    );
    expect(versions.length).toBe(2); // the live one and one more
    // Between builds, flags.json is replaced in the live version alone.
    await target.replaceFile({ ...flags, body: Buffer.from('{"flags":[1]}') });
    expect(await readFile(join(target.path, 'flags.json'), 'utf8')).toBe('{"flags":[1]}');
  });

  test('a file that no longer matches its checksum is refused, and the live version stays', async () => {
    const builder = new MirrorBuilder(join(dir, 'work-c'));
    const target = new MirrorFolderTarget({ name: 'strict', path: join(dir, 'www2', 'mirror'), keepVersions: 2 });
    const built = await builder.build(planMirror(catalog(PRODUCTS), SETTINGS), {
      build: 'b1',
      snapshotId: 's1',
      now: new Date(),
    });
    await target.publish({ siteDir: builder.siteDir, manifest: built.manifest, extras: [] });
    const live = await readlink(target.path);
    const changed = PRODUCTS.map((p) => (p.sku === 'CH-100' ? { ...p, name: 'Task chair II' } : p));
    const next = await builder.build(planMirror(catalog(changed), SETTINGS), { build: 'b2', snapshotId: 's2', now: new Date() });
    await writeFile(join(builder.siteDir, productPage('CH-100')), 'tampered');
    await expect(target.publish({ siteDir: builder.siteDir, manifest: next.manifest, extras: [] })).rejects.toThrow(
      ChecksumMismatch,
    );
    expect(await readlink(target.path)).toBe(live);
    expect(await readFile(join(target.path, productPage('CH-100')), 'utf8')).toContain('Task chair');
  });

  test('an S3 target uploads only what changed, verifies each upload and deletes what is gone', async () => {
    if (!s3) throw new Error('no S3 stand-in');
    const builder = new MirrorBuilder(join(dir, 'work-d'));
    const target = new MirrorS3Target({
      name: 'bucket',
      bucket: s3.bucket,
      prefix: 'catalog',
      region: 'us-east-1',
      endpoint: s3.endpoint,
      forcePathStyle: true,
      ...S3RVER_CREDENTIALS,
    });
    try {
      const one = await builder.build(planMirror(catalog(PRODUCTS), SETTINGS), {
        build: 'b1',
        snapshotId: 's1',
        now: new Date(),
      });
      const r1 = await target.publish({ siteDir: builder.siteDir, manifest: one.manifest, extras: [] });
      expect(r1.written).toBe(Object.keys(one.manifest.files).length);
      expect(r1.verified).toBe(r1.written);
      const page = await s3.get(`catalog/${productPage('CH-100')}`);
      expect(page.body).toContain('Task chair');
      expect(page.contentType).toContain('text/html');

      const fewer = PRODUCTS.filter((p) => p.sku !== 'CH-200').map((p) =>
        p.sku === 'DK-220' ? { ...p, price: { amount: '5.00', currency: 'EUR' } } : p,
      );
      const two = await builder.build(planMirror(catalog(fewer), SETTINGS), { build: 'b2', snapshotId: 's2', now: new Date() });
      const r2 = await target.publish({ siteDir: builder.siteDir, manifest: two.manifest, extras: [] });
      expect(r2.written).toBe(two.report.rendered);
      expect(r2.deleted).toBe(two.report.removed);
      expect((await s3.get(`catalog/${productPage('DK-220')}`)).body).toContain('5.00 EUR');
      await expect(s3.get(`catalog/${productPage('CH-200')}`)).rejects.toThrow();
      const manifest = JSON.parse((await s3.get('catalog/manifest.json')).body) as { build: string };
      expect(manifest.build).toBe('b2');
    } finally {
      target.close();
    }
  });
});
