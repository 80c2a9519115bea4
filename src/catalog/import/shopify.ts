import type { CatalogCategory, CatalogProduct } from '../product.js';
import {
  type AdapterContext,
  type AdapterResult,
  applyPrice,
  blankProduct,
  categoryPath,
  cleanCode,
  cleanGtin,
  issue,
  type ParsedItem,
} from './common.js';
import { htmlToText, isHttpUrl, parseDelimited, parsePrice, slug } from './text.js';

function availability(tracker: string, qty: string, policy: string): CatalogProduct['availability'] {
  if (!tracker.trim()) return 'in_stock';
  if (Number(qty) > 0) return 'in_stock';
  return policy.trim().toLowerCase() === 'continue' ? 'backorder' : 'out_of_stock';
}

/**
 * Shopify product CSV: one row per variant (rows of one product share its Handle; only the first
 * carries Title, Body, Vendor…), plus image-only rows. Each variant becomes a product of the
 * handle's group. Numbers a spreadsheet mangled (3.65275E+11) in barcode, SKU or MPN are reported
 * and not imported.
 */
export function parseShopifyCsv(text: string, ctx: AdapterContext): AdapterResult {
  const records = parseDelimited(text, ',');
  const header = records.shift();
  if (!header) return { items: [], categories: null };
  const col = new Map(header.cells.map((h, i) => [h.trim(), i]));
  const categories = new Map<string, CatalogCategory>();
  const out: ParsedItem[] = [];
  let current: { handle: string; first: (name: string) => string; variants: ParsedItem[] } | null = null;
  const seen = new Set<string>();
  for (const rec of records) {
    const get = (name: string) => {
      const i = col.get(name);
      return i === undefined ? '' : (rec.cells[i] ?? '').trim();
    };
    const handle = get('Handle');
    if (!handle) {
      issue(ctx, 'error', rec.row, 'Handle', 'row without a Handle');
      continue;
    }
    if (!current || current.handle !== handle) {
      const firstCells = rec.cells;
      current = {
        handle,
        first: (name) => {
          const i = col.get(name);
          return i === undefined ? '' : (firstCells[i] ?? '').trim();
        },
        variants: [],
      };
    }
    const product = current;
    const options = [1, 2, 3]
      .map((n) => ({ name: product.first(`Option${n} Name`), value: get(`Option${n} Value`) }))
      .filter((o) => o.value !== '');
    const image = get('Image Src');
    const isVariant = get('Variant SKU') !== '' || get('Variant Price') !== '' || options.length > 0;
    if (!isVariant) {
      // An image-only row: the picture belongs to every variant of the handle.
      if (isHttpUrl(image)) for (const v of product.variants) if (!v.product.images.includes(image)) v.product.images.push(image);
      continue;
    }
    const sku = cleanCode(ctx, rec.row, 'Variant SKU', get('Variant SKU'));
    const optionKey = options.map((o) => slug(o.value)).join('-');
    const p = blankProduct(sku ?? (optionKey ? `${handle}-${optionKey}` : handle));
    const title = product.first('Title');
    const isDefault = options.length === 1 && options[0]?.value === 'Default Title';
    p.name = title && options.length > 0 && !isDefault ? `${title} (${options.map((o) => o.value).join(' / ')})` : title;
    p.description = htmlToText(product.first('Body (HTML)'));
    p.brand = product.first('Vendor') || null;
    p.group = handle;
    // Shopify's CSV carries no currency: the store's, given as the import's currency, else USD.
    applyPrice(ctx, p, rec.row, 'Variant Price', parsePrice(get('Variant Price'), ctx.currency ?? 'USD'));
    p.availability = availability(
      get('Variant Inventory Tracker'),
      get('Variant Inventory Qty'),
      get('Variant Inventory Policy'),
    );
    p.gtin = cleanGtin(ctx, rec.row, 'Variant Barcode', get('Variant Barcode'));
    p.mpn = cleanCode(ctx, rec.row, 'Google Shopping / MPN', get('Google Shopping / MPN'));
    const category = product.first('Product Category') || product.first('Type');
    if (category) p.categories = categoryPath(category, slug, categories);
    for (const url of [get('Variant Image'), image]) if (isHttpUrl(url) && !p.images.includes(url)) p.images.push(url);
    for (const o of options)
      if (!isDefault)
        p.attributes.push({ code: slug(o.name || 'option'), label: o.name || 'Option', value: o.value, unit: null });
    const grams = get('Variant Grams');
    if (grams && Number(grams) > 0) p.attributes.push({ code: 'weight', label: 'Weight', value: grams, unit: 'g' });
    if (seen.has(p.sku)) issue(ctx, 'error', rec.row, 'Variant SKU', `SKU ${p.sku} appears twice`);
    seen.add(p.sku);
    const item = { product: p, row: rec.row };
    product.variants.push(item);
    out.push(item);
  }
  return { items: out, categories: [...categories.values()] };
}

interface ShopifyJsonProduct {
  id?: number | string;
  title?: string;
  handle?: string;
  body_html?: string | null;
  vendor?: string | null;
  product_type?: string | null;
  updated_at?: string | null;
  options?: Array<{ name?: string; position?: number }>;
  variants?: Array<Record<string, unknown>>;
  images?: Array<{ src?: string; id?: number | string; variant_ids?: Array<number | string> }>;
}

/** Shopify products.json (`{products: [...]}`, or one `{product}`): each variant becomes a product. */
export function parseShopifyJson(doc: unknown, ctx: AdapterContext): AdapterResult {
  const d = doc as { products?: ShopifyJsonProduct[]; product?: ShopifyJsonProduct };
  const products = d.products ?? (d.product ? [d.product] : []);
  const categories = new Map<string, CatalogCategory>();
  const out: ParsedItem[] = [];
  products.forEach((sp, index) => {
    const row = index + 1;
    const handle = String(sp.handle ?? sp.id ?? '');
    const variants = sp.variants?.length ? sp.variants : [{}];
    const optionNames = (sp.options ?? []).map((o) => o.name ?? 'Option');
    for (const v of variants) {
      const options = [1, 2, 3]
        .map((n, i) => ({ name: optionNames[i] ?? `Option ${n}`, value: v[`option${n}`] }))
        .filter(
          (o): o is { name: string; value: string } =>
            typeof o.value === 'string' && o.value !== '' && o.value !== 'Default Title',
        );
      const sku = cleanCode(ctx, row, 'variants.sku', v.sku);
      const p = blankProduct(sku ?? (v.id !== undefined ? `${handle}-${v.id}` : handle));
      p.name = sp.title && options.length ? `${sp.title} (${options.map((o) => o.value).join(' / ')})` : (sp.title ?? '');
      p.description = htmlToText(sp.body_html ?? '');
      p.brand = sp.vendor || null;
      p.group = handle || null;
      applyPrice(ctx, p, row, 'variants.price', parsePrice(v.price as string | undefined, ctx.currency ?? 'USD'));
      if (typeof v.available === 'boolean') p.availability = v.available ? 'in_stock' : 'out_of_stock';
      p.gtin = cleanGtin(ctx, row, 'variants.barcode', v.barcode);
      if (sp.product_type) p.categories = categoryPath(sp.product_type, slug, categories);
      const images = (sp.images ?? []).filter((im) => !im.variant_ids?.length || im.variant_ids.includes(v.id as number));
      p.images = images.map((im) => im.src ?? '').filter(isHttpUrl);
      for (const o of options) p.attributes.push({ code: slug(o.name), label: o.name, value: o.value, unit: null });
      if (typeof v.grams === 'number' && v.grams > 0)
        p.attributes.push({ code: 'weight', label: 'Weight', value: String(v.grams), unit: 'g' });
      p.updated_at = (v.updated_at as string | undefined) ?? sp.updated_at ?? null;
      out.push({ product: p, row });
    }
  });
  return { items: out, categories: [...categories.values()] };
}
