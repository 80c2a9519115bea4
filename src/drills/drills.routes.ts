import { z } from 'zod';
import { STANDARD_ERRORS } from '../app/openapi.js';
import type { Router } from '../app/router.js';
import { sendPage } from '../console/layout.js';
import { AppError, notFound } from '../core/errors.js';
import { DrillPage, DrillsPage } from './drills.pages.js';
import type { DrillService } from './drills.service.js';
import { SCENARIOS } from './scorecard.js';

const html = { description: 'HTML page', contentType: 'text/html' };
const milestone = z.object({
  key: z.string(),
  label: z.string(),
  seconds: z.number().nullable(),
  target_seconds: z.number(),
  on_target: z.boolean().nullable(),
});
const drillSchema = z.object({
  id: z.string(),
  scenario: z.enum(SCENARIOS),
  target: z.string(),
  state: z.enum(['running', 'restoring', 'done', 'failed']),
  started_at: z.string(),
  broken_at: z.string().nullable(),
  restored_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  incident_id: z.string().nullable(),
  hold_seconds: z.number(),
  progress: z.record(z.string(), z.string().nullable()),
  scorecard: z
    .object({
      scenario: z.string(),
      milestones: z.array(milestone),
      messages: z.object({
        total: z.number(),
        by_channel: z.record(z.string(), z.number()),
        by_tier: z.record(z.string(), z.number()),
      }),
      cadence: z.object({
        ack_seconds: z.number().nullable(),
        longest_gap_seconds: z.number().nullable(),
        late_updates: z.number(),
        updates: z.number(),
        adherence: z.number().nullable(),
      }),
      checklist: z.object({ total: z.number(), done: z.number(), on_time: z.number(), completion: z.number().nullable() }),
      score: z.number(),
    })
    .nullable(),
  error: z.string().nullable(),
});

export function registerDrillRoutes(r: Router, drills: DrillService, defaultHoldSeconds: number): void {
  r.route({
    method: 'POST',
    url: '/api/v1/drills',
    summary: 'Start a drill: break one entry point of the drilled showroom, let the playbook run, restore, score',
    description:
      'Body: scenario (cdn, api, auth, third-party), hold_seconds (how long the entry point stays broken, 10–3600). One drill at a time (409). Poll GET /api/v1/drills/{id} for the scorecard.',
    tags: ['drills'],
    access: 'incidents.declare',
    body: z.strictObject({
      scenario: z.enum(SCENARIOS).default('api'),
      hold_seconds: z.number().int().min(10).max(3600).optional(),
    }),
    responses: {
      201: { description: 'Drill started', schema: drillSchema },
      409: { description: 'A drill is running' },
      ...STANDARD_ERRORS,
    },
    async handler({ body, actor, reply }) {
      const drill = await drills.start(actor, { scenario: body.scenario, holdSeconds: body.hold_seconds ?? defaultHoldSeconds });
      return reply.code(201).send(drill);
    },
  });
  r.route({
    method: 'GET',
    url: '/api/v1/drills',
    summary: 'Drills, newest first, with their scorecards',
    tags: ['drills'],
    access: 'incidents.read',
    query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }),
    responses: { 200: { description: 'Drills', schema: z.object({ drills: z.array(drillSchema) }) }, ...STANDARD_ERRORS },
    async handler({ query }) {
      return { drills: await drills.list(query.limit) };
    },
  });
  r.route({
    method: 'GET',
    url: '/api/v1/drills/:id',
    summary: 'One drill: progress, then its scorecard',
    tags: ['drills'],
    access: 'incidents.read',
    params: z.object({ id: z.string().min(1).max(100) }),
    responses: { 200: { description: 'The drill', schema: drillSchema }, ...STANDARD_ERRORS },
    async handler({ params }) {
      const drill = await drills.get(params.id);
      if (!drill) throw notFound('drill', params.id);
      return drill;
    },
  });

  const listPage = async (actor: Parameters<typeof DrillsPage>[0]['actor'], extra: { notice?: string; error?: string } = {}) =>
    DrillsPage({ actor, drills: await drills.list(100), target: drills.target?.name ?? null, ...extra });
  r.route({
    method: 'GET',
    url: '/console/drills',
    summary: 'Drills: start one, the trend of scores, the history',
    tags: ['console'],
    access: 'incidents.read',
    page: true,
    query: z.object({ started: z.string().max(100).optional() }),
    responses: { 200: html },
    async handler({ actor, query, reply }) {
      return sendPage(reply, await listPage(actor, query.started ? { notice: 'Drill started: it shows here as it runs.' } : {}));
    },
  });
  r.route({
    method: 'POST',
    url: '/console/drills',
    summary: 'Start a drill from the console',
    tags: ['console'],
    access: 'incidents.declare',
    page: true,
    bodyContentType: 'application/x-www-form-urlencoded',
    body: z.record(z.string(), z.string()),
    responses: { 303: { description: 'To the drill' }, 409: html, 422: html, ...STANDARD_ERRORS },
    async handler({ body, actor, reply }) {
      const scenario = SCENARIOS.find((s) => s === body.scenario);
      const hold = Number(body.hold ?? defaultHoldSeconds);
      if (!scenario || !Number.isInteger(hold) || hold < 10 || hold > 3600)
        return sendPage(
          reply,
          await listPage(actor, {
            error: !scenario
              ? 'scenario: pick cdn, api, auth or third-party.'
              : 'hold: a whole number of seconds from 10 to 3600.',
          }),
          422,
        );
      try {
        const drill = await drills.start(actor, { scenario, holdSeconds: hold });
        return reply.redirect(`/console/drills/${encodeURIComponent(drill.id)}`, 303);
      } catch (err) {
        if (!(err instanceof AppError) || err.status >= 500) throw err;
        return sendPage(reply, await listPage(actor, { error: err.message }), err.status);
      }
    },
  });
  r.route({
    method: 'GET',
    url: '/console/drills/:id',
    summary: 'A drill and its scorecard',
    tags: ['console'],
    access: 'incidents.read',
    page: true,
    params: z.object({ id: z.string().min(1).max(100) }),
    responses: { 200: html, 404: html },
    async handler({ actor, params, reply }) {
      const drill = await drills.get(params.id);
      if (!drill) throw notFound('drill', params.id);
      return sendPage(reply, DrillPage({ actor, drill }));
    },
  });
}
