import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import type { Router } from '../../app/router.js';
import {
  type CatalogIndexCache,
  type CatalogResponse,
  catalogListQuery,
  catalogSkuParams,
  listProductsResponse,
  productResponse,
} from './catalog-http.js';

function send(reply: FastifyReply, out: CatalogResponse): FastifyReply {
  reply.code(out.status).headers(out.headers);
  return reply.send(out.body === '' ? undefined : out.body);
}

const described = {
  200: { description: 'JSON; ETag, Cache-Control and CORS headers set', contentType: 'application/json' },
  304: { description: 'Not modified (If-None-Match matched)' },
  400: { description: 'A query parameter is not valid (named in the error)', schema: z.object({ error: z.unknown() }) },
  404: { description: 'No such product (the SKU is named) or category', schema: z.object({ error: z.unknown() }) },
  503: { description: 'No catalog snapshot imported yet', schema: z.object({ error: z.unknown() }) },
};

/** The read-only catalog API on Keepwarm's own server, from the latest snapshot. */
export function registerCatalogApiRoutes(r: Router, cache: CatalogIndexCache): void {
  r.route({
    method: 'GET',
    url: '/catalog/v1/products',
    summary: 'Catalog products: paging (page, per_page ≤ 100), category filter, search (q)',
    tags: ['catalog'],
    access: 'public',
    query: catalogListQuery,
    responses: described,
    async handler({ query, req, reply }) {
      return send(reply, listProductsResponse(await cache.get(), query, req.headers['if-none-match']));
    },
  });
  r.route({
    method: 'GET',
    url: '/catalog/v1/products/:sku',
    summary: 'One catalog product by SKU',
    tags: ['catalog'],
    access: 'public',
    params: catalogSkuParams,
    responses: described,
    async handler({ params, req, reply }) {
      return send(reply, productResponse(await cache.get(), params.sku, req.headers['if-none-match']));
    },
  });
}
