import type { CatalogCategory } from '../product.js';
import {
  type AdapterContext,
  type AdapterResult,
  applyPrice,
  blankProduct,
  categoryPath,
  cleanCode,
  cleanGtin,
  issue,
} from './common.js';
import { availabilityOf, htmlToText, isHttpUrl, labelOf, parseDelimited, parsePrice, slug, sniffDelimiter } from './text.js';

/** Product fields a generic column can map to. */
export const GENERIC_FIELDS = [
  'sku',
  'name',
  'description',
  'brand',
  'price',
  'currency',
  'availability',
  'gtin',
  'mpn',
  'group',
  'category',
  'image',
  'url',
  'updated_at',
] as const;
type Field = (typeof GENERIC_FIELDS)[number];

/** Column names understood without a mapping. */
const SYNONYMS: Record<string, Field> = {
  sku: 'sku',
  id: 'sku',
  identifier: 'sku',
  name: 'name',
  title: 'name',
  description: 'description',
  brand: 'brand',
  vendor: 'brand',
  price: 'price',
  currency: 'currency',
  availability: 'availability',
  gtin: 'gtin',
  ean: 'gtin',
  barcode: 'gtin',
  mpn: 'mpn',
  group: 'group',
  category: 'category',
  categories: 'category',
  image: 'image',
  image_url: 'image',
  url: 'url',
  link: 'url',
  updated_at: 'updated_at',
};

/**
 * Any CSV (',', ';' or tab) with a header. `mapping` names the field of a column
 * ({"Art.-Nr.": "sku"}); unmapped columns with a known name map themselves; the rest become
 * specification attributes. A mapping to an unknown field is an error naming the column.
 */
export function parseGenericCsv(text: string, ctx: AdapterContext): AdapterResult {
  const records = parseDelimited(text, sniffDelimiter(text));
  const header = records.shift();
  if (!header) return { items: [], categories: null };
  const fields: Array<Field | null> = header.cells.map((h) => {
    const mapped = ctx.mapping?.[h.trim()];
    if (mapped !== undefined) {
      if (mapped === '' || mapped === 'attribute') return null;
      if ((GENERIC_FIELDS as readonly string[]).includes(mapped)) return mapped as Field;
      issue(ctx, 'error', 1, h, `mapping: unknown field ${JSON.stringify(mapped)} (one of ${GENERIC_FIELDS.join(', ')})`);
      return null;
    }
    return (
      SYNONYMS[
        h
          .trim()
          .toLowerCase()
          .replace(/[\s-]+/g, '_')
      ] ?? null
    );
  });
  const categories = new Map<string, CatalogCategory>();
  const items = records.map((rec) => {
    const get = (f: Field) => {
      const i = fields.indexOf(f);
      return i < 0 ? '' : (rec.cells[i] ?? '').trim();
    };
    const p = blankProduct(cleanCode(ctx, rec.row, header.cells[fields.indexOf('sku')] ?? 'sku', get('sku')) ?? '');
    p.name = htmlToText(get('name'));
    p.description = htmlToText(get('description'));
    p.brand = get('brand') || null;
    applyPrice(
      ctx,
      p,
      rec.row,
      header.cells[fields.indexOf('price')] ?? 'price',
      parsePrice(get('price'), get('currency') || ctx.currency),
    );
    p.availability = availabilityOf(get('availability'));
    p.gtin = cleanGtin(ctx, rec.row, header.cells[fields.indexOf('gtin')] ?? 'gtin', get('gtin'));
    p.mpn = cleanCode(ctx, rec.row, header.cells[fields.indexOf('mpn')] ?? 'mpn', get('mpn'));
    p.group = get('group') || null;
    const category = get('category');
    if (category)
      p.categories = category.includes('>')
        ? categoryPath(category, slug, categories)
        : category
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean);
    p.images = get('image')
      .split(/[\s,|]+/)
      .filter(isHttpUrl);
    p.url = isHttpUrl(get('url')) ? get('url') : null;
    p.updated_at = get('updated_at') || null;
    header.cells.forEach((h, i) => {
      const v = (rec.cells[i] ?? '').trim();
      if (fields[i] === null && v !== '')
        p.attributes.push({ code: slug(h), label: labelOf(h.trim()), value: htmlToText(v), unit: null });
    });
    return { product: p, row: rec.row };
  });
  return { items, categories: [...categories.values()] };
}
