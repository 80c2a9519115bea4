import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { CatalogProduct, CatalogSnapshotFile } from '../product.js';

const BIN = fileURLToPath(new URL('../../../bin/keepwarm', import.meta.url));

function product(
  sku: string,
  name: string,
  brand: string | null,
  categories: string[],
  extra: Partial<CatalogProduct> = {},
): CatalogProduct {
  return {
    sku,
    name,
    description: '',
    brand,
    categories,
    group: null,
    price: null,
    availability: 'in_stock',
    gtin: null,
    mpn: null,
    images: [],
    url: null,
    attributes: [],
    updated_at: null,
    ...extra,
  };
}

const snapshot: CatalogSnapshotFile = {
  version: 1,
  id: 'snap-1',
  created_at: '2025-03-01T00:00:00.000Z',
  source: 'test',
  categories: [
    { code: 'tools', parent: null, label: 'Tools' },
    { code: 'drills', parent: 'tools', label: 'Drills' },
    { code: 'lights', parent: null, label: 'Lights' },
  ],
  products: [
    product('D-200', 'Cordless drill 18V', 'Makita', ['tools', 'drills']),
    product('D-100', 'Hammer drill', 'Bosch', ['drills']),
    product('L-1', 'Work light', 'Drillmaster', ['lights']),
    product('L-2', 'Lamp', 'Acme', ['lights'], { attributes: [{ code: 'use', label: 'Use', value: 'drill site', unit: null }] }),
    ...Array.from({ length: 120 }, (_, i) => product(`Z-${String(i).padStart(3, '0')}`, `Screw ${i}`, null, ['tools'])),
  ],
};

let proc: ChildProcess;
let base: string;
let startedMs: number;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kw-catalog-'));
  const file = join(dir, 'snapshot.json');
  writeFileSync(file, JSON.stringify(snapshot));
  const t0 = Date.now();
  proc = spawn(process.execPath, [BIN, 'catalog-api', '--snapshot', file, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  base = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout?.on('data', (d: Buffer) => {
      out += String(d);
      const m = /(http:\/\/\S+?)\/catalog\/v1\/products/.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    proc.once('exit', (code) => reject(new Error(`catalog-api exited with ${code}`)));
  });
  startedMs = Date.now() - t0;
}, 30_000);

afterAll(() => {
  proc?.kill('SIGTERM');
});

test('the standalone catalog API starts as its own process and answers with ETags, 304 and CORS', async () => {
  console.info(`catalog-api ready in ${startedMs} ms`);
  const res = await fetch(`${base}/catalog/v1/products?per_page=2`);
  expect(res.status).toBe(200);
  expect(res.headers.get('access-control-allow-origin')).toBe('*');
  expect(res.headers.get('cache-control')).toContain('max-age=');
  const body = (await res.json()) as { total: number; pages: number; products: CatalogProduct[] };
  expect(body.total).toBe(124);
  expect(body.products.map((p) => p.sku)).toEqual(['D-100', 'D-200']); // stable: by SKU
  const etag = res.headers.get('etag');
  expect(etag).toMatch(/^".+"$/);
  const again = await fetch(`${base}/catalog/v1/products?per_page=2`, { headers: { 'if-none-match': etag ?? '' } });
  expect(again.status).toBe(304);
  const page2 = await fetch(`${base}/catalog/v1/products?per_page=2&page=2`);
  expect(page2.headers.get('etag')).not.toBe(etag);
});

test('one product by SKU; an unknown SKU is a 404 naming it', async () => {
  const one = await fetch(`${base}/catalog/v1/products/D-100`);
  expect(((await one.json()) as { product: CatalogProduct }).product.name).toBe('Hammer drill');
  const missing = await fetch(`${base}/catalog/v1/products/NOPE-9`);
  expect(missing.status).toBe(404);
  expect(JSON.stringify(await missing.json())).toContain('NOPE-9');
});

test('category filter includes sub-categories; search ranks name over brand over attributes', async () => {
  const drills = (await (await fetch(`${base}/catalog/v1/products?category=drills`)).json()) as { products: CatalogProduct[] };
  expect(drills.products.map((p) => p.sku)).toEqual(['D-100', 'D-200']);
  const tools = (await (await fetch(`${base}/catalog/v1/products?category=tools&per_page=100`)).json()) as { total: number };
  expect(tools.total).toBe(122);
  const found = (await (await fetch(`${base}/catalog/v1/products?q=DRILL`)).json()) as { products: CatalogProduct[] };
  expect(found.products.map((p) => p.sku)).toEqual(['D-100', 'D-200', 'L-1', 'L-2']);
});

test('bad paging is a 400 naming the parameter', async () => {
  const res = await fetch(`${base}/catalog/v1/products?per_page=500`);
  expect(res.status).toBe(400);
  expect(JSON.stringify(await res.json())).toContain('per_page');
});
