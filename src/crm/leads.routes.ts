import { Readable } from 'node:stream';
import { z } from 'zod';
import { STANDARD_ERRORS } from '../app/openapi.js';
import type { Router } from '../app/router.js';
import { badRequest } from '../core/errors.js';
import type { ImportFormat } from './import/sources.js';
import type { LeadService } from './leads.service.js';

/** Largest CSV / JSON-lines body POST /api/v1/leads/import accepts; bigger files: the CLI. */
export const IMPORT_BODY_LIMIT = 20 * 1024 * 1024;

const flag = z
  .enum(['true', 'false', '1', '0'])
  .optional()
  .transform((v) => v === 'true' || v === '1');

const leadSchema = z.record(z.string(), z.unknown());
const summarySchema = z.object({
  dry_run: z.boolean(),
  applied: z.boolean(),
  rows: z.number(),
  created: z.number(),
  updated: z.number(),
  unchanged: z.number(),
  errors: z.number(),
  error_list: z.array(z.object({ row: z.number(), column: z.string(), message: z.string() })),
  preview: z.array(z.object({ row: z.number(), action: z.enum(['create', 'update', 'unchanged']), lead: leadSchema })),
  columns: z.array(z.object({ column: z.string(), field: z.string() })),
  ms: z.number(),
});

/** Leads: list, one lead, create/update one, import (CSV / JSON), CSV export. */
export function registerLeadRoutes(r: Router, leads: LeadService): void {
  const textTypes = ['text/csv', 'application/x-ndjson', 'application/jsonl'];
  if (!r.app.hasContentTypeParser('text/csv'))
    r.app.addContentTypeParser(textTypes, { parseAs: 'string', bodyLimit: IMPORT_BODY_LIMIT }, (_req, body, done) =>
      done(null, body),
    );

  r.route({
    method: 'GET',
    url: '/api/v1/leads',
    summary: 'Leads, filtered by tier, owner, outage status or incident, in pages (cursor: the last id)',
    tags: ['crm'],
    access: 'leads.read',
    query: z.strictObject({
      tier: z.enum(['A', 'B', 'C']).optional(),
      owner: z.string().trim().min(1).optional(),
      outage_status: z.enum(['active', 'resolved']).optional(),
      incident: z.string().trim().min(1).optional(),
      cursor: z.string().trim().min(1).optional(),
      limit: z.coerce.number().int().min(1).max(500).default(50),
    }),
    responses: {
      200: {
        description: 'A page of leads',
        schema: z.object({ leads: z.array(leadSchema), next_cursor: z.string().nullable() }),
      },
      ...STANDARD_ERRORS,
    },
    async handler({ query }) {
      return leads.list({
        tier: query.tier,
        ownerId: query.owner,
        outageStatus: query.outage_status,
        incidentId: query.incident,
        after: query.cursor,
        limit: query.limit,
      });
    },
  });

  r.route({
    method: 'GET',
    url: '/api/v1/leads/export.csv',
    summary: 'Every lead as CSV with the outage fields; cells that look like formulas are defused',
    tags: ['crm'],
    access: 'leads.read',
    responses: { 200: { description: 'CSV (RFC 4180, UTF-8 with BOM)', contentType: 'text/csv' }, ...STANDARD_ERRORS },
    async handler({ reply }) {
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="leads.csv"')
        .header('cache-control', 'no-store')
        .send(Readable.from(leads.exportCsv()));
    },
  });

  r.route({
    method: 'GET',
    url: '/api/v1/leads/:id',
    summary: 'One lead with its recent intent events and counts of events, tasks and enrollments',
    tags: ['crm'],
    access: 'leads.read',
    params: z.object({ id: z.string().min(1) }),
    responses: { 200: { description: 'The lead', schema: leadSchema }, 404: { description: 'No such lead' }, ...STANDARD_ERRORS },
    async handler({ params }) {
      return leads.get(params.id);
    },
  });

  r.route({
    method: 'POST',
    url: '/api/v1/leads',
    summary: 'Create or update one lead (matched by external_id, else email; same names and checks as the import)',
    description:
      'Fields: external_id, email, phone, first_name, last_name, title, company, owner_email, lifecycle, status, source, ' +
      'arr_potential, cart_value, demo_scheduled_at, last_activity_at, timezone, consent_email, consent_sms, country; ' +
      'any other field is kept in attributes.',
    tags: ['crm'],
    access: 'leads.write',
    body: leadSchema,
    responses: {
      200: { description: 'Updated (or unchanged)', schema: leadSchema },
      201: { description: 'Created', schema: leadSchema },
      422: { description: 'A field is not valid (each is named)' },
      ...STANDARD_ERRORS,
    },
    async handler({ body, reply }) {
      const { created, lead } = await leads.upsert(body);
      reply.code(created ? 201 : 200);
      return lead;
    },
  });

  r.route({
    method: 'POST',
    url: '/api/v1/leads/import',
    summary: 'Import leads from a HubSpot / Salesforce / Keepwarm CSV, a JSON array or JSON lines',
    description:
      'All or nothing: when any row has an error nothing is written and every error names its row (header = row 1) and ' +
      'column; skip_invalid=true imports the valid rows. dry_run=true only previews. Re-importing is idempotent.',
    tags: ['crm'],
    access: 'leads.import',
    bodyContentType: 'text/csv',
    query: z.strictObject({ dry_run: flag, skip_invalid: flag, preview: z.coerce.number().int().min(0).max(200).default(10) }),
    responses: {
      200: { description: 'Imported (or previewed)', schema: summarySchema },
      422: { description: 'Rows with errors: nothing imported', schema: summarySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ query, req, reply }) {
      const type = String(req.headers['content-type'] ?? '')
        .split(';')[0]
        ?.trim()
        .toLowerCase();
      let format: ImportFormat;
      let input: string;
      if (type === 'text/csv') format = 'csv';
      else if (type === 'application/x-ndjson' || type === 'application/jsonl' || type === 'application/json') format = 'json';
      else throw badRequest('unsupported_type', 'content-type: send text/csv, application/json or application/x-ndjson');
      if (typeof req.body === 'string') input = req.body;
      else if (typeof req.body === 'object' && req.body !== null) input = JSON.stringify(req.body);
      else
        throw badRequest(
          'validation_failed',
          'body: expected CSV text, a JSON array of leads ({records} or {results} lists too) or JSON lines',
        );
      const summary = await leads.import(format, input, {
        dryRun: query.dry_run,
        skipInvalid: query.skip_invalid,
        previewRows: query.preview,
      });
      if (summary.errors > 0 && !query.skip_invalid && !query.dry_run) reply.code(422);
      return summary;
    },
  });
}
