import { createHash } from 'node:crypto';
import type { CatalogCategory, CatalogProduct, CatalogSnapshotFile } from '../product.js';

/**
 * The read-only catalog in memory: products by SKU, by category (a category matches its
 * descendants too), and a small token search ranked name > brand > anything else. Pure: built
 * once per snapshot, then every query is a lookup or one pass over the products.
 */
export const MAX_PER_PAGE = 100;

export interface CatalogQuery {
  page: number;
  perPage: number;
  category?: string | undefined;
  q?: string | undefined;
}

export interface CatalogPage {
  snapshot: { id: string; created_at: string };
  page: number;
  per_page: number;
  total: number;
  pages: number;
  products: CatalogProduct[];
}

interface Entry {
  product: CatalogProduct;
  name: string[];
  brand: string[];
  other: string[];
  /** The product's categories and all their ancestors. */
  categories: Set<string>;
}

const WEIGHT = { name: 4, brand: 2, other: 1 } as const;

/** Lower-cased word tokens (letters and digits of any script). */
export function tokenize(text: string): string[] {
  return (
    text
      .toLowerCase()
      .normalize('NFKC')
      .match(/[\p{L}\p{N}]+/gu) ?? []
  );
}

function bySku(a: Entry, b: Entry): number {
  return a.product.sku < b.product.sku ? -1 : a.product.sku > b.product.sku ? 1 : 0;
}

function ancestors(code: string, parents: Map<string, string | null>): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  let current: string | null | undefined = code;
  while (current != null && !seen.has(current)) {
    seen.add(current);
    out.push(current);
    current = parents.get(current);
  }
  return out;
}

export class CatalogIndex {
  readonly snapshot: { id: string; created_at: string };
  readonly categories: CatalogCategory[];
  /** Changes whenever the snapshot's content changes: the base of every response's ETag. */
  readonly revision: string;
  readonly #entries: Entry[];
  readonly #bySku = new Map<string, CatalogProduct>();

  constructor(file: CatalogSnapshotFile) {
    this.snapshot = { id: file.id, created_at: file.created_at };
    this.categories = file.categories;
    this.revision = createHash('sha256').update(JSON.stringify(file)).digest('base64url').slice(0, 22);
    const parents = new Map(file.categories.map((c) => [c.code, c.parent]));
    this.#entries = file.products
      .map((product) => ({
        product,
        name: tokenize(product.name),
        brand: tokenize(product.brand ?? ''),
        other: tokenize(
          [
            product.sku,
            product.gtin ?? '',
            product.mpn ?? '',
            ...product.attributes.map((a) => `${a.label} ${a.value} ${a.unit ?? ''}`),
          ].join(' '),
        ),
        categories: new Set(product.categories.flatMap((c) => ancestors(c, parents))),
      }))
      .sort(bySku);
    for (const e of this.#entries) this.#bySku.set(e.product.sku, e.product);
  }

  get size(): number {
    return this.#entries.length;
  }

  product(sku: string): CatalogProduct | undefined {
    return this.#bySku.get(sku);
  }

  /** Stable order: by SKU, or by relevance then SKU when searching. */
  list(query: CatalogQuery): CatalogPage {
    const perPage = Math.min(Math.max(1, query.perPage), MAX_PER_PAGE);
    const page = Math.max(1, query.page);
    let entries = this.#entries;
    if (query.category) {
      const code = query.category;
      entries = entries.filter((e) => e.categories.has(code));
    }
    const terms = query.q ? tokenize(query.q) : [];
    if (terms.length > 0) {
      const scored: Array<{ e: Entry; score: number }> = [];
      for (const e of entries) {
        const score = searchScore(e, terms);
        if (score > 0) scored.push({ e, score });
      }
      scored.sort((a, b) => b.score - a.score || bySku(a.e, b.e));
      entries = scored.map((s) => s.e);
    }
    const total = entries.length;
    return {
      snapshot: this.snapshot,
      page,
      per_page: perPage,
      total,
      pages: Math.ceil(total / perPage),
      products: entries.slice((page - 1) * perPage, page * perPage).map((e) => e.product),
    };
  }
}

/** Every term must match (a word, or the start of one) somewhere; 0 when one does not. */
function searchScore(e: Entry, terms: string[]): number {
  let score = 0;
  for (const term of terms) {
    const best = Math.max(
      fieldScore(e.name, term) * WEIGHT.name,
      fieldScore(e.brand, term) * WEIGHT.brand,
      fieldScore(e.other, term) * WEIGHT.other,
    );
    if (best === 0) return 0;
    score += best;
  }
  return score;
}

/** 2 for a whole-word match, 1 for a prefix, 0 for none. */
function fieldScore(tokens: string[], term: string): number {
  let best = 0;
  for (const t of tokens) {
    if (t === term) return 2;
    if (best === 0 && t.startsWith(term)) best = 1;
  }
  return best;
}
