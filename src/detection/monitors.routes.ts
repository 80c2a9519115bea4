import { z } from 'zod';
import { errorBodySchema, STANDARD_ERRORS } from '../app/openapi.js';
import type { Router } from '../app/router.js';
import { toIso } from '../core/clock.js';
import type { Monitor } from './detection.repo.js';
import { MONITOR_TYPES } from './monitor.js';
import type { MonitorService } from './monitors.service.js';

export const monitorInputSchema = z.strictObject({
  component: z.string().min(1).describe('Component id or name'),
  name: z.string().trim().min(1).max(200),
  type: z.enum(MONITOR_TYPES),
  check: z
    .record(z.string(), z.unknown())
    .describe(
      'By type: http {url, method, headers, expectStatus, bodyContains, jsonPath, jsonEquals, timeoutMs, degradedMs}; tls {host, port, minDaysLeft}; dns {hostname, recordType, expect}',
    ),
  interval_seconds: z.number().min(5, 'at least 5 seconds').max(86_400),
  regions: z.array(z.string().trim().min(1)).default(['*']).describe('Regions that run it; "*" for every region'),
  failures_to_down: z.number().int().min(1).max(20).optional(),
  successes_to_up: z.number().int().min(1).max(20).optional(),
  enabled: z.boolean().optional(),
});

const monitorSchema = z.object({
  id: z.string(),
  component_id: z.string(),
  name: z.string(),
  type: z.enum(MONITOR_TYPES),
  check: z.record(z.string(), z.unknown()),
  interval_seconds: z.number(),
  regions: z.array(z.string()),
  failures_to_down: z.number(),
  successes_to_up: z.number(),
  enabled: z.boolean(),
  created_at: z.string(),
  updated_at: z.string(),
});

export function monitorJson(m: Monitor): z.output<typeof monitorSchema> {
  return {
    id: m.id,
    component_id: m.componentId,
    name: m.name,
    type: m.type,
    check: m.check as Record<string, unknown>,
    interval_seconds: m.intervalMs / 1000,
    regions: m.regions,
    failures_to_down: m.failuresToDown,
    successes_to_up: m.successesToUp,
    enabled: m.enabled,
    created_at: toIso(m.createdAt),
    updated_at: toIso(m.updatedAt),
  };
}

export function registerMonitorRoutes(r: Router, monitors: MonitorService): void {
  const idParams = z.object({ id: z.string() });
  const responses = {
    422: { description: 'Unknown component, or a check that does not fit its type', schema: errorBodySchema },
    ...STANDARD_ERRORS,
  };
  r.route({
    method: 'POST',
    url: '/api/v1/monitors',
    summary: 'Create a monitor (HTTP, TLS expiry or DNS) for a component',
    tags: ['detection'],
    access: 'monitors.write',
    body: monitorInputSchema,
    responses: { 201: { description: 'Created', schema: monitorSchema }, ...responses },
    async handler({ body, actor, reply }) {
      const created = await monitors.create(actor, body);
      reply.code(201).header('location', `/api/v1/monitors/${created.id}`);
      return monitorJson(created);
    },
  });
  r.route({
    method: 'GET',
    url: '/api/v1/monitors',
    summary: 'List monitors',
    tags: ['detection'],
    access: 'monitors.read',
    query: z.object({ component_id: z.string().optional() }),
    responses: { 200: { description: 'Monitors', schema: z.object({ monitors: z.array(monitorSchema) }) }, ...STANDARD_ERRORS },
    async handler({ query }) {
      return { monitors: (await monitors.list(query.component_id ? { componentId: query.component_id } : {})).map(monitorJson) };
    },
  });
  r.route({
    method: 'GET',
    url: '/api/v1/monitors/:id',
    summary: 'One monitor',
    tags: ['detection'],
    access: 'monitors.read',
    params: idParams,
    responses: {
      200: { description: 'The monitor', schema: monitorSchema },
      404: { description: 'No such monitor', schema: errorBodySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ params }) {
      return monitorJson(await monitors.get(params.id));
    },
  });
  r.route({
    method: 'PUT',
    url: '/api/v1/monitors/:id',
    summary: 'Replace a monitor',
    tags: ['detection'],
    access: 'monitors.write',
    params: idParams,
    body: monitorInputSchema,
    responses: {
      200: { description: 'Replaced', schema: monitorSchema },
      404: { description: 'No such monitor', schema: errorBodySchema },
      ...responses,
    },
    async handler({ params, body, actor }) {
      return monitorJson(await monitors.update(actor, params.id, body));
    },
  });
  r.route({
    method: 'DELETE',
    url: '/api/v1/monitors/:id',
    summary: 'Delete a monitor and its history',
    tags: ['detection'],
    access: 'monitors.write',
    params: idParams,
    responses: {
      204: { description: 'Deleted' },
      404: { description: 'No such monitor', schema: errorBodySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ params, actor, reply }) {
      await monitors.remove(actor, params.id);
      return reply.code(204).send();
    },
  });
}
