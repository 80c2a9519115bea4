import type { CatalogCategory } from '../product.js';
import {
  type AdapterContext,
  type AdapterResult,
  applyPrice,
  blankProduct,
  cleanGtin,
  issue,
  type ParsedItem,
} from './common.js';
import { htmlToText, labelOf, parseDelimited, parsePrice } from './text.js';

/** Akeneo attributes with a home in CatalogProduct; every other value becomes a specification attribute. */
const CORE = new Set([
  'sku',
  'name',
  'description',
  'price',
  'brand',
  'manufacturer',
  'ean',
  'gtin',
  'upc',
  'mpn',
  'image',
  'picture',
]);
const PREFERRED_SCOPES = ['ecommerce', null];

interface AkeneoValue {
  data: unknown;
  locale: string | null;
  scope: string | null;
  linked_data?: { labels?: Record<string, string> };
}

function mostCommon(counts: Map<string, number>): string | null {
  let best: string | null = null;
  let n = 0;
  for (const [k, v] of counts) if (v > n) [best, n] = [k, v];
  return best;
}

/** One value of an attribute: the primary locale (or none), scope ecommerce, else none, else any. */
function pick(values: AkeneoValue[] | undefined, locale: string | null): AkeneoValue | undefined {
  if (!Array.isArray(values) || values.length === 0) return undefined;
  const inLocale = values.filter((v) => v.locale === null || v.locale === undefined || v.locale === locale);
  if (inLocale.length === 0) return undefined;
  for (const scope of PREFERRED_SCOPES) {
    const hit = inLocale.find((v) => (v.scope ?? null) === scope);
    if (hit) return hit;
  }
  return inLocale[0];
}

function valueText(v: AkeneoValue, locale: string | null): { value: string; unit: string | null } | null {
  const label = locale ? v.linked_data?.labels?.[locale] : undefined;
  if (label) return { value: label, unit: null };
  const d = v.data;
  if (d === null || d === undefined || d === '') return null;
  if (typeof d === 'string') return { value: htmlToText(d), unit: null };
  if (typeof d === 'number') return { value: String(d), unit: null };
  if (typeof d === 'boolean') return { value: d ? 'Yes' : 'No', unit: null };
  if (Array.isArray(d)) {
    const parts = d.map((x) =>
      typeof x === 'object' && x
        ? `${(x as { amount?: unknown }).amount ?? ''} ${(x as { currency?: unknown }).currency ?? ''}`.trim()
        : String(x),
    );
    return parts.length ? { value: parts.join(', '), unit: null } : null;
  }
  if (typeof d === 'object' && 'amount' in d) {
    const m = d as { amount: unknown; unit?: unknown };
    return { value: String(m.amount), unit: typeof m.unit === 'string' ? m.unit : null };
  }
  return { value: JSON.stringify(d), unit: null };
}

/** Akeneo REST pages (GET /api/rest/v1/products and products-uuid): `_embedded.items`, or a plain list of items. */
export function parseAkeneoJson(doc: unknown, ctx: AdapterContext): AdapterResult {
  const items: unknown[] = Array.isArray(doc)
    ? doc
    : ((doc as { _embedded?: { items?: unknown[] } })?._embedded?.items ?? (doc as { items?: unknown[] })?.items ?? []);
  let locale = ctx.locale;
  if (!locale) {
    const counts = new Map<string, number>();
    for (const it of items) {
      const values = (it as { values?: Record<string, AkeneoValue[]> }).values ?? {};
      for (const list of Object.values(values))
        for (const v of list ?? []) if (v.locale) counts.set(v.locale, (counts.get(v.locale) ?? 0) + 1);
    }
    locale = mostCommon(counts);
  }
  const out: ParsedItem[] = [];
  items.forEach((raw, index) => {
    const row = index + 1;
    const it = (raw ?? {}) as Record<string, unknown>;
    const values = (it.values ?? {}) as Record<string, AkeneoValue[]>;
    const skuValue = pick(values.sku, locale)?.data;
    const sku = String(it.identifier ?? (typeof skuValue === 'string' ? skuValue : '') ?? '').trim();
    const p = blankProduct(sku);
    const name = pick(values.name, locale);
    p.name = name && typeof name.data === 'string' ? htmlToText(name.data) : '';
    const description = pick(values.description, locale);
    p.description = description && typeof description.data === 'string' ? htmlToText(description.data) : '';
    const price = pick(values.price, locale)?.data;
    if (Array.isArray(price) && price.length > 0) {
      const list = price as Array<{ amount: unknown; currency: unknown }>;
      const chosen =
        list.find((x) => x.currency === ctx.currency) ?? list.find((x) => x.amount !== null && x.amount !== '') ?? list[0];
      if (chosen && chosen.amount !== null && chosen.amount !== undefined)
        applyPrice(ctx, p, row, 'values.price', parsePrice(`${chosen.amount} ${chosen.currency ?? ''}`.trim(), ctx.currency));
    }
    for (const key of ['brand', 'manufacturer']) {
      const v = pick(values[key], locale);
      const t = v ? valueText(v, locale) : null;
      if (t && !p.brand) p.brand = t.value;
    }
    for (const key of ['ean', 'gtin', 'upc']) {
      const v = pick(values[key], locale)?.data;
      if (v !== undefined && !p.gtin) p.gtin = cleanGtin(ctx, row, `values.${key}`, v);
    }
    const mpn = pick(values.mpn, locale)?.data;
    if (typeof mpn === 'string' && mpn.trim()) p.mpn = mpn.trim();
    p.categories = Array.isArray(it.categories) ? (it.categories as unknown[]).map(String) : [];
    p.group = typeof it.parent === 'string' && it.parent ? it.parent : null;
    p.updated_at = typeof it.updated === 'string' ? it.updated : null;
    for (const [code, list] of Object.entries(values)) {
      if (CORE.has(code)) continue;
      const v = pick(list, locale);
      const t = v ? valueText(v, locale) : null;
      if (t) p.attributes.push({ code, label: labelOf(code), value: t.value, unit: t.unit });
    }
    if (it.enabled === false) issue(ctx, 'warning', row, 'enabled', `product ${sku || '(no identifier)'} is disabled in the PIM`);
    out.push({ product: p, row });
  });
  return { items: out, categories: null };
}

interface Column {
  index: number;
  attribute: string;
  locale: string | null;
  scope: string | null;
  currency: string | null;
}

function parseHeader(name: string, index: number): Column {
  const [attribute, ...rest] = name.trim().split('-');
  const col: Column = { index, attribute: attribute ?? '', locale: null, scope: null, currency: null };
  for (const part of rest) {
    if (/^[a-z]{2,3}_[A-Z]{2}$/.test(part)) col.locale = part;
    else if (/^[A-Z]{3}$/.test(part)) col.currency = part;
    else col.scope = part;
  }
  return col;
}

/** Akeneo product CSV export: ';'-separated, columns `attribute[-locale][-scope]` and `price-EUR`. */
export function parseAkeneoCsv(text: string, ctx: AdapterContext): AdapterResult {
  const records = parseDelimited(text, ';');
  const header = records.shift();
  if (!header) return { items: [], categories: null };
  const columns = header.cells.map(parseHeader);
  let locale = ctx.locale;
  if (!locale) {
    const counts = new Map<string, number>();
    for (const c of columns) if (c.locale) counts.set(c.locale, (counts.get(c.locale) ?? 0) + 1);
    locale = counts.has('en_US') ? 'en_US' : mostCommon(counts);
  }
  // Per attribute, the best column: primary locale (or none), scope ecommerce, else none, else any.
  const rank = (c: Column) =>
    (c.locale === null || c.locale === locale ? 0 : 10) + (c.scope === 'ecommerce' ? 0 : c.scope === null ? 1 : 2);
  const byAttribute = new Map<string, Column[]>();
  for (const c of columns) {
    if (c.locale !== null && c.locale !== locale) continue;
    const list = byAttribute.get(c.attribute) ?? [];
    list.push(c);
    byAttribute.set(c.attribute, list);
  }
  for (const list of byAttribute.values()) list.sort((a, b) => rank(a) - rank(b));
  const out: ParsedItem[] = [];
  for (const rec of records) {
    const cell = (c: Column | undefined) => (c ? (rec.cells[c.index] ?? '').trim() : '');
    /** First non-empty value among the attribute's columns, best first. */
    const value = (attribute: string): { text: string; column: string } | null => {
      for (const c of byAttribute.get(attribute) ?? []) {
        const t = cell(c);
        if (t) return { text: t, column: header.cells[c.index] as string };
      }
      return null;
    };
    const p = blankProduct(value('sku')?.text ?? '');
    p.name = htmlToText(value('name')?.text);
    p.description = htmlToText(value('description')?.text);
    const prices = (byAttribute.get('price') ?? []).filter((c) => cell(c) !== '');
    const chosen = prices.find((c) => c.currency === ctx.currency) ?? prices[0];
    if (chosen)
      applyPrice(
        ctx,
        p,
        rec.row,
        header.cells[chosen.index] as string,
        parsePrice(cell(chosen), chosen.currency ?? ctx.currency),
      );
    p.categories = (value('categories')?.text ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    p.group = value('parent')?.text ?? value('groups')?.text.split(',')[0]?.trim() ?? null;
    p.brand = value('brand')?.text ?? value('manufacturer')?.text ?? null;
    for (const key of ['ean', 'gtin', 'upc']) {
      const v = value(key);
      if (v && !p.gtin) p.gtin = cleanGtin(ctx, rec.row, v.column, v.text);
    }
    p.mpn = value('mpn')?.text ?? null;
    const skip = new Set([...CORE, 'family', 'categories', 'groups', 'parent', 'enabled']);
    for (const [attribute] of byAttribute) {
      if (skip.has(attribute)) continue;
      const v = value(attribute);
      if (v) p.attributes.push({ code: attribute, label: labelOf(attribute), value: htmlToText(v.text), unit: null });
    }
    if (value('enabled')?.text === '0') issue(ctx, 'warning', rec.row, 'enabled', `product ${p.sku} is disabled in the PIM`);
    out.push({ product: p, row: rec.row });
  }
  return { items: out, categories: null };
}

/** Akeneo categories CSV: code;parent;label-<locale>… */
export function parseAkeneoCategories(text: string, ctx: AdapterContext): AdapterResult {
  const records = parseDelimited(text, ';');
  const header = records.shift();
  if (!header) return { items: [], categories: [] };
  const cols = header.cells.map((h) => h.trim());
  const code = cols.indexOf('code');
  const parent = cols.indexOf('parent');
  const labels = cols.map((h, i) => ({ h, i })).filter((c) => c.h.startsWith('label-'));
  const primary = labels.find((l) => l.h === `label-${ctx.locale ?? 'en_US'}`) ?? labels[0];
  const categories: CatalogCategory[] = [];
  for (const rec of records) {
    const c = (rec.cells[code] ?? '').trim();
    if (!c) {
      issue(ctx, 'error', rec.row, 'code', 'category without a code');
      continue;
    }
    const label = (primary ? rec.cells[primary.i] : '')?.trim() || labels.map((l) => rec.cells[l.i]?.trim()).find(Boolean) || c;
    categories.push({ code: c, parent: (parent >= 0 ? rec.cells[parent]?.trim() : '') || null, label });
  }
  return { items: [], categories };
}
