import { z } from 'zod';
import type { Actor } from '../app/actor.js';
import { errorBodySchema, STANDARD_ERRORS } from '../app/openapi.js';
import type { Router } from '../app/router.js';
import { COMPONENT_STATUSES, IMPACTS, INCIDENT_STATUSES } from './incident.js';
import type { IncidentDetail, IncidentService, UpdateInput } from './incidents.service.js';
import {
  incidentDetailJson,
  incidentDetailSchema,
  incidentSummaryJson,
  incidentSummarySchema,
  timelineEventJson,
  timelineEventSchema,
} from './incidents.views.js';

const isoTime = z.iso
  .datetime({ offset: true, error: 'expected an ISO-8601 time such as 2026-11-28T17:30:00Z' })
  .transform((v) => Date.parse(v));

export const componentChangeSchema = z.strictObject({
  id: z.string().min(1, 'expected a component id'),
  status: z.enum(COMPONENT_STATUSES),
});

export const declareSchema = z.strictObject({
  name: z.string().trim().min(1, 'expected a name').max(300),
  status: z.enum(INCIDENT_STATUSES).optional(),
  impact: z.enum(IMPACTS).optional(),
  message: z.string().max(20_000).optional(),
  components: z.array(componentChangeSchema).max(500).optional(),
  commander: z.string().min(1).optional().describe('User id or email of the incident commander (default: the caller)'),
  scope: z
    .union([z.literal('global'), z.array(z.string().trim().min(1)).min(1, 'expected at least one region')])
    .optional()
    .describe('"global" or the list of affected regions'),
  drill: z.boolean().optional(),
  started_at: isoTime.optional().describe('When the outage began (default: detected_at)'),
  detected_at: isoTime.optional().describe('When it was first noticed (default: now)'),
});

export const updateSchema = z.strictObject({
  status: z.enum(INCIDENT_STATUSES).optional(),
  message: z.string().trim().min(1, 'expected the update text').max(20_000),
  impact: z.enum(IMPACTS).optional(),
  components: z.array(componentChangeSchema).max(500).optional(),
});

const idParams = z.object({ id: z.string().min(1) });

/** Publishes an update (the status feature checks it first and sends it everywhere). */
export type PublishUpdate = (actor: Actor, id: string, input: UpdateInput) => Promise<IncidentDetail>;

export function registerIncidentRoutes(
  r: Router,
  incidents: IncidentService,
  publish: PublishUpdate = (actor, id, input) => incidents.postUpdate(actor, id, input),
): void {
  r.route({
    method: 'POST',
    url: '/api/v1/incidents',
    summary: 'Declare an incident',
    description:
      'Opens an incident on the named components. With a message, the first public update (the acknowledgement) is published at once.',
    tags: ['incidents'],
    access: 'incidents.declare',
    body: declareSchema,
    responses: {
      201: { description: 'Declared', schema: incidentDetailSchema },
      422: { description: 'Unknown component or user, or a status an incident cannot start in', schema: errorBodySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ body, actor, reply }) {
      const detail = await incidents.declare(actor, body);
      reply.code(201).header('location', `/api/v1/incidents/${detail.incident.id}`);
      return incidentDetailJson(detail);
    },
  });

  r.route({
    method: 'GET',
    url: '/api/v1/incidents',
    summary: 'List incidents, newest first',
    tags: ['incidents'],
    access: 'incidents.read',
    query: z.object({
      state: z.enum(['open', 'resolved', 'all']).default('all'),
      limit: z.coerce.number().int().min(1).max(500).default(50),
    }),
    responses: {
      200: { description: 'Incidents', schema: z.object({ incidents: z.array(incidentSummarySchema) }) },
      ...STANDARD_ERRORS,
    },
    async handler({ query }) {
      const list = await incidents.list({
        limit: query.limit,
        ...(query.state !== 'all' && { open: query.state === 'open' }),
      });
      return { incidents: list.map(incidentSummaryJson) };
    },
  });

  r.route({
    method: 'GET',
    url: '/api/v1/incidents/:id',
    summary: 'One incident with its components and public updates',
    tags: ['incidents'],
    access: 'incidents.read',
    params: idParams,
    responses: {
      200: { description: 'The incident', schema: incidentDetailSchema },
      404: { description: 'No such incident', schema: errorBodySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ params }) {
      return incidentDetailJson(await incidents.get(params.id));
    },
  });

  r.route({
    method: 'POST',
    url: '/api/v1/incidents/:id/updates',
    summary:
      'Publish an update (status, message, component statuses) everywhere: status page, feeds, banner, subscribers, Slack, social',
    tags: ['incidents'],
    access: 'incidents.update',
    params: idParams,
    body: updateSchema,
    responses: {
      201: { description: 'Published; the incident as it is now', schema: incidentDetailSchema },
      404: { description: 'No such incident', schema: errorBodySchema },
      409: {
        description: 'The status cannot follow the current one, or surfaces would disagree (inconsistent_update)',
        schema: errorBodySchema,
      },
      422: { description: 'Unknown component', schema: errorBodySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ params, body, actor, reply }) {
      const detail = await publish(actor, params.id, body);
      reply.code(201);
      return incidentDetailJson(detail);
    },
  });

  r.route({
    method: 'POST',
    url: '/api/v1/incidents/:id/notes',
    summary: 'Add an internal note to the timeline (never public)',
    tags: ['incidents'],
    access: 'incidents.note',
    params: idParams,
    body: z.strictObject({ message: z.string().trim().min(1, 'expected the note text').max(20_000) }),
    responses: {
      201: { description: 'Added', schema: timelineEventSchema },
      404: { description: 'No such incident', schema: errorBodySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ params, body, actor, reply }) {
      const event = await incidents.addNote(actor, params.id, body.message);
      reply.code(201);
      return timelineEventJson(event);
    },
  });

  r.route({
    method: 'GET',
    url: '/api/v1/incidents/:id/timeline',
    summary: 'Every fact of the incident in order: declarations, updates, notes, with actor and time',
    tags: ['incidents'],
    access: 'incidents.read',
    params: idParams,
    responses: {
      200: { description: 'The timeline, oldest first', schema: z.object({ events: z.array(timelineEventSchema) }) },
      404: { description: 'No such incident', schema: errorBodySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ params }) {
      return { events: (await incidents.timeline(params.id)).map(timelineEventJson) };
    },
  });
}
