/**
 * The mirror as a list of files, each with a key: a hash of exactly what its content depends on
 * (the product, the cards of a category page, the site's navigation and settings, the templates'
 * code). Same key, same bytes: an incremental build renders only files whose key changed. Pure:
 * a snapshot and settings in, planned files out; rendering happens when `render` is called.
 */
import { createHash, hash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import MiniSearch from 'minisearch';
import type { CatalogCategory, CatalogProduct, CatalogSnapshotFile } from '../../catalog/product.js';
import { contentHash } from '../../catalog/snapshots.js';
import { escapeHtml } from '../../console/html.js';
import { buildComparison, renderComparisonCsv, renderComparisonPdf } from '../pdf/comparison.js';
import { renderProductPack, renderSpecSheet, type SpecSheetOptions } from '../pdf/spec-sheet.js';
import { MIRROR_ASSETS, type MirrorAsset } from './assets.js';
import {
  AliasPage,
  CategoryPage,
  ComparisonPage,
  type Crumb,
  HomePage,
  NotFoundPage,
  OrderPage,
  type ProductCard,
  ProductPage,
  SearchPage,
  type SiteContext,
} from './pages.js';
import { bundleOf, categoryPage, comparisonBase, packPath, productDir, productPage, skuHash, specSheetPath } from './paths.js';

export interface MirrorSettings {
  title: string;
  /** The mirror's public address (sitemap, PDF footers); null: no sitemap. */
  siteUrl: string | null;
  orderEndpoint: string;
  chatEndpoint: string | null;
  statusUrl: string | null;
  bannerUrls: readonly string[];
  contact: { email: string | null; phone: string | null };
  /** Spec sheets, packs and comparison PDFs (off: HTML and CSV only, much faster). */
  pdfs: boolean;
}

export interface PlannedFile {
  path: string;
  /** What the content depends on: equal keys, equal bytes. */
  key: string;
  contentType: string;
  /** The directory a folder target shares between versions (null: a file of its own). */
  bundle: string | null;
  render(): Buffer;
}

export interface MirrorPlan {
  files: PlannedFile[];
  /** Products whose live URL could not get an alias page (path taken or unsafe), with why. */
  warnings: string[];
  products: number;
  categories: number;
}

export const PER_PAGE = 48;
export const COMPARE_SIZE = 6;
export const PACK_SIZE = 25;
/** One search index file up to this many products; beyond, 16 shards loaded in parallel. */
const SINGLE_SHARD_LIMIT = 2000;

const TYPES = {
  html: 'text/html; charset=utf-8',
  pdf: 'application/pdf',
  csv: 'text/csv; charset=utf-8',
  json: 'application/json; charset=utf-8',
  xml: 'application/xml; charset=utf-8',
  text: 'text/plain; charset=utf-8',
} as const;

/** Top-level names the mirror uses itself: a product's live URL may not take them. */
const RESERVED = new Set([
  'p',
  'c',
  'search',
  'order',
  'assets',
  'index.html',
  '404.html',
  'sitemap.xml',
  'robots.txt',
  'flags.json',
  'manifest.json',
]);

/** The templates' and renderers' code: a new release of them changes every key. */
const CODE_HASH = (() => {
  const hash = createHash('sha256');
  for (const file of [
    './pages.js',
    './plan.js',
    './paths.js',
    '../pdf/spec-sheet.js',
    '../pdf/comparison.js',
    '../pdf/document.js',
    '../pdf/format.js',
  ]) {
    for (const candidate of [file, file.replace(/\.js$/, '.ts'), file.replace(/\.js$/, '.tsx')]) {
      try {
        hash.update(readFileSync(fileURLToPath(new URL(candidate, import.meta.url))));
        break;
      } catch {
        // the other extension
      }
    }
  }
  return hash.digest('hex').slice(0, 16);
})();

/** The MiniSearch options the build and the browser script share. */
export const SEARCH_OPTIONS = {
  idField: 'id',
  fields: ['name', 'sku', 'brand', 'codes', 'categories', 'specs'],
  storeFields: ['name', 'sku', 'brand', 'price', 'url'],
} as const;

const key = (...parts: string[]) => hash('sha256', parts.join('\u0000')).slice(0, 32);
const utf8 = (text: string) => Buffer.from(text, 'utf8');

interface CategoryNode {
  category: CatalogCategory;
  children: CategoryNode[];
  /** Products in it or below, by name. */
  all: CatalogProduct[];
  /** Products whose most specific category it is (comparisons and packs). */
  direct: CatalogProduct[];
}

function categoryTree(snapshot: CatalogSnapshotFile): { roots: CategoryNode[]; nodes: Map<string, CategoryNode> } {
  const nodes = new Map<string, CategoryNode>();
  const node = (category: CatalogCategory) => {
    let n = nodes.get(category.code);
    if (!n) {
      n = { category, children: [], all: [], direct: [] };
      nodes.set(category.code, n);
    }
    return n;
  };
  for (const c of snapshot.categories) node(c);
  for (const p of snapshot.products) {
    const codes = p.categories.length > 0 ? p.categories : ['uncategorised'];
    for (const code of codes)
      if (!nodes.has(code)) node({ code, parent: null, label: code === 'uncategorised' ? 'Other products' : code });
  }
  const roots: CategoryNode[] = [];
  for (const n of nodes.values()) {
    const parent = n.category.parent ? nodes.get(n.category.parent) : undefined;
    if (parent && parent !== n) parent.children.push(n);
    else roots.push(n);
  }
  const ancestors = (code: string): string[] => {
    const out: string[] = [];
    let current = nodes.get(code);
    const seen = new Set<string>();
    while (current && !seen.has(current.category.code)) {
      seen.add(current.category.code);
      out.push(current.category.code);
      current = current.category.parent ? nodes.get(current.category.parent) : undefined;
    }
    return out;
  };
  const byName = [...snapshot.products].sort((a, b) => a.name.localeCompare(b.name, 'en') || (a.sku < b.sku ? -1 : 1));
  for (const p of byName) {
    const codes = p.categories.length > 0 ? p.categories : ['uncategorised'];
    const member = new Set(codes.flatMap(ancestors));
    for (const code of member) nodes.get(code)?.all.push(p);
    nodes.get(codes[codes.length - 1] as string)?.direct.push(p);
  }
  const byLabel = (a: CategoryNode, b: CategoryNode) => a.category.label.localeCompare(b.category.label, 'en');
  roots.sort(byLabel);
  for (const n of nodes.values()) n.children.sort(byLabel);
  return { roots: roots.filter((r) => r.all.length > 0), nodes };
}

function crumbsOf(nodes: Map<string, CategoryNode>, code: string | undefined): Crumb[] {
  const out: Crumb[] = [];
  const seen = new Set<string>();
  let current = code ? nodes.get(code) : undefined;
  while (current && !seen.has(current.category.code)) {
    seen.add(current.category.code);
    out.unshift({ label: current.category.label, path: categoryPage(current.category.code, 1) });
    current = current.category.parent ? nodes.get(current.category.parent) : undefined;
  }
  return [{ label: 'Home', path: 'index.html' }, ...out];
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Where a product's live showroom URL would live in the mirror, or why it cannot. */
function aliasPath(url: string): { path: string } | { problem: string } {
  const parsed = URL.parse(url);
  if (!parsed) return { problem: 'not a URL' };
  let path: string;
  try {
    path = decodeURIComponent(parsed.pathname);
  } catch {
    return { problem: 'undecodable path' };
  }
  const segments = path.split('/').filter((s) => s !== '');
  if (segments.length === 0) return { problem: 'the home page' };
  if (segments.some((s) => s === '.' || s === '..' || /[\p{Cc}\\]/u.test(s))) return { problem: 'unsafe path' };
  if (RESERVED.has(segments[0] as string)) return { problem: `/${segments[0]} is the mirror's own` };
  const last = segments[segments.length - 1] as string;
  return { path: /\.html?$/i.test(last) ? segments.join('/') : `${segments.join('/')}/index.html` };
}

function cardOf(p: CatalogProduct): ProductCard {
  return { sku: p.sku, name: p.name, brand: p.brand, price: p.price, availability: p.availability, path: productPage(p.sku) };
}

const cardKey = (p: CatalogProduct) =>
  `${p.sku}\u0001${p.name}\u0001${p.brand ?? ''}\u0001${p.price ? `${p.price.amount} ${p.price.currency}` : ''}\u0001${p.availability ?? ''}`;

function csp(settings: MirrorSettings): string {
  const origins = new Set<string>();
  const origin = (u: string | null) => {
    const parsed = u ? URL.parse(u) : null;
    if (parsed && (parsed.protocol === 'http:' || parsed.protocol === 'https:')) origins.add(parsed.origin);
    return parsed?.origin ?? null;
  };
  const form = origin(settings.orderEndpoint);
  origin(settings.chatEndpoint);
  for (const u of settings.bannerUrls) origin(u);
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self'${[...origins].map((o) => ` ${o}`).join('')}`,
    `form-action 'self'${form ? ` ${form}` : ''}`,
    "base-uri 'none'",
  ].join('; ');
}

/** A product's content hash, as the catalog stores it with each snapshot (catalog_products.hash). */
export const productHash = (p: CatalogProduct): string => contentHash(p);

/**
 * `hashes` (the catalog stores one per product) spare hashing every product again: a one-product
 * change then plans in a fraction of the time.
 */
export function planMirror(
  snapshot: CatalogSnapshotFile,
  settings: MirrorSettings,
  options: { assets?: readonly MirrorAsset[]; hashes?: ReadonlyMap<string, string> } = {},
): MirrorPlan {
  const assets = options.assets ?? MIRROR_ASSETS;
  const { roots, nodes } = categoryTree(snapshot);
  const asset = (name: MirrorAsset['name']) => assets.find((a) => a.name === name)?.path ?? `assets/${name}`;
  const asOf = `${snapshot.created_at.slice(0, 16).replace('T', ' ')} UTC`;
  const site: SiteContext = {
    title: settings.title,
    siteUrl: settings.siteUrl,
    orderEndpoint: settings.orderEndpoint,
    chatEndpoint: settings.chatEndpoint,
    statusUrl: settings.statusUrl,
    bannerUrls: settings.bannerUrls,
    contact: settings.contact,
    asOf,
    assets: {
      css: asset('mirror.css'),
      js: asset('mirror.js'),
      search: asset('minisearch.js'),
      banner: asset('keepwarm-banner.js'),
    },
    nav: roots.map((r) => ({ code: r.category.code, label: r.category.label, path: categoryPage(r.category.code, 1) })),
    csp: csp(settings),
  };
  const siteKey = key(CODE_HASH, JSON.stringify(site), JSON.stringify(settings.siteUrl), String(settings.pdfs));
  const contact = [settings.contact.email, settings.contact.phone].filter(Boolean).join(' · ');
  const pdfOptions: SpecSheetOptions = {
    fallbackUrl: settings.siteUrl ?? settings.title,
    contact: contact ? `Questions or orders: ${contact}` : 'Orders: use the purchase order form on the backup catalog',
    generatedAt: new Date(snapshot.created_at),
    productUrl: (p) =>
      settings.siteUrl ? `${settings.siteUrl.replace(/\/$/, '')}/${productDir(p.sku)}/` : (settings.siteUrl ?? settings.title),
  };
  const files: PlannedFile[] = [];
  const warnings: string[] = [];
  const add = (path: string, k: string, contentType: string, render: () => Buffer | string, bundle = bundleOf(path)) =>
    files.push({
      path,
      key: k,
      contentType,
      bundle,
      render: () => {
        const out = render();
        return typeof out === 'string' ? utf8(out) : out;
      },
    });

  for (const a of assets) add(a.path, key(a.hash), a.type, () => a.body);

  // Products: page, spec sheet, alias at the live showroom's address.
  const hashes = new Map<string, string>();
  const comparisonOf = new Map<string, { label: string; path: string }>();
  for (const n of nodes.values()) {
    chunks(n.direct, COMPARE_SIZE).forEach((group, i) => {
      if (n.direct.length < 2) return;
      const label = `Compare ${n.category.label}${n.direct.length > COMPARE_SIZE ? ` (${i * COMPARE_SIZE + 1}–${i * COMPARE_SIZE + group.length})` : ''}`;
      for (const p of group) comparisonOf.set(p.sku, { label, path: `${comparisonBase(n.category.code, i + 1)}/index.html` });
    });
  }
  const aliases = new Map<string, string>();
  /** Breadcrumbs per leaf category (shared by its products). */
  const trails = new Map<string, { list: Crumb[]; json: string }>();
  for (const p of snapshot.products) {
    const hash = options.hashes?.get(p.sku) ?? productHash(p);
    hashes.set(p.sku, hash);
    const leaf = p.categories[p.categories.length - 1] ?? 'uncategorised';
    let trail = trails.get(leaf);
    if (!trail) {
      const list = crumbsOf(nodes, leaf);
      trail = { list, json: JSON.stringify(list) };
      trails.set(leaf, trail);
    }
    const crumbs = trail.list;
    const comparison = comparisonOf.get(p.sku) ?? null;
    const pageKey = key(siteKey, hash, trail.json, comparison ? `${comparison.label}\u0001${comparison.path}` : '');
    add(productPage(p.sku), pageKey, TYPES.html, () =>
      ProductPage({ site, path: productPage(p.sku), product: p, crumbs, specSheet: specSheetPath(p.sku), comparison }),
    );
    if (settings.pdfs) add(specSheetPath(p.sku), key(siteKey, 'sheet', hash), TYPES.pdf, () => renderSpecSheet(p, pdfOptions));
    if (p.url) {
      const alias = aliasPath(p.url);
      if ('problem' in alias) warnings.push(`${p.sku}: no page at its live URL ${p.url} (${alias.problem})`);
      else if (aliases.has(alias.path)) warnings.push(`${p.sku}: its live URL ${p.url} is also ${aliases.get(alias.path)}'s`);
      else {
        aliases.set(alias.path, p.sku);
        const target = productPage(p.sku);
        // Aliases are grouped by their first folder: one shared directory per version.
        const first = alias.path.includes('/') ? (alias.path.split('/')[0] as string) : null;
        add(
          alias.path,
          key(CODE_HASH, target, p.name),
          TYPES.html,
          () => AliasPage({ path: alias.path, target, name: p.name }),
          first,
        );
      }
    }
  }

  // Categories: paged lists, comparisons (HTML, CSV, PDF) and product packs of its own products.
  for (const n of nodes.values()) {
    if (n.all.length === 0) continue;
    const code = n.category.code;
    const crumbs = crumbsOf(nodes, n.category.parent ?? undefined);
    const ownCrumbs = crumbsOf(nodes, code);
    const subcategories = n.children
      .filter((c) => c.all.length > 0)
      .map((c) => ({ label: c.category.label, path: categoryPage(c.category.code, 1), count: c.all.length }));
    const comparisons: Array<{ label: string; path: string }> = [];
    const packs: Array<{ label: string; path: string }> = [];
    const compareGroups = n.direct.length >= 2 ? chunks(n.direct, COMPARE_SIZE) : [];
    compareGroups.forEach((group, i) => {
      const base = comparisonBase(code, i + 1);
      const title = `Compare ${n.category.label}${compareGroups.length > 1 ? ` (${i * COMPARE_SIZE + 1}–${i * COMPARE_SIZE + group.length})` : ''}`;
      comparisons.push({ label: title, path: `${base}/index.html` });
      const groupKey = key(siteKey, code, n.category.label, ...group.map((p) => hashes.get(p.sku) as string));
      const matrix = () => buildComparison(n.category, group);
      add(`${base}/index.html`, groupKey, TYPES.html, () =>
        ComparisonPage({
          site,
          path: `${base}/index.html`,
          title,
          crumbs: ownCrumbs,
          matrix: matrix(),
          csv: `${base}/comparison.csv`,
          pdf: `${base}/comparison.pdf`,
        }),
      );
      add(`${base}/comparison.csv`, groupKey, TYPES.csv, () => renderComparisonCsv(matrix()));
      if (settings.pdfs) add(`${base}/comparison.pdf`, groupKey, TYPES.pdf, () => renderComparisonPdf(matrix(), pdfOptions).pdf);
    });
    if (settings.pdfs) {
      const volumes = chunks(n.direct, PACK_SIZE);
      volumes.forEach((group, i) => {
        const path = packPath(code, i + 1);
        packs.push({
          label: `Product pack: ${n.category.label}${volumes.length > 1 ? `, part ${i + 1} of ${volumes.length}` : ''} (PDF, ${group.length} products)`,
          path,
        });
        add(
          path,
          key(siteKey, 'pack', code, n.category.label, ...group.map((p) => hashes.get(p.sku) as string)),
          TYPES.pdf,
          () => renderProductPack(n.category, group, pdfOptions).pdf,
        );
      });
    }
    const pages = chunks(n.all, PER_PAGE);
    const pagePaths = pages.map((_, i) => categoryPage(code, i + 1));
    const shared = key(
      siteKey,
      code,
      n.category.label,
      JSON.stringify(crumbs),
      JSON.stringify(subcategories),
      JSON.stringify(comparisons),
      JSON.stringify(packs),
      String(pages.length),
    );
    pages.forEach((group, i) => {
      const path = pagePaths[i] as string;
      add(path, key(shared, String(i), ...group.map(cardKey)), TYPES.html, () =>
        CategoryPage({
          site,
          path,
          category: n.category,
          crumbs,
          subcategories,
          cards: group.map(cardOf),
          total: n.all.length,
          page: i + 1,
          pages: pagePaths,
          comparisons,
          packs,
        }),
      );
    });
  }

  // Search: one index file, or 16 shards by SKU hash (a change rebuilds one shard).
  const shardCount = snapshot.products.length > SINGLE_SHARD_LIMIT ? 16 : 1;
  const shards: CatalogProduct[][] = Array.from({ length: shardCount }, () => []);
  for (const p of snapshot.products) shards[shardCount === 1 ? 0 : Number.parseInt(skuHash(p.sku)[0] as string, 16)]?.push(p);
  const labels = new Map([...nodes.values()].map((n) => [n.category.code, n.category.label]));
  const shardPaths: string[] = [];
  shards.forEach((group, i) => {
    const shardKey = key(
      CODE_HASH,
      JSON.stringify(SEARCH_OPTIONS),
      ...group.map((p) => hashes.get(p.sku) as string),
      ...group.map((p) => p.categories.map((c) => labels.get(c) ?? c).join(',')),
    );
    const path = `search/shard-${i}.${shardKey.slice(0, 12)}.json`;
    shardPaths.push(path);
    add(path, shardKey, TYPES.json, () => {
      const index = new MiniSearch({
        ...SEARCH_OPTIONS,
        fields: [...SEARCH_OPTIONS.fields],
        storeFields: [...SEARCH_OPTIONS.storeFields],
      });
      index.addAll(
        group.map((p) => ({
          id: p.sku,
          name: p.name,
          sku: p.sku,
          brand: p.brand ?? '',
          codes: [p.gtin, p.mpn].filter(Boolean).join(' '),
          categories: p.categories.map((c) => labels.get(c) ?? c).join(' '),
          specs: p.attributes
            .map((a) => a.value)
            .join(' ')
            .slice(0, 300),
          price: p.price ? `${p.price.amount} ${p.price.currency}` : '',
          url: `${productDir(p.sku)}/`,
        })),
      );
      return JSON.stringify(index);
    });
  });
  const searchIndex = 'search/index.json';
  add(searchIndex, key(...shardPaths), TYPES.json, () =>
    JSON.stringify({
      version: 1,
      products: snapshot.products.length,
      options: SEARCH_OPTIONS,
      shards: shardPaths.map((p) => p.slice('search/'.length)),
    }),
  );

  // The pages at the top.
  const homeCategories = roots.map((r) => ({
    label: r.category.label,
    path: categoryPage(r.category.code, 1),
    count: r.all.length,
    children: r.children
      .filter((c) => c.all.length > 0)
      .map((c) => ({ label: c.category.label, path: categoryPage(c.category.code, 1), count: c.all.length })),
  }));
  add('index.html', key(siteKey, JSON.stringify(homeCategories), String(snapshot.products.length)), TYPES.html, () =>
    HomePage({ site, products: snapshot.products.length, categories: homeCategories }),
  );
  add('search/index.html', key(siteKey, searchIndex), TYPES.html, () => SearchPage({ site, index: searchIndex }));
  add('order/index.html', key(siteKey), TYPES.html, () => OrderPage({ site }));
  add('404.html', key(siteKey), TYPES.html, () => NotFoundPage({ site }));

  if (settings.siteUrl) {
    const base = settings.siteUrl.endsWith('/') ? settings.siteUrl : `${settings.siteUrl}/`;
    const pages = files
      .filter((f) => f.contentType === TYPES.html && f.path !== '404.html' && !aliases.has(f.path))
      .map((f) => f.path.replace(/index\.html$/, ''));
    pages.sort();
    add('sitemap.xml', key(base, ...pages), TYPES.xml, () =>
      [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
        ...pages.map((p) => `<url><loc>${escapeHtml(base + p)}</loc></url>`),
        '</urlset>',
        '',
      ].join('\n'),
    );
    add('robots.txt', key(base), TYPES.text, () => `User-agent: *\nAllow: /\nSitemap: ${base}sitemap.xml\n`);
  }
  return {
    files,
    warnings,
    products: snapshot.products.length,
    categories: [...nodes.values()].filter((n) => n.all.length > 0).length,
  };
}
