import type { CatalogCategory, CatalogIssue, CatalogProduct } from '../product.js';
import { gtinCheckDigitOk, isExcelMangled, type PriceParse } from './text.js';

/** One product as an adapter read it, with where it came from (row or item, 1-based). */
export interface ParsedItem {
  product: CatalogProduct;
  row: number | null;
}

export interface AdapterResult {
  items: ParsedItem[];
  /** null: the file carries no category list. */
  categories: CatalogCategory[] | null;
}

export interface AdapterContext {
  file: string;
  /** The catalog's primary locale (e.g. en_US); null: the most common one in the file. */
  locale: string | null;
  /** Currency for prices written without one; also the preferred one when a product has several. */
  currency: string | null;
  /** Generic CSV: source column → product field. */
  mapping: Record<string, string> | null;
  issues: CatalogIssue[];
}

export function issue(
  ctx: AdapterContext,
  level: CatalogIssue['level'],
  row: number | null,
  field: string | null,
  message: string,
): void {
  ctx.issues.push({ level, file: ctx.file, row, field, message });
}

export function blankProduct(sku: string): CatalogProduct {
  return {
    sku,
    name: '',
    description: '',
    brand: null,
    categories: [],
    group: null,
    price: null,
    availability: null,
    gtin: null,
    mpn: null,
    images: [],
    url: null,
    attributes: [],
    updated_at: null,
  };
}

/** Apply a parsed price: an unreadable one is an error on that field (the product is refused). */
export function applyPrice(ctx: AdapterContext, p: CatalogProduct, row: number | null, field: string, parsed: PriceParse): void {
  if (parsed && 'error' in parsed) issue(ctx, 'error', row, field, parsed.error);
  else if (parsed) p.price = parsed;
}

/**
 * A GTIN from the source: a spreadsheet-mangled value (3.65275E+11) or one that is not a valid
 * GTIN is reported and dropped, never kept as truth.
 */
export function cleanGtin(ctx: AdapterContext, row: number | null, field: string, raw: unknown): string | null {
  if (raw === null || raw === undefined) return null;
  const value = String(raw).trim();
  if (value === '') return null;
  if (isExcelMangled(value)) {
    issue(
      ctx,
      'warning',
      row,
      field,
      `${JSON.stringify(value)} was mangled by a spreadsheet (scientific notation): GTIN not imported`,
    );
    return null;
  }
  const digits = value.replace(/[\s-]/g, '');
  if (!gtinCheckDigitOk(digits)) {
    issue(
      ctx,
      'warning',
      row,
      field,
      `${JSON.stringify(value)} is not a valid GTIN (8, 12, 13 or 14 digits with a check digit): not imported`,
    );
    return null;
  }
  return digits;
}

/** An identifier column (SKU, MPN): a mangled one is reported; the caller decides what to use instead. */
export function cleanCode(ctx: AdapterContext, row: number | null, field: string, raw: unknown): string | null {
  if (raw === null || raw === undefined) return null;
  const value = String(raw).trim();
  if (value === '') return null;
  if (isExcelMangled(value)) {
    issue(
      ctx,
      'warning',
      row,
      field,
      `${JSON.stringify(value)} was mangled by a spreadsheet (scientific notation): not imported`,
    );
    return null;
  }
  return value;
}

/** Categories from a path such as "Apparel & Accessories > Clothing > T-Shirts": codes, root first. */
export function categoryPath(path: string, slugOf: (label: string) => string, into: Map<string, CatalogCategory>): string[] {
  const parts = path
    .split('>')
    .map((s) => s.trim())
    .filter(Boolean);
  const codes: string[] = [];
  let parent: string | null = null;
  for (const label of parts) {
    const code: string = parent ? `${parent}__${slugOf(label)}` : slugOf(label);
    if (!into.has(code)) into.set(code, { code, parent, label });
    codes.push(code);
    parent = code;
  }
  return codes;
}
