import { z } from 'zod';
import { toIso, toIsoOrNull } from '../core/clock.js';
import type { Component } from './components.repo.js';
import { COMPONENT_KINDS, COMPONENT_STATUSES, IMPACTS, INCIDENT_STATUSES, outageChannel } from './incident.js';
import type { IncidentRecord, TimelineEvent } from './incidents.repo.js';
import type { IncidentDetail } from './incidents.service.js';

/** JSON shapes of the management API (snake_case, ISO-8601 UTC times), with their schemas. */

export const componentJsonSchema = z.object({
  id: z.string(),
  name: z.string(),
  kind: z.enum(COMPONENT_KINDS),
  group: z.string().nullable(),
  description: z.string().nullable(),
  position: z.number().int(),
  status: z.enum(COMPONENT_STATUSES),
  only_show_if_degraded: z.boolean(),
  created_at: z.string(),
  updated_at: z.string(),
});

export function componentJson(c: Component): z.output<typeof componentJsonSchema> {
  return {
    id: c.id,
    name: c.name,
    kind: c.kind,
    group: c.group,
    description: c.description,
    position: c.position,
    status: c.status,
    only_show_if_degraded: c.onlyShowIfDegraded,
    created_at: toIso(c.createdAt),
    updated_at: toIso(c.updatedAt),
  };
}

const times = {
  started_at: z.string(),
  detected_at: z.string(),
  declared_at: z.string(),
  acknowledged_at: z.string().nullable(),
  monitoring_at: z.string().nullable(),
  resolved_at: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string(),
};

export const incidentSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  status: z.enum(INCIDENT_STATUSES),
  impact: z.enum(IMPACTS),
  drill: z.boolean(),
  scope: z.union([z.literal('global'), z.array(z.string())]),
  ...times,
});

export const timelineEventSchema = z.object({
  id: z.string(),
  at: z.string(),
  type: z.string(),
  public: z.boolean(),
  actor: z.object({ type: z.string(), id: z.string().nullable(), name: z.string().nullable() }),
  data: z.record(z.string(), z.unknown()),
});

export const incidentDetailSchema = incidentSummarySchema.extend({
  commander: z.object({ id: z.string(), name: z.string(), email: z.string() }).nullable(),
  channels: z.array(z.enum(['CDN', 'API', 'Auth', 'Third-party'])),
  components: z.array(
    z.object({ id: z.string(), name: z.string(), kind: z.enum(COMPONENT_KINDS), status: z.enum(COMPONENT_STATUSES) }),
  ),
  updates: z.array(
    z.object({
      id: z.string(),
      at: z.string(),
      status: z.enum(INCIDENT_STATUSES),
      message: z.string(),
      actor: z.string().nullable(),
      affected_components: z.array(
        z.object({ id: z.string(), name: z.string(), old_status: z.string(), new_status: z.string() }),
      ),
    }),
  ),
});

export function incidentSummaryJson(i: IncidentRecord): z.output<typeof incidentSummarySchema> {
  return {
    id: i.id,
    name: i.name,
    status: i.status,
    impact: i.impact,
    drill: i.drill,
    scope: i.scope,
    started_at: toIso(i.startedAt),
    detected_at: toIso(i.detectedAt),
    declared_at: toIso(i.declaredAt),
    acknowledged_at: toIsoOrNull(i.acknowledgedAt),
    monitoring_at: toIsoOrNull(i.monitoringAt),
    resolved_at: toIsoOrNull(i.resolvedAt),
    created_at: toIso(i.createdAt),
    updated_at: toIso(i.updatedAt),
  };
}

export function incidentDetailJson(d: IncidentDetail): z.output<typeof incidentDetailSchema> {
  return {
    ...incidentSummaryJson(d.incident),
    commander: d.commander,
    channels: [...new Set(d.components.map((c) => outageChannel(c.component.kind)))],
    components: d.components.map((c) => ({
      id: c.component.id,
      name: c.component.name,
      kind: c.component.kind,
      status: c.status,
    })),
    updates: d.updates.map((u) => ({
      id: u.id,
      at: toIso(u.at),
      status: u.data.status,
      message: u.data.message,
      actor: u.actor.name,
      affected_components: u.data.affected_components,
    })),
  };
}

export function timelineEventJson(e: TimelineEvent): z.output<typeof timelineEventSchema> {
  return { id: e.id, at: toIso(e.at), type: e.type, public: e.public, actor: e.actor, data: e.data };
}
