import { z } from 'zod';
import { errorBodySchema, STANDARD_ERRORS } from '../app/openapi.js';
import type { Router } from '../app/router.js';
import type { Services } from '../app/services.js';
import { toIso, toIsoOrNull } from '../core/clock.js';
import { INCIDENT_STATUSES } from '../incidents/incident.js';
import { PURPOSES, TEMPLATE_CHANNELS } from './messaging.js';
import type { ChannelFacts } from './render.js';
import { LOCALE_PATTERN, MAX_BODY_LENGTH, MAX_SUBJECT_LENGTH, TEMPLATE_KEY_PATTERN, TEMPLATE_STATES } from './templates.js';
import type { VersionRecord } from './templates.repo.js';
import { type Preview, summarize, type TemplateDetail, type TemplateService, type TemplateSummary } from './templates.service.js';
import type { UpdateRendering } from './update-renderer.js';

// ---------------------------------------------------------------------------------------------
// JSON shapes (snake_case, ISO-8601 UTC times) with their schemas

export const templateSummarySchema = z.object({
  id: z.string(),
  key: z.string(),
  locale: z.string(),
  channel: z.enum(TEMPLATE_CHANNELS),
  purpose: z.enum(PURPOSES),
  name: z.string(),
  description: z.string().nullable(),
  state: z.enum(TEMPLATE_STATES).describe('The open version’s state if any, else approved, else retired'),
  approved_version: z.number().int().nullable().describe('The version that is dispatched, if any'),
  open_version: z
    .object({ version: z.number().int(), state: z.enum(TEMPLATE_STATES) })
    .nullable()
    .describe('The draft or the version awaiting review'),
  created_at: z.string(),
  updated_at: z.string(),
});

export const versionSchema = z.object({
  id: z.string(),
  version: z.number().int(),
  state: z.enum(TEMPLATE_STATES),
  subject: z.string().nullable(),
  body: z.string(),
  variables: z.array(z.string()).describe('Variables the version uses; every one is required when rendering'),
  created_by: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
  submitted_by: z.string().nullable(),
  submitted_at: z.string().nullable(),
  approved_by: z.string().nullable(),
  approved_at: z.string().nullable(),
  retired_by: z.string().nullable(),
  retired_at: z.string().nullable(),
  review_note: z.string().nullable(),
});

export const templateDetailSchema = templateSummarySchema.extend({ versions: z.array(versionSchema) });

const renderedSchema = z.object({
  subject: z.string().nullable(),
  text: z.string(),
  html: z.string().nullable(),
});

const smsFactsSchema = z.object({
  encoding: z.enum(['GSM-7', 'UCS-2']),
  characters: z.number(),
  units: z.number().describe('Septets (GSM-7) or UTF-16 code units (UCS-2)'),
  segments: z.number(),
  per_segment: z.number(),
  remaining: z.number(),
  extension_characters: z.array(z.string()),
  non_gsm: z.array(z.object({ char: z.string(), code_point: z.string(), count: z.number(), suggestion: z.string().nullable() })),
  gsm_suggestion: z.string().nullable(),
});

export const channelFactsSchema = z.object({
  channel: z.enum(TEMPLATE_CHANNELS),
  length: z.number(),
  sms: smsFactsSchema.optional(),
  social: z
    .object({ length: z.number(), limit: z.number(), remaining: z.number(), over_by: z.number(), links: z.number() })
    .optional(),
  email: z
    .object({ subject_length: z.number(), subject_advice: z.number(), text_length: z.number(), html_length: z.number() })
    .optional(),
  warnings: z.array(z.string()),
});

export const previewSchema = z.object({
  template_id: z.string(),
  key: z.string(),
  channel: z.enum(TEMPLATE_CHANNELS),
  purpose: z.enum(PURPOSES),
  version: z.number().int(),
  state: z.enum(TEMPLATE_STATES),
  rendered: renderedSchema,
  facts: channelFactsSchema,
  variables: z.array(z.string()),
  sampled: z.array(z.string()).describe('Variables filled with sample values (use_samples)'),
});

export const renderUpdateResponseSchema = z.object({
  facts: z.record(z.string(), z.string()),
  channels: z.array(
    z.object({
      key: z.string(),
      ok: z.boolean(),
      channel: z.enum(TEMPLATE_CHANNELS).optional(),
      version: z.number().int().optional(),
      rendered: renderedSchema.optional(),
      facts: channelFactsSchema.optional(),
      facts_shown: z.array(z.string()).optional().describe('Which of the update’s facts this channel’s wording shows'),
      error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }).optional(),
    }),
  ),
});

export function templateSummaryJson(s: TemplateSummary): z.output<typeof templateSummarySchema> {
  const t = s.template;
  return {
    id: t.id,
    key: t.key,
    locale: t.locale,
    channel: t.channel,
    purpose: t.purpose,
    name: t.name,
    description: t.description,
    state: s.state,
    approved_version: s.approvedVersion,
    open_version: s.openVersion,
    created_at: toIso(t.createdAt),
    updated_at: toIso(t.updatedAt),
  };
}

export function versionJson(v: VersionRecord, variables: string[]): z.output<typeof versionSchema> {
  return {
    id: v.id,
    version: v.version,
    state: v.state,
    subject: v.subject,
    body: v.body,
    variables,
    created_by: v.createdBy,
    created_at: toIso(v.createdAt),
    updated_at: toIso(v.updatedAt),
    submitted_by: v.submittedBy,
    submitted_at: toIsoOrNull(v.submittedAt),
    approved_by: v.approvedBy,
    approved_at: toIsoOrNull(v.approvedAt),
    retired_by: v.retiredBy,
    retired_at: toIsoOrNull(v.retiredAt),
    review_note: v.reviewNote,
  };
}

export function templateDetailJson(templates: TemplateService, d: TemplateDetail): z.output<typeof templateDetailSchema> {
  return {
    ...templateSummaryJson(summarize(d)),
    versions: d.versions.map((v) => versionJson(v, templates.variablesOf(d.template, v))),
  };
}

function factsJson(f: ChannelFacts): z.output<typeof channelFactsSchema> {
  return {
    channel: f.channel,
    length: f.length,
    ...(f.sms && { sms: f.sms }),
    ...(f.social && { social: f.social }),
    ...(f.email && { email: f.email }),
    warnings: f.warnings,
  };
}

function renderedJson(c: { subject?: string | undefined; text: string; html?: string | undefined }) {
  return { subject: c.subject ?? null, text: c.text, html: c.html ?? null };
}

export function previewJson(p: Preview): z.output<typeof previewSchema> {
  return {
    template_id: p.template.id,
    key: p.template.key,
    channel: p.template.channel,
    purpose: p.template.purpose,
    version: p.version.version,
    state: p.version.state,
    rendered: renderedJson(p.content),
    facts: factsJson(p.facts),
    variables: p.variables,
    sampled: p.sampled,
  };
}

export function renderUpdateJson(r: UpdateRendering): z.output<typeof renderUpdateResponseSchema> {
  return {
    facts: { ...r.facts },
    channels: r.channels.map((c) =>
      c.ok
        ? {
            key: c.key,
            ok: true,
            channel: c.channel,
            version: c.version,
            rendered: renderedJson(c.content),
            facts: factsJson(c.facts),
            facts_shown: c.factsShown,
          }
        : { key: c.key, ok: false, error: c.error },
    ),
  };
}

// ---------------------------------------------------------------------------------------------
// Input schemas

const keySchema = z
  .string()
  .trim()
  .max(100)
  .regex(TEMPLATE_KEY_PATTERN, 'expected a key such as email.initial_ack (lowercase, dot-separated)');
const localeSchema = z.string().trim().max(35).regex(LOCALE_PATTERN, 'expected a locale such as en, de or pt-BR');
const subjectSchema = z.string().max(MAX_SUBJECT_LENGTH);
const bodySchema = z.string().max(MAX_BODY_LENGTH);
const variableValue = z.union([z.string().max(20_000), z.number(), z.boolean()]);

export const createTemplateSchema = z.strictObject({
  key: keySchema,
  locale: localeSchema.optional().describe('Default: en'),
  channel: z.enum(TEMPLATE_CHANNELS),
  purpose: z.enum(PURPOSES),
  name: z.string().trim().min(1, 'expected a name').max(200),
  description: z.string().max(2_000).nullable().optional(),
  subject: subjectSchema.nullable().optional().describe('Email only (required there)'),
  body: bodySchema.min(1, 'expected the template text').describe('Liquid; HTML for email, plain text elsewhere'),
});

export const patchTemplateSchema = z
  .strictObject({
    name: z.string().trim().min(1, 'expected a name').max(200).optional(),
    description: z.string().max(2_000).nullable().optional(),
    subject: subjectSchema.nullable().optional(),
    body: bodySchema.min(1, 'expected the template text').optional(),
  })
  .refine((p) => Object.keys(p).length > 0, 'expected at least one of name, description, subject, body');

const versionGuard = z.number().int().min(1).optional().describe('The version you reviewed; another one answers 409');

export const submitSchema = z.strictObject({ version: versionGuard }).optional();
export const approveSchema = z.strictObject({ version: versionGuard, note: z.string().max(2_000).optional() }).optional();
export const rejectSchema = z.strictObject({
  version: versionGuard,
  note: z.string().trim().min(1, 'expected a note saying what to change').max(2_000),
});

export const previewInputSchema = z.strictObject({
  variables: z.record(z.string(), variableValue).default({}),
  version: z.number().int().min(1).optional().describe('Default: the draft or review version, else the approved one'),
  use_samples: z.boolean().default(false).describe('Fill variables not given with sample values'),
});

export const renderUpdateSchema = z.strictObject({
  incident_name: z.string().trim().min(1, 'expected the incident name').max(300),
  status: z.enum(INCIDENT_STATUSES),
  message: z.string().trim().min(1, 'expected the update text').max(20_000),
  fallback_url: z.url({ protocol: /^https?$/, error: 'expected the fallback catalog URL (http or https)' }),
  next_update_at: z.iso
    .datetime({ offset: true, error: 'expected an ISO-8601 time such as 2026-11-28T17:30:00Z' })
    .transform((v) => new Date(Date.parse(v)).toISOString()),
  locale: localeSchema.optional(),
  keys: z.array(keySchema).min(1).max(50).optional().describe('Default: every update channel'),
});

const idParams = z.object({ id: z.string().min(1) });

// ---------------------------------------------------------------------------------------------

/** /api/v1/templates: the template library API. Thin: rules live in the service and templates.ts. */
export function registerTemplateRoutes(r: Router, services: Services): void {
  const { templates, config } = services;
  const detail = (d: TemplateDetail) => templateDetailJson(templates, d);
  const transitionErrors = {
    404: { description: 'No such template', schema: errorBodySchema },
    409: { description: 'The version is not in a state that allows this (the reason says why)', schema: errorBodySchema },
    ...STANDARD_ERRORS,
  };

  r.route({
    method: 'GET',
    url: '/api/v1/templates',
    summary: 'The template library, by channel and key, with each template’s state',
    tags: ['templates'],
    access: 'templates.read',
    query: z.object({
      channel: z.enum(TEMPLATE_CHANNELS).optional(),
      state: z.enum(TEMPLATE_STATES).optional(),
      key: z.string().max(100).optional(),
      locale: z.string().max(35).optional(),
      limit: z.coerce.number().int().min(1).max(1000).default(500),
    }),
    responses: {
      200: {
        description: 'Templates',
        schema: z.object({
          awaiting_review: z.number().describe('Templates with a version awaiting legal review'),
          templates: z.array(templateSummarySchema),
        }),
      },
      ...STANDARD_ERRORS,
    },
    async handler({ query }) {
      const list = await templates.list(query);
      return { awaiting_review: list.awaitingReview, templates: list.templates.map(templateSummaryJson) };
    },
  });

  r.route({
    method: 'POST',
    url: '/api/v1/templates',
    summary: 'Create a template (version 1, a draft)',
    tags: ['templates'],
    access: 'templates.write',
    body: createTemplateSchema,
    responses: {
      201: { description: 'Created', schema: templateDetailSchema },
      409: { description: 'A template with this key and locale exists', schema: errorBodySchema },
      422: { description: 'Invalid Liquid, or the channel’s rules (email needs a subject)', schema: errorBodySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ body, actor, reply }) {
      const created = await templates.create(actor, body);
      reply.code(201).header('location', `/api/v1/templates/${created.template.id}`);
      return detail(created);
    },
  });

  r.route({
    method: 'POST',
    url: '/api/v1/templates/render-update',
    summary: 'One update, every channel: render the approved update templates from one set of facts',
    description:
      'Renders status.notice, banner.notice, email.hourly_update, sms.update, social.post and slack.update from the same facts, with each channel’s facts (SMS parts, post length). A channel without an approved template is reported with its error; the others still render.',
    tags: ['templates'],
    access: 'templates.read',
    body: renderUpdateSchema,
    responses: {
      200: { description: 'Every channel’s rendering or its problem', schema: renderUpdateResponseSchema },
      ...STANDARD_ERRORS,
    },
    async handler({ body }) {
      const { locale, keys, ...facts } = body;
      const result = await templates.renderUpdate(facts, {
        locale,
        defaults: config.messaging.variables,
        socialLimit: config.mastodon.characterLimit,
        ...(keys && { keys }),
      });
      return renderUpdateJson(result);
    },
  });

  r.route({
    method: 'GET',
    url: '/api/v1/templates/:id',
    summary: 'One template with every version, newest first',
    tags: ['templates'],
    access: 'templates.read',
    params: idParams,
    responses: {
      200: { description: 'The template', schema: templateDetailSchema },
      404: { description: 'No such template', schema: errorBodySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ params }) {
      return detail(await templates.get(params.id));
    },
  });

  r.route({
    method: 'PATCH',
    url: '/api/v1/templates/:id',
    summary: 'Edit the draft; on an approved template, start a new draft version',
    description:
      'Name and description change in place. New subject or body edits the open draft, or creates the next version as a draft when the newest version is approved or retired: approved versions never change. While a version awaits review: 409.',
    tags: ['templates'],
    access: 'templates.write',
    params: idParams,
    body: patchTemplateSchema,
    responses: {
      200: { description: 'The template as it is now', schema: templateDetailSchema },
      404: { description: 'No such template', schema: errorBodySchema },
      409: { description: 'A version is awaiting review', schema: errorBodySchema },
      422: { description: 'Invalid Liquid, or the channel’s rules', schema: errorBodySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ params, body, actor }) {
      return detail(await templates.update(actor, params.id, body));
    },
  });

  r.route({
    method: 'POST',
    url: '/api/v1/templates/:id/submit',
    summary: 'Submit the draft for legal review',
    tags: ['templates'],
    access: 'templates.write',
    params: idParams,
    body: submitSchema,
    responses: { 200: { description: 'Submitted', schema: templateDetailSchema }, ...transitionErrors },
    async handler({ params, body, actor }) {
      return detail(await templates.submit(actor, params.id, { version: body?.version }));
    },
  });

  r.route({
    method: 'POST',
    url: '/api/v1/templates/:id/approve',
    summary: 'Approve the version awaiting review (legal or admin); the previous approved version retires',
    tags: ['templates'],
    access: 'templates.approve',
    params: idParams,
    body: approveSchema,
    responses: { 200: { description: 'Approved', schema: templateDetailSchema }, ...transitionErrors },
    async handler({ params, body, actor }) {
      return detail(await templates.approve(actor, params.id, { version: body?.version, note: body?.note }));
    },
  });

  r.route({
    method: 'POST',
    url: '/api/v1/templates/:id/reject',
    summary: 'Send the version awaiting review back to draft, with a note (legal or admin)',
    tags: ['templates'],
    access: 'templates.approve',
    params: idParams,
    body: rejectSchema,
    responses: { 200: { description: 'Sent back', schema: templateDetailSchema }, ...transitionErrors },
    async handler({ params, body, actor }) {
      return detail(await templates.reject(actor, params.id, { note: body.note, version: body.version }));
    },
  });

  r.route({
    method: 'POST',
    url: '/api/v1/templates/:id/retire',
    summary: 'Retire the approved version: the template is not dispatched until another is approved',
    tags: ['templates'],
    access: 'templates.approve',
    params: idParams,
    body: submitSchema,
    responses: { 200: { description: 'Retired', schema: templateDetailSchema }, ...transitionErrors },
    async handler({ params, body, actor }) {
      return detail(await templates.retire(actor, params.id, { version: body?.version }));
    },
  });

  r.route({
    method: 'POST',
    url: '/api/v1/templates/:id/preview',
    summary: 'Render a version with variables, with the channel’s facts (SMS encoding and parts, post length, subject length)',
    description:
      'Renders exactly as dispatch would: the configured default variables under the given ones, an unsubscribe link for email, the unsubscribe-and-address footer for marketing email. A missing or empty variable answers 422 naming every one (unless use_samples fills it).',
    tags: ['templates'],
    access: 'templates.read',
    params: idParams,
    body: previewInputSchema,
    responses: {
      200: { description: 'The rendering and its facts', schema: previewSchema },
      404: { description: 'No such template', schema: errorBodySchema },
      422: { description: 'A variable is missing or empty, or a value carries template syntax', schema: errorBodySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ params, body }) {
      const preview = await templates.preview(
        params.id,
        { variables: body.variables, version: body.version, useSamples: body.use_samples },
        {
          socialLimit: config.mastodon.characterLimit,
          publicUrl: config.publicUrl,
          postalAddress: config.messaging.postalAddress,
          defaults: config.messaging.variables,
        },
      );
      return previewJson(preview);
    },
  });
}
