import { sql } from 'kysely';
import type { Executor } from '../../db/database.js';
import { findTasks, type TaskRecord, taskLeadLabel } from '../outage/outage.repo.js';
import { PRIORITY_OF_TIER, type Tier } from '../outage/tiers.js';

/** What the lead queue shows for one lead. */
export interface QueueRow {
  id: string;
  name: string;
  email: string | null;
  company: string | null;
  ownerName: string | null;
  arrPotential: number | null;
  demoScheduledAt: number | null;
  tier: string | null;
  tierRule: string | null;
  outageStatus: string | null;
  outagePriority: string | null;
  fallbackSent: boolean;
  reEngagedAt: number | null;
  sequence: string | null;
  sequenceStep: number | null;
  sequenceState: string | null;
  stopReason: string | null;
}

export interface QueueIncident {
  id: string;
  name: string;
  status: string;
  leads: number;
  /** A drill: its tiers are the drill's (drill_leads), the leads were not tagged. */
  drill: boolean;
}

/** Incidents whose leads were tagged, and drills that rehearsed on them, newest first (the queue's choice of outage). */
export async function taggedIncidents(ex: Executor): Promise<QueueIncident[]> {
  const columns = ['incidents.id', 'incidents.name', 'incidents.status', 'incidents.declared_at'] as const;
  const [real, drills] = await Promise.all([
    ex
      .selectFrom('leads')
      .innerJoin('incidents', 'incidents.id', 'leads.outage_incident_id')
      .select([...columns, sql<number>`count(*)`.as('n')])
      .groupBy([...columns])
      .orderBy('incidents.declared_at', 'desc')
      .limit(20)
      .execute(),
    ex
      .selectFrom('drill_leads')
      .innerJoin('incidents', 'incidents.id', 'drill_leads.incident_id')
      .select([...columns, sql<number>`count(*)`.as('n')])
      .groupBy([...columns])
      .orderBy('incidents.declared_at', 'desc')
      .limit(20)
      .execute(),
  ]);
  return [...real.map((r) => ({ ...r, drill: false })), ...drills.map((r) => ({ ...r, drill: true }))]
    .sort((a, b) => Number(b.declared_at) - Number(a.declared_at) || (a.id < b.id ? 1 : -1))
    .slice(0, 20)
    .map((r) => ({ id: r.id, name: r.name, status: r.status, leads: Number(r.n), drill: r.drill }));
}

export async function tierCounts(ex: Executor, incidentId: string, drill = false): Promise<Record<string, number>> {
  const rows = drill
    ? await ex
        .selectFrom('drill_leads')
        .select(['tier', sql<number>`count(*)`.as('n')])
        .where('incident_id', '=', incidentId)
        .groupBy('tier')
        .execute()
    : await ex
        .selectFrom('leads')
        .select(['tier', sql<number>`count(*)`.as('n')])
        .where('outage_incident_id', '=', incidentId)
        .groupBy('tier')
        .execute();
  return Object.fromEntries(rows.map((r) => [r.tier ?? '-', Number(r.n)]));
}

/** The lead columns every queue row shows, real or drill. */
const QUEUE_LEAD_COLUMNS = [
  'leads.id',
  'leads.first_name',
  'leads.last_name',
  'leads.email',
  'leads.company',
  'users.name as owner_name',
  'leads.arr_potential',
  'leads.demo_scheduled_at',
] as const;

interface QueueLead {
  id: string;
  first_name: string | null;
  last_name: string | null;
  email: string | null;
  company: string | null;
  owner_name: string | null;
  arr_potential: number | string | null;
  demo_scheduled_at: number | string | null;
}

function queueLead(
  r: QueueLead,
): Pick<QueueRow, 'id' | 'name' | 'email' | 'company' | 'ownerName' | 'arrPotential' | 'demoScheduledAt'> {
  return {
    id: r.id,
    name: [r.first_name, r.last_name].filter(Boolean).join(' ') || (r.email ?? r.id),
    email: r.email,
    company: r.company,
    ownerName: r.owner_name,
    arrPotential: r.arr_potential === null ? null : Number(r.arr_potential),
    demoScheduledAt: r.demo_scheduled_at === null ? null : Number(r.demo_scheduled_at),
  };
}

/** Hottest first: a demo soonest, then ARR potential (the same order for real and drill queues). */
const HOTTEST_FIRST = [
  sql`case when leads.demo_scheduled_at is null then 1 else 0 end`,
  sql`leads.demo_scheduled_at`,
  sql`leads.arr_potential desc`,
  sql`leads.id`,
];

/**
 * The leads of one tier of an outage, hottest first (demo soonest, then ARR potential). For a
 * drill, the tier and rule are the drill's; the lead's own outage fields are not shown (a real
 * outage's, if any).
 */
export async function queue(
  ex: Executor,
  filter: { incidentId: string; tier: string; limit: number; drill?: boolean },
): Promise<QueueRow[]> {
  if (filter.drill) {
    const rows = await ex
      .selectFrom('drill_leads')
      .innerJoin('leads', 'leads.id', 'drill_leads.lead_id')
      .leftJoin('users', 'users.id', 'leads.owner_id')
      .select([...QUEUE_LEAD_COLUMNS, 'drill_leads.tier', 'drill_leads.rule'])
      .where('drill_leads.incident_id', '=', filter.incidentId)
      .where('drill_leads.tier', '=', filter.tier)
      .orderBy(HOTTEST_FIRST)
      .limit(filter.limit)
      .execute();
    return rows.map((r) => ({
      ...queueLead(r),
      tier: r.tier,
      tierRule: r.rule,
      outageStatus: 'drill',
      outagePriority: PRIORITY_OF_TIER[r.tier as Tier] ?? null,
      fallbackSent: false,
      reEngagedAt: null,
      sequence: null,
      sequenceStep: null,
      sequenceState: null,
      stopReason: null,
    }));
  }
  const rows = await ex
    .selectFrom('leads')
    .leftJoin('users', 'users.id', 'leads.owner_id')
    .leftJoin('enrollments', (j) =>
      j.onRef('enrollments.lead_id', '=', 'leads.id').onRef('enrollments.incident_id', '=', 'leads.outage_incident_id'),
    )
    .select([
      ...QUEUE_LEAD_COLUMNS,
      'leads.tier',
      'leads.tier_rule',
      'leads.outage_status',
      'leads.outage_priority',
      'leads.fallback_sent',
      'leads.re_engaged_at',
      'enrollments.sequence',
      'enrollments.step',
      'enrollments.state as sequence_state',
      'enrollments.stop_reason',
    ])
    .where('leads.outage_incident_id', '=', filter.incidentId)
    .where('leads.tier', '=', filter.tier)
    .orderBy(HOTTEST_FIRST)
    .limit(filter.limit)
    .execute();
  return rows.map((r) => ({
    ...queueLead(r),
    tier: r.tier,
    tierRule: r.tier_rule,
    outageStatus: r.outage_status,
    outagePriority: r.outage_priority,
    fallbackSent: r.fallback_sent === true || r.fallback_sent === 1,
    reEngagedAt: r.re_engaged_at === null ? null : Number(r.re_engaged_at),
    sequence: r.sequence,
    sequenceStep: r.step === null ? null : Number(r.step),
    sequenceState: r.sequence_state,
    stopReason: r.stop_reason,
  }));
}

/** A task as the console lists it: the shared task record, its lead with a display name. */
export type TaskRow = Omit<TaskRecord, 'lead'> & { lead: TaskRecord['lead'] & { name: string } };

/** Open tasks (soonest due first) and the latest done ones, for one owner or everyone. */
export async function tasks(
  ex: Executor,
  filter: { ownerId: string | null; state: 'open' | 'done'; limit: number },
): Promise<TaskRow[]> {
  const records = await findTasks(ex, {
    owner: filter.ownerId ?? undefined,
    state: filter.state,
    order: filter.state === 'open' ? 'due' : 'recently_done',
    limit: filter.limit,
  });
  return records.map((t) => ({ ...t, lead: { ...t.lead, name: taskLeadLabel(t.lead) } }));
}
