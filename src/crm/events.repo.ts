import { sql } from 'kysely';
import { fromDbBool, toDbBool } from '../db/codec.js';
import type { Executor } from '../db/database.js';
import type { NewRow } from '../db/schema.js';
import type { IncidentWindow } from './events.js';
import { existingLeadIds, findLeadIdsByEmail } from './leads.repo.js';

export async function resolveLeads(
  db: Executor,
  ids: readonly string[],
  emails: readonly string[],
): Promise<{ byId: Set<string>; byEmail: Map<string, string> }> {
  return { byId: await existingLeadIds(db, ids), byEmail: await findLeadIdsByEmail(db, emails) };
}

/**
 * Inserts the events; a messageId already stored (by an earlier batch, or by a concurrent one that
 * committed first) is skipped. Rows go in messageId order, so two concurrent batches with the same
 * ids take the unique index's locks in the same order (no deadlock on PostgreSQL). Returns the
 * messageIds actually stored.
 */
export async function insertEvents(trx: Executor, rows: ReadonlyArray<NewRow<'intent_events'>>): Promise<Set<string>> {
  const sorted = [...rows].sort((a, b) => (a.message_id < b.message_id ? -1 : a.message_id > b.message_id ? 1 : 0));
  const inserted = new Set<string>();
  for (let i = 0; i < sorted.length; i += 500) {
    const result = await trx
      .insertInto('intent_events')
      .values(sorted.slice(i, i + 500))
      .onConflict((oc) => oc.column('message_id').doNothing())
      .returning('message_id')
      .execute();
    for (const r of result) inserted.add(r.message_id);
  }
  return inserted;
}

/** Incidents (drills too) whose window overlaps from..to. */
export async function incidentWindows(db: Executor, from: number, to: number): Promise<IncidentWindow[]> {
  const rows = await db
    .selectFrom('incidents')
    .select(['id', 'drill', 'started_at', 'resolved_at'])
    .where('started_at', '<=', to)
    .where((eb) => eb.or([eb('resolved_at', 'is', null), eb('resolved_at', '>=', from)]))
    .execute();
  return rows.map((r) => ({
    id: r.id,
    drill: fromDbBool(r.drill),
    start: Number(r.started_at),
    end: r.resolved_at === null ? null : Number(r.resolved_at),
  }));
}

/**
 * Tags the events from the incident's start until `until` (its declaration) that no incident claims
 * yet, or only a drill when this one is real: events that arrived before it was declared. Both
 * updates go through the (incident_id, at) index.
 */
export async function tagEventsOf(trx: Executor, incidentId: string, until: number): Promise<number> {
  const incident = await trx
    .selectFrom('incidents')
    .select(['drill', 'started_at', 'resolved_at'])
    .where('id', '=', incidentId)
    .executeTakeFirst();
  if (!incident) return 0;
  const drill = fromDbBool(incident.drill);
  const from = Number(incident.started_at);
  const to = incident.resolved_at === null ? until : Math.min(until, Number(incident.resolved_at));
  const tag = { incident_id: incidentId, incident_drill: toDbBool(drill) };
  const untagged = await trx
    .updateTable('intent_events')
    .set(tag)
    .where('incident_id', 'is', null)
    .where('at', '>=', from)
    .where('at', '<=', to)
    .executeTakeFirst();
  let tagged = Number(untagged.numUpdatedRows ?? 0);
  if (!drill) {
    const drills = (await incidentWindows(trx, from, to)).filter((w) => w.drill && w.id !== incidentId).map((w) => w.id);
    if (drills.length > 0) {
      const fromDrills = await trx
        .updateTable('intent_events')
        .set(tag)
        .where('incident_id', 'in', drills)
        .where('at', '>=', from)
        .where('at', '<=', to)
        .executeTakeFirst();
      tagged += Number(fromDrills.numUpdatedRows ?? 0);
    }
  }
  return tagged;
}

export interface EventFilter {
  incidentId?: string | undefined;
  leadId?: string | undefined;
  type?: string | undefined;
  source?: string | undefined;
  /** Only events attributed to some incident (true) or to none (false). */
  attributed?: boolean | undefined;
  /** Cursor: the id of the last event of the previous page. */
  before?: string | undefined;
  limit: number;
}

export interface EventRow {
  id: string;
  message_id: string;
  type: string;
  lead_id: string | null;
  lead_email: string | null;
  email: string | null;
  anonymous_id: string | null;
  product: string | null;
  value: number | null;
  properties: string;
  at: number;
  received_at: number;
  source: string;
  incident_id: string | null;
  incident_drill: boolean | null;
  incident_name: string | null;
}

/** Events, most recently received first. */
export async function listEvents(db: Executor, filter: EventFilter): Promise<EventRow[]> {
  let q = db
    .selectFrom('intent_events as e')
    .leftJoin('incidents as i', 'i.id', 'e.incident_id')
    .leftJoin('leads as l', 'l.id', 'e.lead_id')
    .select([
      'e.id',
      'e.message_id',
      'e.type',
      'e.lead_id',
      'l.email as lead_email',
      'e.email',
      'e.anonymous_id',
      'e.product',
      'e.value',
      'e.properties',
      'e.at',
      'e.received_at',
      'e.source',
      'e.incident_id',
      'e.incident_drill',
      'i.name as incident_name',
    ])
    .orderBy('e.id', 'desc')
    .limit(filter.limit);
  if (filter.incidentId !== undefined) q = q.where('e.incident_id', '=', filter.incidentId);
  if (filter.leadId !== undefined) q = q.where('e.lead_id', '=', filter.leadId);
  if (filter.type !== undefined) q = q.where('e.type', '=', filter.type);
  if (filter.source !== undefined) q = q.where('e.source', '=', filter.source);
  if (filter.attributed !== undefined) q = q.where('e.incident_id', filter.attributed ? 'is not' : 'is', null);
  if (filter.before !== undefined) q = q.where('e.id', '<', filter.before);
  const rows = await q.execute();
  return rows.map((r) => ({
    ...r,
    value: r.value === null ? null : Number(r.value),
    at: Number(r.at),
    received_at: Number(r.received_at),
    incident_drill: r.incident_id === null ? null : fromDbBool(r.incident_drill),
  }));
}

export interface IncidentEventSummary {
  incident_id: string;
  name: string;
  drill: boolean;
  status: string;
  started_at: number;
  resolved_at: number | null;
  events: number;
  /** Received after the incident was resolved: held by the SDK's buffer and delivered on recovery. */
  delivered_after: number;
  matched: number;
}

/** Per incident (most recent first): its events, how many arrived after it ended, how many matched a lead. */
export async function incidentSummaries(db: Executor, limit: number): Promise<IncidentEventSummary[]> {
  const rows = await db
    .selectFrom('intent_events as e')
    .innerJoin('incidents as i', 'i.id', 'e.incident_id')
    .select((eb) => [
      'i.id',
      'i.name',
      'i.drill',
      'i.status',
      'i.started_at',
      'i.resolved_at',
      eb.fn.countAll<number | string>().as('events'),
      eb.fn
        .sum<number | string | null>(
          eb
            .case()
            .when(eb.and([eb('i.resolved_at', 'is not', null), eb('e.received_at', '>', eb.ref('i.resolved_at'))]))
            .then(1)
            .else(0)
            .end(),
        )
        .as('delivered_after'),
      eb.fn.count<number | string>('e.lead_id').as('matched'),
    ])
    .groupBy(['i.id', 'i.name', 'i.drill', 'i.status', 'i.started_at', 'i.resolved_at'])
    .orderBy('i.started_at', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    incident_id: r.id,
    name: r.name,
    drill: fromDbBool(r.drill),
    status: r.status,
    started_at: Number(r.started_at),
    resolved_at: r.resolved_at === null ? null : Number(r.resolved_at),
    events: Number(r.events),
    delivered_after: Number(r.delivered_after ?? 0),
    matched: Number(r.matched),
  }));
}

export interface LeadState {
  last_activity_at: number | null;
  outage_status: string | null;
  re_engaged_at: number | null;
}

export async function leadStates(db: Executor, ids: readonly string[]): Promise<Map<string, LeadState>> {
  const out = new Map<string, LeadState>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db
      .selectFrom('leads')
      .select(['id', 'last_activity_at', 'outage_status', 're_engaged_at'])
      .where('id', 'in', ids.slice(i, i + 500))
      .execute();
    for (const r of rows)
      out.set(r.id, {
        last_activity_at: r.last_activity_at === null ? null : Number(r.last_activity_at),
        outage_status: r.outage_status,
        re_engaged_at: r.re_engaged_at === null ? null : Number(r.re_engaged_at),
      });
  }
  return out;
}

export interface LeadActivityChanges {
  last_activity_at?: number;
  cart_value?: number;
  demo_scheduled_at?: number;
  re_engaged_at?: number;
}

/**
 * The leads' activity changes of one batch, set-based: one UPDATE per column (a CASE over the lead
 * ids) instead of one per lead. re_engaged_at is set only where still empty (first time only, even
 * if another writer, a reply or a click, set it meanwhile).
 */
export async function updateLeadsActivity(
  trx: Executor,
  changes: ReadonlyMap<string, LeadActivityChanges>,
  now: number,
): Promise<void> {
  const columns = ['last_activity_at', 'cart_value', 'demo_scheduled_at'] as const;
  for (const column of columns) {
    const pairs: Array<[string, number]> = [];
    for (const [id, c] of changes) {
      const value = c[column];
      if (value !== undefined) pairs.push([id, value]);
    }
    for (let i = 0; i < pairs.length; i += 400) {
      const chunk = pairs.slice(i, i + 400);
      // Cast: PostgreSQL would otherwise type the CASE's parameters as text.
      const cases = sql.join(
        chunk.map(([id, value]) => sql`when ${id} then cast(${value} as bigint)`),
        sql` `,
      );
      await trx
        .updateTable('leads')
        .set({ [column]: sql<number>`case id ${cases} end`, updated_at: now })
        .where(
          'id',
          'in',
          chunk.map(([id]) => id),
        )
        .execute();
    }
  }
  for (const [id, c] of changes) {
    if (c.re_engaged_at === undefined) continue;
    await trx
      .updateTable('leads')
      .set({ re_engaged_at: c.re_engaged_at, updated_at: now })
      .where('id', '=', id)
      .where('re_engaged_at', 'is', null)
      .execute();
  }
}
