import type { CatalogCategory, CatalogIssue, CatalogProduct } from '../product.js';
import { parseAkeneoCategories, parseAkeneoCsv, parseAkeneoJson } from './akeneo.js';
import type { AdapterContext, AdapterResult } from './common.js';
import { parseGenericCsv } from './generic.js';
import { parseMerchantTsv, parseMerchantXml } from './merchant.js';
import { parseShopifyCsv, parseShopifyJson } from './shopify.js';
import { parseDelimited, sniffDelimiter } from './text.js';

export const CATALOG_FORMATS = [
  'akeneo-json',
  'akeneo-csv',
  'akeneo-categories',
  'merchant-xml',
  'merchant-tsv',
  'shopify-csv',
  'shopify-json',
  'generic-csv',
] as const;
export type CatalogFormat = (typeof CATALOG_FORMATS)[number];

export function isCatalogFormat(s: string): s is CatalogFormat {
  return (CATALOG_FORMATS as readonly string[]).includes(s);
}

export class CatalogFormatError extends Error {}

/** The format of a catalog file, from its content. */
export function detectFormat(text: string): CatalogFormat {
  const t = text.replace(/^\uFEFF/, '').trimStart();
  if (t.startsWith('<')) return 'merchant-xml';
  if (t.startsWith('{') || t.startsWith('[')) {
    let doc: unknown;
    try {
      doc = JSON.parse(t);
    } catch (err) {
      throw new CatalogFormatError(`not valid JSON: ${(err as Error).message}`);
    }
    const d = doc as Record<string, unknown>;
    if (Array.isArray(d?.products) || (d?.product && typeof d.product === 'object')) return 'shopify-json';
    const items = Array.isArray(doc) ? doc : ((d?._embedded as { items?: unknown[] })?.items ?? (d?.items as unknown[]));
    if (Array.isArray(items)) return 'akeneo-json';
    throw new CatalogFormatError('JSON: expected an Akeneo page (_embedded.items) or Shopify products ({products: [...]})');
  }
  const delimiter = sniffDelimiter(t);
  const header = (parseDelimited(t.split(/\r?\n/, 1)[0] ?? '', delimiter)[0]?.cells ?? []).map((h) => h.trim());
  const has = (name: string) => header.includes(name);
  if (has('Handle') && (has('Variant SKU') || has('Title'))) return 'shopify-csv';
  if (delimiter === ';' && header[0] === 'code' && has('parent') && header.some((h) => h.startsWith('label-')))
    return 'akeneo-categories';
  if (
    delimiter === ';' &&
    has('sku') &&
    (has('family') || has('categories') || header.some((h) => /-[a-z]{2}_[A-Z]{2}(-|$)/.test(h)))
  )
    return 'akeneo-csv';
  const lower = header.map((h) => h.toLowerCase().replace(/^g:/, ''));
  if (delimiter === '\t' && lower.includes('id') && lower.includes('title')) return 'merchant-tsv';
  return 'generic-csv';
}

export interface ParseOptions {
  file: string;
  format?: CatalogFormat | null;
  locale?: string | null;
  currency?: string | null;
  mapping?: Record<string, string> | null;
}

export interface ParsedCatalog {
  format: CatalogFormat;
  /** Products without errors, in file order. */
  products: CatalogProduct[];
  /** null: the file has no category list. */
  categories: CatalogCategory[] | null;
  issues: CatalogIssue[];
  /** Products read, valid or not. */
  read: number;
  /** Products refused because of an error. */
  refused: number;
}

/**
 * Read a catalog file: detect (or take) its format, run the adapter, check every product
 * (sku, name, price) and report each problem with file, row and field. A product with an error
 * is left out of `products`; whether the import may proceed is the caller's rule.
 */
export function parseCatalog(text: string, options: ParseOptions): ParsedCatalog {
  const format = options.format ?? detectFormat(text);
  const ctx: AdapterContext = {
    file: options.file,
    locale: options.locale ?? null,
    currency: options.currency ?? null,
    mapping: options.mapping ?? null,
    issues: [],
  };
  let result: AdapterResult;
  const json = () => {
    try {
      return JSON.parse(text.replace(/^\uFEFF/, '')) as unknown;
    } catch (err) {
      throw new CatalogFormatError(`not valid JSON: ${(err as Error).message}`);
    }
  };
  switch (format) {
    case 'akeneo-json':
      result = parseAkeneoJson(json(), ctx);
      break;
    case 'akeneo-csv':
      result = parseAkeneoCsv(text, ctx);
      break;
    case 'akeneo-categories':
      result = parseAkeneoCategories(text, ctx);
      break;
    case 'merchant-xml':
      try {
        result = parseMerchantXml(text, ctx);
      } catch (err) {
        throw new CatalogFormatError(`not valid XML: ${(err as Error).message}`);
      }
      break;
    case 'merchant-tsv':
      result = parseMerchantTsv(text, ctx);
      break;
    case 'shopify-csv':
      result = parseShopifyCsv(text, ctx);
      break;
    case 'shopify-json':
      result = parseShopifyJson(json(), ctx);
      break;
    case 'generic-csv':
      result = parseGenericCsv(text, ctx);
      break;
  }
  const seen = new Map<string, number | null>();
  for (const { product, row } of result.items) {
    const err = (field: string, message: string) => ctx.issues.push({ level: 'error', file: ctx.file, row, field, message });
    if (!product.sku) err('sku', 'missing SKU (identifier)');
    else if (seen.has(product.sku) && !ctx.issues.some((i) => i.row === row && i.level === 'error'))
      err('sku', `SKU ${product.sku} appears twice (first at ${seen.get(product.sku) ?? '?'})`);
    if (!product.name) err('name', `product ${product.sku || '(no SKU)'} has no name`);
    if (product.sku && !seen.has(product.sku)) seen.set(product.sku, row);
  }
  const refusedRows = new Set(ctx.issues.filter((i) => i.level === 'error').map((i) => i.row));
  const products: CatalogProduct[] = [];
  let refused = 0;
  const kept = new Set<string>();
  for (const { product, row } of result.items) {
    if (refusedRows.has(row) || kept.has(product.sku)) refused++;
    else {
      products.push(product);
      kept.add(product.sku);
    }
  }
  const issues = ctx.issues
    .map((x, i) => ({ x, i }))
    .sort((a, b) => (a.x.row ?? 0) - (b.x.row ?? 0) || a.i - b.i)
    .map((e) => e.x);
  return { format, products, categories: result.categories, issues, read: result.items.length, refused };
}
