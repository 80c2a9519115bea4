import type { Services } from '../app/services.js';

const FAMILIES = [
  { category: 'shelving', brand: 'Acme', base: 'Modular shelving', unit: 'cm', price: 129 },
  { category: 'lighting', brand: 'Lumo', base: 'Track lighting', unit: 'W', price: 89 },
  { category: 'tables', brand: 'Acme', base: 'Display table', unit: 'cm', price: 349 },
  { category: 'cabinets', brand: 'Vitra Works', base: 'Glass cabinet', unit: 'cm', price: 799 },
] as const;

/** The demo's catalog: 24 products in 4 categories, imported once as the first snapshot. */
export async function seedDemoCatalog(services: Services): Promise<number> {
  if ((await services.catalog.latestId()) !== null) return 0;
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
  return report.valid;
}
