/**
 * The catalog the mirror benchmarks build: BENCH_PRODUCTS (10,000) generated products (the spec-pdf
 * generator: 8 to 30 attributes, a few sentences of description) in a category tree of 7 top-level
 * categories with 5 to 7 sub-categories each (49 in all), every product in one sub-category and
 * its parent. Deterministic; sub-categories get different numbers of products, like a real shop.
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { CatalogCategory, CatalogProduct, CatalogSnapshotFile } from '../../src/catalog/product.js';
import type { MirrorSettings } from '../../src/fallback/mirror/plan.js';
import { generatedProduct } from './spec-pdf-products.js';

const TREE: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['Seating', ['Task chair', 'Executive chair', 'Stool', 'Lounge chair', 'Visitor chair', 'Bench']],
  ['Desks', ['Standing desk', 'Desk frame', 'Desktop', 'Corner desk', 'Bench desk']],
  ['Tables', ['Conference table', 'Meeting table', 'Cafe table', 'Folding table', 'Side table', 'Training table']],
  ['Storage', ['Pedestal', 'Cabinet', 'Locker', 'Shelf', 'Drawer unit', 'Wardrobe', 'Archive rack']],
  ['Acoustics', ['Acoustic panel', 'Desk screen', 'Phone booth', 'Ceiling baffle', 'Room divider']],
  ['Lighting', ['Desk lamp', 'Floor lamp', 'Pendant', 'Track light', 'Wall light', 'Light strip']],
  ['Accessories', ['Monitor arm', 'Cable tray', 'Footrest', 'Laptop stand', 'Whiteboard', 'Coat stand', 'Planter']],
];

const code = (label: string) => label.toLowerCase().replace(/[^a-z0-9]+/g, '-');

export const MIRROR_CATEGORIES: readonly CatalogCategory[] = TREE.flatMap(([root, leaves]) => [
  { code: code(root), parent: null, label: root },
  ...leaves.map((leaf) => ({ code: code(leaf), parent: code(root), label: `${leaf}s` })),
]);

const LEAVES = TREE.flatMap(([root, leaves]) => leaves.map((leaf) => ({ root: code(root), leaf, code: code(leaf) })));
/** Uneven sizes: leaf k gets weight 1 + (k * 5) % 7, so some sub-categories have 7 times the products of others. */
const WEIGHTED = LEAVES.flatMap((l, k) => Array.from({ length: 1 + ((k * 5) % 7) }, () => l));

const BRANDS = ['Sitwell', 'Hövik', 'Ergonomía', 'Deskline', 'Nordlys'];
const FINISHES = ['black', 'white oak', 'anthracite', 'birch', 'café au lait', 'graphite'];

/** Product i of the catalog: generatedProduct(i), named after and filed in its sub-category. */
export function mirrorProduct(i: number): CatalogProduct {
  const base = generatedProduct(i);
  const place = WEIGHTED[(i * 31) % WEIGHTED.length] as (typeof LEAVES)[number];
  return {
    ...base,
    name: `${BRANDS[i % BRANDS.length]} ${place.leaf} ${100 + (i % 900)} ${FINISHES[i % FINISHES.length]}`,
    categories: [place.root, place.code],
  };
}

export function mirrorSnapshot(products: number, id = 'bench-snapshot-1'): CatalogSnapshotFile {
  return {
    version: 1,
    id,
    created_at: '2026-03-04T09:05:00.000Z',
    source: 'bench (generated)',
    categories: [...MIRROR_CATEGORIES],
    products: Array.from({ length: products }, (_, i) => mirrorProduct(i)),
  };
}

export function mirrorSettings(pdfs: boolean): MirrorSettings {
  return {
    title: 'Bench Furniture: backup catalog',
    siteUrl: 'https://fallback.example.com/',
    orderEndpoint: 'https://keepwarm.example.com/fallback/v1/orders',
    chatEndpoint: 'https://keepwarm.example.com/api/v1/chat/messages',
    statusUrl: 'https://keepwarm.example.com/status',
    bannerUrls: ['https://keepwarm.example.com/status/banner.json'],
    contact: { email: 'sales@example.com', phone: '+49 30 1234567' },
    pdfs,
  };
}

/** Files and bytes under a folder (symlinks not followed). */
export async function folderSize(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  const walk = async (d: string): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) await walk(p);
      else if (entry.isFile()) {
        files++;
        bytes += (await lstat(p)).size;
      }
    }
  };
  await walk(dir);
  return { files, bytes };
}
