/** Generated catalog products for the spec-pdf benchmark: deterministic, varied, some accented text. */
import type { CatalogProduct } from '../../src/catalog/product.js';
import type { SpecSheetOptions } from '../../src/fallback/pdf/spec-sheet.js';

const KINDS = ['Task chair', 'Standing desk', 'Monitor arm', 'Acoustic panel', 'Pedestal', 'Conference table'];
const BRANDS = ['Sitwell', 'Hövik', 'Ergonomía', 'Deskline', 'Nordlys'];
const FINISHES = ['black', 'white oak', 'anthracite', 'birch', 'café au lait', 'graphite'];
const SENTENCES = [
  'Built for daily use in busy offices and tested to EN 1335.',
  'The frame is powder-coated steel with a ten-year warranty.',
  'Assembly takes about fifteen minutes with the supplied tools.',
  'Parts are replaceable, and spares stay available for seven years.',
  'Ships flat-packed on a pallet; delivery within five working days.',
  'Certified low emissions and made with 40% recycled material.',
];

export function generatedProduct(i: number): CatalogProduct {
  const kind = KINDS[i % KINDS.length] as string;
  const attributeCount = 8 + (i % 23);
  return {
    sku: `BN-${String(i).padStart(6, '0')}`,
    name: `${BRANDS[i % BRANDS.length]} ${kind} ${100 + (i % 900)} ${FINISHES[i % FINISHES.length]}`,
    description: Array.from({ length: 3 + (i % 5) }, (_, k) => SENTENCES[(i + k) % SENTENCES.length]).join(' '),
    brand: BRANDS[i % BRANDS.length] as string,
    categories: ['furniture', kind.toLowerCase().replace(/ /g, '-')],
    group: null,
    price: { amount: `${(99 + (i % 1900)).toFixed(2)}`, currency: 'EUR' },
    availability: i % 7 === 0 ? 'backorder' : 'in_stock',
    gtin: String(4006381000000 + i),
    mpn: `MP-${i}`,
    images: [],
    url: null,
    attributes: Array.from({ length: attributeCount }, (_, k) => ({
      code: `attr_${k}`,
      label: `Specification ${k + 1}`,
      value: k % 3 === 0 ? (FINISHES[(i + k) % FINISHES.length] as string) : String(((i * 7 + k * 13) % 1000) / 10),
      unit: k % 3 === 1 ? 'mm' : k % 3 === 2 ? 'kg' : null,
    })),
    updated_at: null,
  };
}

export const BENCH_SHEET_OPTIONS: SpecSheetOptions = {
  fallbackUrl: 'https://fallback.example.com',
  contact: 'Orders and questions: sales@example.com · +49 30 1234567',
  generatedAt: new Date('2026-03-04T09:05:00Z'),
};
