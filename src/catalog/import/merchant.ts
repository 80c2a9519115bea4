import { XMLParser } from 'fast-xml-parser';
import type { CatalogCategory } from '../product.js';
import {
  type AdapterContext,
  type AdapterResult,
  applyPrice,
  blankProduct,
  categoryPath,
  cleanCode,
  cleanGtin,
  type ParsedItem,
} from './common.js';
import { availabilityOf, htmlToText, isHttpUrl, labelOf, parseDelimited, parsePrice, slug } from './text.js';

/** Merchant attributes shown as specifications (in this order) when present. */
const SPEC_FIELDS = [
  'color',
  'size',
  'material',
  'pattern',
  'gender',
  'age_group',
  'condition',
  'size_system',
  'shipping_weight',
];

type Fields = Record<string, string[]>;

/** One Merchant item (from XML or TSV) with its fields by attribute name (without the g: prefix). */
function toProduct(f: Fields, row: number, ctx: AdapterContext, categories: Map<string, CatalogCategory>): ParsedItem {
  const one = (k: string) => (f[k]?.find((v) => v.trim() !== '') ?? '').trim();
  const p = blankProduct(one('id'));
  p.name = htmlToText(one('title'));
  p.description = htmlToText(one('description'));
  p.brand = one('brand') || null;
  applyPrice(ctx, p, row, 'price', parsePrice(one('price'), ctx.currency));
  p.availability = availabilityOf(one('availability'));
  p.gtin = cleanGtin(ctx, row, 'gtin', one('gtin'));
  p.mpn = cleanCode(ctx, row, 'mpn', one('mpn'));
  p.group = one('item_group_id') || null;
  const link = one('link');
  p.url = isHttpUrl(link) ? link : null;
  p.images = [...(f.image_link ?? []), ...(f.additional_image_link ?? []).flatMap((v) => v.split(','))]
    .map((s) => s.trim())
    .filter(isHttpUrl);
  const type = one('product_type') || one('google_product_category');
  if (type && !/^\d+$/.test(type)) p.categories = categoryPath(type, slug, categories);
  for (const code of SPEC_FIELDS) {
    const v = one(code);
    if (v) p.attributes.push({ code, label: labelOf(code), value: v, unit: null });
  }
  return { product: p, row };
}

function textOf(node: unknown): string[] {
  if (node === null || node === undefined) return [];
  if (Array.isArray(node)) return node.flatMap(textOf);
  if (typeof node === 'object') {
    const t = (node as Record<string, unknown>)['#text'];
    return t === undefined ? [] : [String(t)];
  }
  return [String(node)];
}

/** Google Merchant RSS 2.0 (channel/item) or Atom (feed/entry) feed with the g: namespace. */
export function parseMerchantXml(text: string, ctx: AdapterContext): AdapterResult {
  const parser = new XMLParser({
    ignoreAttributes: true,
    removeNSPrefix: true,
    parseTagValue: false,
    trimValues: true,
    processEntities: true,
    isArray: (name) => name === 'item' || name === 'entry',
  });
  const doc = parser.parse(text) as { rss?: { channel?: { item?: unknown[] } }; feed?: { entry?: unknown[] } };
  const items: unknown[] = doc?.rss?.channel?.item ?? doc?.feed?.entry ?? [];
  const categories = new Map<string, CatalogCategory>();
  const out = items.map((raw, i) => {
    const fields: Fields = {};
    for (const [k, v] of Object.entries((raw ?? {}) as Record<string, unknown>)) fields[k] = textOf(v);
    // Atom entries carry the link as an attribute-only element, parsed empty; g:link wins anyway.
    return toProduct(fields, i + 1, ctx, categories);
  });
  return { items: out, categories: [...categories.values()] };
}

/** Google Merchant tab-separated feed: header of attribute names (with or without g:, spaces or underscores). */
export function parseMerchantTsv(text: string, ctx: AdapterContext): AdapterResult {
  const records = parseDelimited(text, '\t');
  const header = records.shift();
  if (!header) return { items: [], categories: null };
  const names = header.cells.map((h) => h.trim().toLowerCase().replace(/^g:/, '').replace(/\s+/g, '_'));
  const categories = new Map<string, CatalogCategory>();
  const out = records.map((rec) => {
    const fields: Fields = {};
    names.forEach((n, i) => {
      const list = fields[n] ?? [];
      list.push(rec.cells[i] ?? '');
      fields[n] = list;
    });
    return toProduct(fields, rec.row, ctx, categories);
  });
  return { items: out, categories: [...categories.values()] };
}
