import { z } from 'zod';
import { STANDARD_ERRORS } from '../app/openapi.js';
import { Router } from '../app/router.js';
import { badRequest } from '../core/errors.js';
import { CATALOG_FORMATS, type CatalogFormat } from './import/parse.js';
import type { CatalogService } from './snapshots.service.js';

/** Largest catalog file POST /api/v1/catalog/imports accepts; bigger files: the CLI. */
const IMPORT_BODY_LIMIT = 50 * 1024 * 1024;

const flag = z
  .enum(['true', 'false', '1', '0'])
  .optional()
  .transform((v) => v === 'true' || v === '1');

const reportSchema = z.record(z.string(), z.unknown());

/** Content types that name a format without ?format=. */
const BY_TYPE: Record<string, CatalogFormat | undefined> = {
  'application/rss+xml': 'merchant-xml',
  'application/atom+xml': 'merchant-xml',
  'text/tab-separated-values': 'merchant-tsv',
};

/** Catalog import (every body is read as text in this scope) and the snapshots with their diffs. */
export function registerCatalogRoutes(parent: Router, catalog: CatalogService): void {
  parent.app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: IMPORT_BODY_LIMIT }, (_req, body, done) => done(null, body));
    const r = new Router(scope, parent.auth, parent.openapi);

    r.route({
      method: 'POST',
      url: '/api/v1/catalog/imports',
      summary:
        'Import a catalog file (Akeneo JSON/CSV, Google Merchant XML/TSV, Shopify CSV/JSON, generic CSV) as a new snapshot',
      description:
        'The body is the file. The format is detected from the content unless format= says it. All or nothing: when a ' +
        'product has an error (each names file, row and field) nothing is stored (422) unless skip_invalid=true. ' +
        'dry_run=true only reports. The report carries the diff against the previous snapshot.',
      tags: ['catalog'],
      access: 'catalog.import',
      bodyContentType: 'text/csv',
      query: z.strictObject({
        format: z.enum(CATALOG_FORMATS).optional(),
        filename: z.string().min(1).max(200).optional(),
        locale: z
          .string()
          .regex(/^[a-z]{2,3}_[A-Z]{2}$/, 'a locale such as en_US')
          .optional(),
        currency: z
          .string()
          .regex(/^[A-Z]{3}$/, 'an ISO 4217 code such as EUR')
          .optional(),
        mapping: z.string().max(10_000).optional(),
        dry_run: flag,
        skip_invalid: flag,
      }),
      responses: {
        200: { description: 'Imported (or previewed, or unchanged)', schema: reportSchema },
        422: { description: 'Products with errors: nothing imported', schema: reportSchema },
        ...STANDARD_ERRORS,
      },
      async handler({ query, req, reply, actor }) {
        const text = typeof req.body === 'string' ? req.body : '';
        if (text.trim() === '') throw badRequest('validation_failed', 'body: send the catalog file as the request body');
        let mapping: Record<string, string> | null = null;
        if (query.mapping) {
          const parsed = z.record(z.string(), z.string()).safeParse(safeJson(query.mapping));
          if (!parsed.success) throw badRequest('validation_failed', 'mapping: expected a JSON object {"column": "field"}');
          mapping = parsed.data;
        }
        const type =
          String(req.headers['content-type'] ?? '')
            .split(';')[0]
            ?.trim()
            .toLowerCase() ?? '';
        const report = await catalog.import(text, {
          file: query.filename ?? 'upload',
          format: query.format ?? BY_TYPE[type] ?? null,
          locale: query.locale ?? null,
          currency: query.currency ?? null,
          mapping,
          dryRun: query.dry_run,
          skipInvalid: query.skip_invalid,
          actor: actor.name,
        });
        if (report.errors > 0 && !query.skip_invalid && !query.dry_run) reply.code(422);
        return report;
      },
    });

    r.route({
      method: 'GET',
      url: '/api/v1/catalog/snapshots',
      summary: 'Catalog snapshots, newest first',
      tags: ['catalog'],
      access: 'catalog.read',
      query: z.strictObject({ limit: z.coerce.number().int().min(1).max(500).default(50) }),
      responses: {
        200: { description: 'Snapshots', schema: z.object({ snapshots: z.array(reportSchema) }) },
        ...STANDARD_ERRORS,
      },
      async handler({ query }) {
        return { snapshots: await catalog.list(query.limit) };
      },
    });

    r.route({
      method: 'GET',
      url: '/api/v1/catalog/snapshots/:id/diff',
      summary: 'What a snapshot changed: added, removed and changed SKUs (with the changed fields), against the previous one',
      tags: ['catalog'],
      access: 'catalog.read',
      params: z.strictObject({ id: z.string().min(1).max(100) }),
      query: z.strictObject({ against: z.string().min(1).max(100).optional() }),
      responses: { 200: { description: 'The diff', schema: reportSchema }, ...STANDARD_ERRORS },
      async handler({ params, query }) {
        return catalog.diff(params.id, query.against);
      },
    });
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
