import { z } from 'zod';
import { errorBodySchema, STANDARD_ERRORS } from '../app/openapi.js';
import type { Router } from '../app/router.js';
import { REPORT_CSP } from './html.js';
import { ACTION_KINDS, VARIANTS } from './report.js';
import { FORMATS, type ReportService } from './report.service.js';

const idParams = z.object({ id: z.string().min(1) });

/** A calendar date that exists (2026-02-30 is refused). */
const dueDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'expected a date as YYYY-MM-DD')
  .refine((s) => {
    const d = new Date(`${s}T00:00:00Z`);
    return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
  }, 'not a calendar date');

export const actionSchema = z.strictObject({
  kind: z.enum(ACTION_KINDS).describe('remediation (fix what broke) or preventive (stop it happening again)'),
  title: z.string().trim().min(1, 'expected what will be done').max(500),
  owner: z.string().trim().min(1, 'expected who owns the action').max(200),
  due_date: dueDate.describe('YYYY-MM-DD'),
  done: z.boolean().default(false),
});

export const editSchema = z.strictObject({
  summary: z.string().max(20_000).nullable().optional().describe('null or empty: use the summary generated from the figures'),
  root_cause: z.string().max(50_000).optional(),
  actions: z.array(actionSchema).max(100).optional().describe('Replaces every action'),
  revision: z.number().int().min(0).optional().describe('The revision the edit starts from; a newer stored one answers 409'),
});

const figure = z.object({ label: z.string(), value: z.string() });
export const reportViewSchema = z.object({
  incident_id: z.string(),
  incident_name: z.string(),
  state: z.enum(['draft', 'published']),
  revision: z.number(),
  updated_at: z.string().nullable(),
  updated_by: z.string().nullable(),
  published_at: z.string().nullable(),
  published_by: z.string().nullable(),
  due_at: z.string().nullable().describe('Resolution + the report deadline (72 h by default); null while open'),
  summary: z.string().nullable().describe('The written summary (null: the generated one is used)'),
  generated_summary: z.string(),
  root_cause: z.string(),
  actions: z.array(actionSchema),
  figures: z
    .object({ service: z.array(figure), pipeline: z.array(figure) })
    .describe('Computed now from the timeline and the CRM, outbox and orders'),
  links: z.object({ markdown: z.string(), html: z.string(), pdf: z.string(), executive: z.string(), public: z.string() }),
});

export function registerReportRoutes(r: Router, reports: ReportService): void {
  r.route({
    method: 'GET',
    url: '/api/v1/incidents/:id/report',
    summary: "An incident's report: Markdown, HTML (SVG charts), PDF, or the model as JSON",
    description:
      'Generated now from the timeline and the figures (duration, time to acknowledge, longest update gap, leads per tier, messages per channel, calls and demos, mirror orders, re-engaged leads, pipeline ARR at risk vs engaged), with the summary, root cause and actions people wrote. variant=executive: one page of figures and decisions.',
    tags: ['incidents', 'reports'],
    access: 'incidents.read',
    params: idParams,
    query: z.strictObject({
      format: z.enum(FORMATS).default('md'),
      variant: z.enum(VARIANTS).default('full'),
      download: z.enum(['0', '1']).optional().describe('1: as an attachment'),
    }),
    responses: {
      200: {
        description: 'The report (text/markdown, text/html, application/pdf or application/json)',
        contentType: 'text/markdown',
      },
      404: { description: 'No such incident', schema: errorBodySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ params, query, reply }) {
      const rendered = await reports.render(params.id, query.format, query.variant);
      reply.header('content-type', rendered.contentType).header('cache-control', 'no-store');
      if (query.format === 'html') reply.header('content-security-policy', REPORT_CSP);
      if (query.download === '1' || query.format === 'pdf') {
        reply.header(
          'content-disposition',
          `${query.download === '1' ? 'attachment' : 'inline'}; filename="${rendered.filename}"`,
        );
      }
      return reply.send(rendered.body);
    },
  });

  r.route({
    method: 'GET',
    url: '/api/v1/incidents/:id/report/state',
    summary: "An incident report's state, what people wrote and the live figures (JSON)",
    tags: ['incidents', 'reports'],
    access: 'incidents.read',
    params: idParams,
    responses: {
      200: { description: 'The report', schema: reportViewSchema },
      404: { description: 'No such incident', schema: errorBodySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ params }) {
      return reports.view(params.id);
    },
  });

  r.route({
    method: 'PUT',
    url: '/api/v1/incidents/:id/report',
    summary: 'Edit the report: summary, root cause, remediation and preventive actions (owner, due date)',
    description:
      'Fields left out keep their value. The figures are never stored: they stay live. A published report cannot be edited.',
    tags: ['incidents', 'reports'],
    access: 'incidents.update',
    params: idParams,
    body: editSchema,
    responses: {
      200: { description: 'The report after the edit', schema: reportViewSchema },
      404: { description: 'No such incident', schema: errorBodySchema },
      409: { description: 'Published already, or edited by someone else since `revision`', schema: errorBodySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ params, body, actor }) {
      return reports.edit(actor, params.id, body);
    },
  });

  r.route({
    method: 'POST',
    url: '/api/v1/incidents/:id/report/publish',
    summary: "Publish the report as the incident's postmortem on every public surface",
    description:
      'Posts a Statuspage `postmortem` update (through publish-everywhere: status page, JSON, feeds, subscribers) that links the public report; the report is then published and can no longer be edited. Needs a resolved incident and a written root cause.',
    tags: ['incidents', 'reports'],
    access: 'incidents.update',
    params: idParams,
    responses: {
      200: { description: 'The published report', schema: reportViewSchema },
      404: { description: 'No such incident', schema: errorBodySchema },
      409: { description: 'Already published, incident still open, or a surface would disagree', schema: errorBodySchema },
      422: { description: 'The root cause is not written', schema: errorBodySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ params, actor }) {
      return reports.publish(actor, params.id);
    },
  });

  r.route({
    method: 'GET',
    url: '/status/incidents/:id/report',
    summary: 'A published incident report, as the public reads it (HTML, no sales figures or owners)',
    tags: ['status', 'reports'],
    access: 'public',
    params: idParams,
    responses: {
      200: { description: 'The report', contentType: 'text/html' },
      404: { description: 'No published report for this incident', schema: errorBodySchema },
    },
    async handler({ params, reply }) {
      const html = await reports.publicReport(params.id);
      return reply
        .header('content-type', 'text/html; charset=utf-8')
        .header('content-security-policy', REPORT_CSP)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .header('cache-control', 'public, max-age=60, stale-if-error=86400')
        .send(html);
    },
  });
}
