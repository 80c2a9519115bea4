import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Services } from '../app/services.js';

/** The shared real-world catalog captures beside the repository, when they are there. */
export const SHARED_CATALOG_FIXTURES = fileURLToPath(new URL('../../../shared/fixtures/catalog', import.meta.url));
/** The Akeneo (icecat demo) exports: products first, then the category tree (which keeps the products). */
const FIXTURE_FILES = ['akeneo_icecat_products_subset.csv', 'akeneo_icecat_categories.csv'] as const;

const FAMILIES = [
  { category: 'shelving', brand: 'Acme', base: 'Modular shelving', unit: 'cm', price: 129 },
  { category: 'lighting', brand: 'Lumo', base: 'Track lighting', unit: 'W', price: 89 },
  { category: 'tables', brand: 'Acme', base: 'Display table', unit: 'cm', price: 349 },
  { category: 'cabinets', brand: 'Vitra Works', base: 'Glass cabinet', unit: 'cm', price: 799 },
] as const;

export interface DemoCatalogResult {
  /** Products imported (0 when the data folder already had a catalog). */
  products: number;
  source: 'fixtures' | 'generated' | 'existing';
}

/**
 * The demo's catalog, imported once: the Akeneo icecat products and categories from the shared
 * fixtures when the folder is there (`fixturesDir`, null to skip), otherwise 24 generated products
 * in 4 categories.
 */
export async function seedDemoCatalog(
  services: Services,
  options: { fixturesDir?: string | null } = {},
): Promise<DemoCatalogResult> {
  if ((await services.catalog.latestId()) !== null) return { products: 0, source: 'existing' };
  const dir = options.fixturesDir === undefined ? SHARED_CATALOG_FIXTURES : options.fixturesDir;
  if (dir !== null && FIXTURE_FILES.every((f) => existsSync(join(dir, f)))) {
    let products = 0;
    for (const file of FIXTURE_FILES) {
      const report = await services.catalog.import(await readFile(join(dir, file), 'utf8'), { file, actor: 'demo seed' });
      if (report.errors > 0) throw new Error(`demo catalog ${file} did not import: ${JSON.stringify(report.issues.slice(0, 3))}`);
      products = Math.max(products, report.valid);
    }
    return { products, source: 'fixtures' };
  }
  const header = 'sku,name,brand,category,price,currency,description';
  const rows = FAMILIES.flatMap((f, fi) =>
    Array.from({ length: 6 }, (_, i) => {
      const size = (i + 1) * 20;
      return [
        `${f.category.slice(0, 3).toUpperCase()}-${100 + fi * 10 + i}`,
        `${f.base} ${f.unit === 'W' ? `${size} W` : `${size * 5} ${f.unit}`}`,
        f.brand,
        f.category,
        (f.price + i * 15).toFixed(2),
        'EUR',
        `${f.base} for B2B showrooms (size ${i + 1} of 6).`,
      ].join(',');
    }),
  );
  const mapping = {
    sku: 'sku',
    name: 'name',
    brand: 'brand',
    category: 'category',
    price: 'price',
    currency: 'currency',
    description: 'description',
  };
  const report = await services.catalog.import([header, ...rows].join('\n'), {
    file: 'demo-catalog.csv',
    format: 'generic-csv',
    mapping,
    actor: 'demo seed',
  });
  if (report.errors > 0) throw new Error(`demo catalog did not import: ${JSON.stringify(report.issues.slice(0, 3))}`);
  return { products: report.valid, source: 'generated' };
}
