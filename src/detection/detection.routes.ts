import { z } from 'zod';
import { errorBodySchema, STANDARD_ERRORS } from '../app/openapi.js';
import type { Router } from '../app/router.js';
import type { Services } from '../app/services.js';
import { toIso, toIsoOrNull } from '../core/clock.js';
import { listComponents } from '../incidents/components.repo.js';
import * as repo from './detection.repo.js';

export const probeResultsSchema = z.strictObject({
  region: z.string().trim().min(1).max(100),
  results: z
    .array(
      z.strictObject({
        monitor_id: z.string().min(1),
        ok: z.boolean(),
        degraded: z.boolean().default(false),
        latency_ms: z.number().min(0).max(600_000),
        error: z.string().max(500).optional(),
        status_code: z.number().int().optional(),
      }),
    )
    .max(5000),
});

/** Probe results from agents, assignments for them, component health, detections to decide. */
export function registerDetectionRoutes(r: Router, services: Services): void {
  const { detection, db, clock } = services;

  r.route({
    method: 'GET',
    url: '/api/v1/agents/assignments',
    summary: 'The monitors an agent in a region runs (polled by `keepwarm agent`)',
    tags: ['detection'],
    access: 'probes.report',
    query: z.object({ region: z.string().trim().min(1) }),
    responses: {
      200: {
        description: 'Monitors for the region',
        schema: z.object({ region: z.string(), monitors: z.array(z.record(z.string(), z.unknown())) }),
      },
      ...STANDARD_ERRORS,
    },
    async handler({ query }) {
      return {
        region: query.region,
        monitors: (await detection.assignments(query.region)) as unknown as Array<Record<string, unknown>>,
      };
    },
  });

  r.route({
    method: 'POST',
    url: '/api/v1/probe-results',
    summary: 'Report check results from a region; confirmed changes re-evaluate health at once',
    tags: ['detection'],
    access: 'probes.report',
    body: probeResultsSchema,
    responses: {
      200: { description: 'Applied', schema: z.object({ applied: z.number(), unknown: z.number(), transitions: z.number() }) },
      ...STANDARD_ERRORS,
    },
    async handler({ body }) {
      // Stamped with the server's clock: agents' clocks may drift; order within a batch is kept.
      const now = clock.now();
      return detection.recordResults(
        body.region,
        body.results.map((res, i) => ({
          monitorId: res.monitor_id,
          at: now - (body.results.length - 1 - i),
          ok: res.ok,
          degraded: res.degraded,
          latencyMs: res.latency_ms,
          error: res.error,
          statusCode: res.status_code,
        })),
      );
    },
  });

  r.route({
    method: 'GET',
    url: '/api/v1/health',
    summary: 'Every component across regions and sources: health, monitors per region, firing signals',
    tags: ['detection'],
    access: 'monitors.read',
    responses: {
      200: { description: 'Health', schema: z.object({ components: z.array(z.record(z.string(), z.unknown())) }) },
      ...STANDARD_ERRORS,
    },
    async handler() {
      const [components, health, monitors, states, signals] = await Promise.all([
        listComponents(db.kysely),
        repo.listHealth(db.kysely),
        repo.listMonitors(db.kysely),
        repo.listStates(db.kysely),
        repo.firingSignals(db.kysely),
      ]);
      return {
        components: components.map((c) => {
          const h = health.get(c.id);
          return {
            id: c.id,
            name: c.name,
            kind: c.kind,
            status: h?.status ?? 'operational',
            scope: h?.scope ?? 'global',
            reasons: h?.reasons ?? [],
            since: toIsoOrNull(h?.since ?? null),
            monitors: monitors
              .filter((m) => m.componentId === c.id)
              .map((m) => ({
                id: m.id,
                name: m.name,
                regions: states
                  .filter((s) => s.monitorId === m.id)
                  .map((s) => ({
                    region: s.region,
                    state: s.state,
                    degraded: s.degraded,
                    last_result_at: toIso(s.lastResultAt),
                    last_error: s.lastError,
                  })),
              })),
            signals: signals
              .filter((s) => s.componentId === c.id)
              .map((s) => ({ source: s.source, summary: s.summary, since: toIso(s.firstAt) })),
          };
        }),
      };
    },
  });

  const signalSchema = z.object({
    id: z.string(),
    source: z.string(),
    fingerprint: z.string(),
    component_id: z.string().nullable(),
    region: z.string().nullable(),
    state: z.enum(['firing', 'resolved']),
    severity: z.enum(['down', 'degraded']),
    summary: z.string(),
    first_at: z.string(),
    last_at: z.string(),
    resolved_at: z.string().nullable(),
  });

  r.route({
    method: 'GET',
    url: '/api/v1/signals',
    summary: 'Alerts, upstream statuses and beacon signals, newest first (unmapped ones have no component)',
    tags: ['detection'],
    access: 'monitors.read',
    query: z.object({
      state: z.enum(['firing', 'resolved']).optional(),
      limit: z.coerce.number().int().min(1).max(1000).default(100),
    }),
    responses: { 200: { description: 'Signals', schema: z.object({ signals: z.array(signalSchema) }) }, ...STANDARD_ERRORS },
    async handler({ query }) {
      const list = await repo.listSignals(db.kysely, { limit: query.limit, ...(query.state && { state: query.state }) });
      return {
        signals: list.map((s) => ({
          id: s.id,
          source: s.source,
          fingerprint: s.fingerprint,
          component_id: s.componentId,
          region: s.region,
          state: s.state,
          severity: s.severity,
          summary: s.summary,
          first_at: toIso(s.firstAt),
          last_at: toIso(s.lastAt),
          resolved_at: toIsoOrNull(s.resolvedAt),
        })),
      };
    },
  });

  r.route({
    method: 'POST',
    url: '/api/v1/signals/:id/resolve',
    summary: 'Close a firing signal by hand, when its source will never send the resolution',
    tags: ['detection'],
    access: 'detections.decide',
    params: z.object({ id: z.string() }),
    responses: {
      204: { description: 'Resolved' },
      404: { description: 'No firing signal with that id', schema: errorBodySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ params, actor, reply }) {
      await detection.resolveSignal(actor, params.id);
      return reply.code(204).send();
    },
  });

  const detectionSchema = z.object({
    id: z.string(),
    state: z.string(),
    components: z.array(z.object({ id: z.string(), status: z.string() })),
    scope: z.union([z.literal('global'), z.array(z.string())]),
    summary: z.string(),
    first_failure_at: z.string(),
    created_at: z.string(),
    confirm_by: z.string().nullable(),
    incident_id: z.string().nullable(),
  });
  const detectionJson = (d: repo.Detection) => ({
    id: d.id,
    state: d.state,
    components: d.components,
    scope: d.scope,
    summary: d.summary,
    first_failure_at: toIso(d.firstFailureAt),
    created_at: toIso(d.createdAt),
    confirm_by: toIsoOrNull(d.confirmBy),
    incident_id: d.incidentId,
  });

  r.route({
    method: 'GET',
    url: '/api/v1/detections',
    summary: 'Outages detected, newest first: suggested, declared, dismissed, recovered',
    tags: ['detection'],
    access: 'incidents.read',
    query: z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }),
    responses: {
      200: { description: 'Detections', schema: z.object({ detections: z.array(detectionSchema) }) },
      ...STANDARD_ERRORS,
    },
    async handler({ query }) {
      return { detections: (await repo.listDetections(db.kysely, query.limit)).map(detectionJson) };
    },
  });

  r.route({
    method: 'POST',
    url: '/api/v1/detections/:id/confirm',
    summary: 'Confirm a suggested outage: the incident is declared now, with the caller in command',
    tags: ['detection'],
    access: 'detections.decide',
    params: z.object({ id: z.string() }),
    responses: {
      201: { description: 'Declared', schema: z.object({ incident_id: z.string() }) },
      404: { description: 'No such detection', schema: errorBodySchema },
      409: { description: 'Already declared, dismissed or recovered', schema: errorBodySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ params, actor, reply }) {
      const incidentId = await detection.confirm(actor, params.id);
      reply.code(201);
      return { incident_id: incidentId };
    },
  });

  r.route({
    method: 'POST',
    url: '/api/v1/detections/:id/dismiss',
    summary: 'Dismiss a suggested outage (a false alarm): nothing is declared',
    tags: ['detection'],
    access: 'detections.decide',
    params: z.object({ id: z.string() }),
    responses: {
      204: { description: 'Dismissed' },
      404: { description: 'No such detection', schema: errorBodySchema },
      409: { description: 'Already decided', schema: errorBodySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ params, actor, reply }) {
      await detection.dismiss(actor, params.id);
      return reply.code(204).send();
    },
  });
}
