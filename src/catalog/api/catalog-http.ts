import { createHash } from 'node:crypto';
import { z } from 'zod';
import { parseInput } from '../../app/validation.js';
import { AppError, notFound } from '../../core/errors.js';
import { etagMatches } from '../../core/etag.js';
import type { CatalogSnapshotFile } from '../product.js';
import { CatalogIndex, MAX_PER_PAGE } from './catalog-index.js';

/**
 * The read-only catalog API, independent of any framework: Keepwarm mounts it on its router and
 * `keepwarm catalog-api` serves it from a bare node:http server with no database. Responses carry
 * a strong ETag (a hash of the body) and cache headers a CDN can hold through an outage.
 */

/** Where the latest catalog snapshot comes from (the database, or a file). */
export interface SnapshotSource {
  latest(): Promise<CatalogSnapshotFile | null>;
  /** A cheap check of which snapshot is latest (its id), so an unchanged catalog is not reloaded. */
  latestId?(): Promise<string | null>;
}

export const catalogListQuery = z.strictObject({
  page: z.coerce.number().int().min(1).max(1_000_000).default(1),
  per_page: z.coerce.number().int().min(1).max(MAX_PER_PAGE).default(24),
  category: z.string().trim().min(1).max(200).optional(),
  q: z.string().trim().max(200).optional(),
});

export const catalogSkuParams = z.object({ sku: z.string().min(1).max(300) });

export const CATALOG_CACHE_CONTROL = 'public, max-age=60, stale-while-revalidate=600, stale-if-error=86400';

export const CATALOG_CORS_HEADERS: Record<string, string> = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, HEAD, OPTIONS',
  'access-control-allow-headers': 'If-None-Match',
  'access-control-expose-headers': 'ETag',
  'access-control-max-age': '86400',
};

export interface CatalogResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

function jsonResponse(status: number, value: unknown, ifNoneMatch: string | undefined, cache: boolean): CatalogResponse {
  const body = JSON.stringify(value);
  const headers: Record<string, string> = {
    ...CATALOG_CORS_HEADERS,
    'content-type': 'application/json; charset=utf-8',
    'cache-control': cache ? CATALOG_CACHE_CONTROL : 'no-store',
    vary: 'Accept-Encoding',
  };
  if (!cache) return { status, headers, body };
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  headers.etag = etag;
  if (etagMatches(ifNoneMatch, etag)) return { status: 304, headers, body: '' };
  return { status, headers, body };
}

function errorResponse(err: AppError): CatalogResponse {
  const response = jsonResponse(
    err.status,
    { error: { code: err.code, message: err.message, ...(err.details !== undefined && { details: err.details }) } },
    undefined,
    false,
  );
  // Retry-After and the like travel with the error.
  return { ...response, headers: { ...response.headers, ...err.headers } };
}

/** The index of the latest snapshot, rebuilt only when the snapshot changes. */
export class CatalogIndexCache {
  readonly #source: SnapshotSource;
  #current: { key: string; index: CatalogIndex } | null = null;

  constructor(source: SnapshotSource) {
    this.#source = source;
  }

  async get(): Promise<CatalogIndex | null> {
    if (this.#source.latestId) {
      const id = await this.#source.latestId();
      if (id === null) return null;
      if (this.#current?.key.startsWith(`${id}\u0000`)) return this.#current.index;
    }
    const file = await this.#source.latest();
    if (!file) return null;
    const key = `${file.id}\u0000${file.created_at}\u0000${file.products.length}`;
    if (this.#current?.key !== key) this.#current = { key, index: new CatalogIndex(file) };
    return this.#current.index;
  }
}

const noSnapshot = () =>
  new AppError(503, 'no_catalog_snapshot', 'No catalog snapshot has been imported yet.', {}, { 'retry-after': '60' });

export function listProductsResponse(
  index: CatalogIndex | null,
  query: z.output<typeof catalogListQuery>,
  ifNoneMatch: string | undefined,
): CatalogResponse {
  if (!index) return errorResponse(noSnapshot());
  const page = index.list({ page: query.page, perPage: query.per_page, category: query.category, q: query.q });
  if (query.category && !index.categories.some((c) => c.code === query.category) && page.total === 0)
    return errorResponse(notFound('Category', query.category));
  return jsonResponse(200, page, ifNoneMatch, true);
}

export function productResponse(index: CatalogIndex | null, sku: string, ifNoneMatch: string | undefined): CatalogResponse {
  if (!index) return errorResponse(noSnapshot());
  const product = index.product(sku);
  if (!product)
    return errorResponse(
      new AppError(404, 'not_found', `No product with SKU ${JSON.stringify(sku)} in snapshot ${index.snapshot.id}.`, { sku }),
    );
  return jsonResponse(200, { snapshot: index.snapshot, product }, ifNoneMatch, true);
}

/** Answer a raw request (the standalone server): only the two catalog routes exist. */
export async function serveCatalogRequest(
  cache: CatalogIndexCache,
  req: { method: string; url: string; ifNoneMatch: string | undefined },
): Promise<CatalogResponse> {
  const url = new URL(req.url, 'http://catalog.invalid');
  const method = req.method.toUpperCase();
  const isList = url.pathname === '/catalog/v1/products';
  const skuMatch = /^\/catalog\/v1\/products\/([^/]+)$/.exec(url.pathname);
  if (!isList && !skuMatch)
    return errorResponse(new AppError(404, 'route_not_found', `There is no ${method} ${url.pathname}.`, { path: url.pathname }));
  if (method === 'OPTIONS') return { status: 204, headers: { ...CATALOG_CORS_HEADERS }, body: '' };
  if (method !== 'GET' && method !== 'HEAD')
    return {
      ...errorResponse(new AppError(405, 'method_not_allowed', `Only GET and HEAD are served on ${url.pathname}.`, { method })),
      headers: { ...CATALOG_CORS_HEADERS, allow: 'GET, HEAD, OPTIONS', 'content-type': 'application/json; charset=utf-8' },
    };
  try {
    const index = await cache.get();
    if (isList) {
      const query = parseInput(catalogListQuery, Object.fromEntries(url.searchParams), 'query');
      return listProductsResponse(index, query, req.ifNoneMatch);
    }
    let sku: string;
    try {
      sku = decodeURIComponent(skuMatch?.[1] ?? '');
    } catch {
      throw new AppError(400, 'validation_failed', 'The request params is not valid: sku: malformed percent-encoding.', [
        { in: 'params', field: 'sku', message: 'malformed percent-encoding' },
      ]);
    }
    return productResponse(index, sku, req.ifNoneMatch);
  } catch (err) {
    if (err instanceof AppError) return errorResponse(err);
    throw err;
  }
}
