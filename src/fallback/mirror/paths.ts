/**
 * Where everything lives on the fallback mirror. Product URLs are stable for a SKU whatever the
 * catalog's size (emails and spec sheets link to them): `p/<shard>/<slug>/`, the shard being the
 * first two hex digits of the SKU's SHA-256. The shards are also the units a folder target shares
 * between published versions, so changing one product rewrites one small directory.
 */
import { createHash } from 'node:crypto';

export function skuHash(sku: string): string {
  return createHash('sha256').update(sku).digest('hex');
}

/** Lower-case letters, digits and single dashes; never empty. */
export function slugify(text: string): string {
  const slug = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80)
    .replace(/-+$/, '');
  return slug === '' ? 'item' : slug;
}

/** A SKU's slug: the SKU itself when it is already URL-safe, else its slug plus a short hash (so "A/B" and "A-B" differ). */
export function productSlug(sku: string): string {
  const slug = slugify(sku);
  return slug === sku ? slug : `${slug}-${skuHash(sku).slice(0, 6)}`;
}

/** Every page of a product and every card and link to it asks: remembered per SKU. */
const productDirs = new Map<string, string>();

export function productDir(sku: string): string {
  let dir = productDirs.get(sku);
  if (dir === undefined) {
    if (productDirs.size > 500_000) productDirs.clear();
    dir = `p/${skuHash(sku).slice(0, 2)}/${productSlug(sku)}`;
    productDirs.set(sku, dir);
  }
  return dir;
}

export const productPage = (sku: string) => `${productDir(sku)}/index.html`;
export const specSheetPath = (sku: string) => `${productDir(sku)}/spec-sheet.pdf`;

export function categoryDir(code: string): string {
  const slug = slugify(code);
  return `c/${slug === code ? slug : `${slug}-${skuHash(code).slice(0, 6)}`}`;
}

/** Page 1 is the category's index; later pages are numbered folders. */
export const categoryPage = (code: string, page: number) =>
  page <= 1 ? `${categoryDir(code)}/index.html` : `${categoryDir(code)}/${page}/index.html`;
export const comparisonBase = (code: string, part: number) => `${categoryDir(code)}/compare-${part}`;
export const packPath = (code: string, volume: number) => `${categoryDir(code)}/product-pack-${volume}.pdf`;

/**
 * The unit a folder target shares between versions: a product shard, a category, the search
 * index, the assets. Files at the top (home, order form, sitemap, flags) are their own unit.
 */
export function bundleOf(path: string): string | null {
  const first = path.indexOf('/');
  if (first < 0) return null;
  const top = path.slice(0, first);
  if (top === 'assets' || top === 'search') return top;
  if (top !== 'p' && top !== 'c') return null;
  const second = path.indexOf('/', first + 1);
  return second < 0 ? null : path.slice(0, second);
}

/** The link from one page to another file of the mirror, relative (the mirror may live under a prefix). */
let lastFrom = '';
let lastFromDirs: string[] = [];

export function relativeUrl(from: string, to: string): string {
  if (from !== lastFrom) {
    lastFrom = from;
    lastFromDirs = from.split('/').slice(0, -1);
  }
  const fromDirs = lastFromDirs;
  const toParts = to.split('/');
  let common = 0;
  while (common < fromDirs.length && common < toParts.length - 1 && fromDirs[common] === toParts[common]) common++;
  const up = fromDirs.length - common;
  let rest = toParts.slice(common).join('/');
  if (rest.endsWith('index.html')) rest = rest.slice(0, -'index.html'.length);
  const prefix = up === 0 ? (rest === '' ? './' : '') : '../'.repeat(up);
  return `${prefix}${rest}`;
}
