import type { Actor } from '../app/actor.js';
import { newId } from '../core/ids.js';
import { fromDbBool, fromDbJson, toDbBool, toDbJson } from '../db/codec.js';
import type { Database, Executor } from '../db/database.js';
import type { NewRow, Row } from '../db/schema.js';
import type { ComponentStatus, Impact, IncidentStatus, Scope } from './incident.js';

export interface IncidentRecord {
  id: string;
  name: string;
  status: IncidentStatus;
  impact: Impact;
  commanderId: string | null;
  scope: Scope;
  drill: boolean;
  startedAt: number;
  detectedAt: number;
  declaredAt: number;
  acknowledgedAt: number | null;
  monitoringAt: number | null;
  resolvedAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface IncidentComponentRecord {
  incidentId: string;
  componentId: string;
  status: ComponentStatus;
  addedAt: number;
}

export interface TimelineEvent<D = Record<string, unknown>> {
  id: string;
  incidentId: string;
  at: number;
  type: string;
  actor: { type: string; id: string | null; name: string | null };
  public: boolean;
  data: D;
}

export function toIncident(row: Row<'incidents'>): IncidentRecord {
  return {
    id: row.id,
    name: row.name,
    status: row.status as IncidentStatus,
    impact: row.impact as Impact,
    commanderId: row.commander_id,
    scope: fromDbJson<Scope>(row.scope, 'global'),
    drill: fromDbBool(row.drill),
    startedAt: row.started_at,
    detectedAt: row.detected_at,
    declaredAt: row.declared_at,
    acknowledgedAt: row.acknowledged_at,
    monitoringAt: row.monitoring_at,
    resolvedAt: row.resolved_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function toEvent(row: Row<'incident_events'>): TimelineEvent {
  return {
    id: row.id,
    incidentId: row.incident_id,
    at: row.at,
    type: row.type,
    actor: { type: row.actor_type, id: row.actor_id, name: row.actor_name },
    public: fromDbBool(row.public),
    data: fromDbJson(row.data, {}),
  };
}

export async function insertIncident(ex: Executor, row: NewRow<'incidents'>): Promise<void> {
  await ex.insertInto('incidents').values(row).execute();
}

/** Load an incident; on PostgreSQL inside a transaction, lock it against concurrent updates. */
export async function findIncident(ex: Executor, id: string, lock?: Database['dialect']): Promise<IncidentRecord | undefined> {
  let q = ex.selectFrom('incidents').selectAll().where('id', '=', id);
  if (lock === 'postgres') q = q.forUpdate();
  const row = await q.executeTakeFirst();
  return row ? toIncident(row) : undefined;
}

export async function updateIncident(
  ex: Executor,
  id: string,
  patch: Partial<Omit<NewRow<'incidents'>, 'id' | 'created_at'>>,
): Promise<void> {
  await ex.updateTable('incidents').set(patch).where('id', '=', id).execute();
}

export async function listIncidents(
  ex: Executor,
  filter: { open?: boolean; limit: number; includeDrills?: boolean; acknowledgedOnly?: boolean },
): Promise<IncidentRecord[]> {
  let q = ex.selectFrom('incidents').selectAll().orderBy('declared_at', 'desc').orderBy('id', 'desc').limit(filter.limit);
  if (filter.open === true) q = q.where('resolved_at', 'is', null);
  if (filter.open === false) q = q.where('resolved_at', 'is not', null);
  if (filter.includeDrills === false) q = q.where('drill', '=', toDbBool(false));
  if (filter.acknowledgedOnly) q = q.where('acknowledged_at', 'is not', null);
  return (await q.execute()).map(toIncident);
}

export async function listIncidentComponents(ex: Executor, incidentIds: readonly string[]): Promise<IncidentComponentRecord[]> {
  if (incidentIds.length === 0) return [];
  const rows = await ex
    .selectFrom('incident_components')
    .selectAll()
    .where('incident_id', 'in', incidentIds)
    .orderBy('added_at')
    .execute();
  return rows.map((r) => ({
    incidentId: r.incident_id,
    componentId: r.component_id,
    status: r.status as ComponentStatus,
    addedAt: r.added_at,
  }));
}

export async function upsertIncidentComponent(
  ex: Executor,
  incidentId: string,
  componentId: string,
  status: ComponentStatus,
  now: number,
): Promise<void> {
  await ex
    .insertInto('incident_components')
    .values({ incident_id: incidentId, component_id: componentId, status, added_at: now })
    .onConflict((oc) => oc.columns(['incident_id', 'component_id']).doUpdateSet({ status }))
    .execute();
}

/** The statuses a component has in every open incident (to derive its overall status). */
export async function openStatusesOfComponent(ex: Executor, componentId: string): Promise<ComponentStatus[]> {
  const rows = await ex
    .selectFrom('incident_components')
    .innerJoin('incidents', 'incidents.id', 'incident_components.incident_id')
    .select('incident_components.status')
    .where('incident_components.component_id', '=', componentId)
    .where('incidents.resolved_at', 'is', null)
    .execute();
  return rows.map((r) => r.status as ComponentStatus);
}

export async function appendEvent(
  ex: Executor,
  input: { incidentId: string; at: number; type: string; actor: Actor; public: boolean; data: Record<string, unknown> },
): Promise<string> {
  const id = newId(input.at);
  await ex
    .insertInto('incident_events')
    .values({
      id,
      incident_id: input.incidentId,
      at: input.at,
      type: input.type,
      actor_type: input.actor.type,
      actor_id: input.actor.id,
      actor_name: input.actor.name,
      public: toDbBool(input.public),
      data: toDbJson(input.data),
    })
    .execute();
  return id;
}

export async function listEvents(
  ex: Executor,
  incidentIds: readonly string[],
  filter: { publicOnly?: boolean } = {},
): Promise<TimelineEvent[]> {
  if (incidentIds.length === 0) return [];
  let q = ex.selectFrom('incident_events').selectAll().where('incident_id', 'in', incidentIds).orderBy('id');
  if (filter.publicOnly) q = q.where('public', '=', toDbBool(true));
  return (await q.execute()).map(toEvent);
}
