import { sql } from 'kysely';
import type { Executor } from '../../db/database.js';

/** The room's roles besides the commander (who is `incidents.commander_id`). */
export const ROOM_ROLES = ['commander', 'communications', 'sales'] as const;
export type RoomRole = (typeof ROOM_ROLES)[number];

export const ROOM_ROLE_LABELS: Record<RoomRole, string> = {
  commander: 'Incident commander',
  communications: 'Communications lead',
  sales: 'Sales lead',
};

export function isRoomRole(value: string): value is RoomRole {
  return (ROOM_ROLES as readonly string[]).includes(value);
}

export interface AssignedRole {
  role: RoomRole;
  userId: string;
  name: string;
  email: string;
  assignedAt: number | null;
  assignedBy: string | null;
}

/** Who holds each role of an incident (the commander from the incident row). */
export async function listRoles(ex: Executor, incidentId: string): Promise<AssignedRole[]> {
  const [commander, others] = await Promise.all([
    ex
      .selectFrom('incidents')
      .innerJoin('users', 'users.id', 'incidents.commander_id')
      .select(['users.id', 'users.name', 'users.email'])
      .where('incidents.id', '=', incidentId)
      .executeTakeFirst(),
    ex
      .selectFrom('incident_roles')
      .innerJoin('users', 'users.id', 'incident_roles.user_id')
      .select([
        'incident_roles.role',
        'users.id',
        'users.name',
        'users.email',
        'incident_roles.assigned_at',
        'incident_roles.assigned_by',
      ])
      .where('incident_roles.incident_id', '=', incidentId)
      .execute(),
  ]);
  const out: AssignedRole[] = [];
  if (commander) {
    out.push({
      role: 'commander',
      userId: commander.id,
      name: commander.name,
      email: commander.email,
      assignedAt: null,
      assignedBy: null,
    });
  }
  for (const r of others) {
    if (!isRoomRole(r.role)) continue;
    out.push({
      role: r.role,
      userId: r.id,
      name: r.name,
      email: r.email,
      assignedAt: Number(r.assigned_at),
      assignedBy: r.assigned_by,
    });
  }
  return out;
}

export async function setRole(
  ex: Executor,
  row: { incidentId: string; role: Exclude<RoomRole, 'commander'>; userId: string; at: number; by: string | null },
): Promise<void> {
  await ex
    .insertInto('incident_roles')
    .values({ incident_id: row.incidentId, role: row.role, user_id: row.userId, assigned_at: row.at, assigned_by: row.by })
    .onConflict((oc) =>
      oc.columns(['incident_id', 'role']).doUpdateSet({ user_id: row.userId, assigned_at: row.at, assigned_by: row.by }),
    )
    .execute();
}

export async function clearRole(ex: Executor, incidentId: string, role: Exclude<RoomRole, 'commander'>): Promise<void> {
  await ex.deleteFrom('incident_roles').where('incident_id', '=', incidentId).where('role', '=', role).execute();
}

/** Messages of the incident per channel and status (the delivery figures). */
export async function deliveryCounts(
  ex: Executor,
  incidentId: string,
): Promise<Array<{ channel: string; status: string; n: number }>> {
  const rows = await ex
    .selectFrom('messages')
    .select(['channel', 'status', sql<number>`count(*)`.as('n')])
    .where('incident_id', '=', incidentId)
    .groupBy(['channel', 'status'])
    .execute();
  return rows.map((r) => ({ channel: r.channel, status: r.status, n: Number(r.n) }));
}

/**
 * The incident's tagged leads per tier: the leads' outage fields for a real incident, the drill's
 * own tiering (drill_leads) for a drill, which never writes the leads.
 */
export async function tierCounts(ex: Executor, incidentId: string): Promise<Record<string, number>> {
  const [real, drill] = await Promise.all([
    ex
      .selectFrom('leads')
      .select(['tier', sql<number>`count(*)`.as('n')])
      .where('outage_incident_id', '=', incidentId)
      .groupBy('tier')
      .execute(),
    ex
      .selectFrom('drill_leads')
      .select(['tier', sql<number>`count(*)`.as('n')])
      .where('incident_id', '=', incidentId)
      .groupBy('tier')
      .execute(),
  ]);
  const counts: Record<string, number> = {};
  for (const r of [...real, ...drill]) counts[r.tier ?? '-'] = (counts[r.tier ?? '-'] ?? 0) + Number(r.n);
  return counts;
}

export interface RoomTask {
  id: string;
  kind: string;
  title: string;
  state: string;
  outcome: string | null;
  dueAt: number;
  doneAt: number | null;
  ownerName: string | null;
  lead: { id: string; name: string; company: string | null; tier: string | null };
}

/** The incident's owner tasks (Tier A calls), open first (soonest due), then done. */
export async function incidentTasks(
  ex: Executor,
  incidentId: string,
  limit: number,
): Promise<{ rows: RoomTask[]; open: number; done: number }> {
  const [rows, counts] = await Promise.all([
    ex
      .selectFrom('tasks')
      .innerJoin('leads', 'leads.id', 'tasks.lead_id')
      .leftJoin('users', 'users.id', 'tasks.owner_id')
      // A drill's tier lives in drill_leads, not on the lead.
      .leftJoin('drill_leads', (j) =>
        j.onRef('drill_leads.incident_id', '=', 'tasks.incident_id').onRef('drill_leads.lead_id', '=', 'tasks.lead_id'),
      )
      .select([
        'tasks.id',
        'tasks.kind',
        'tasks.title',
        'tasks.state',
        'tasks.outcome',
        'tasks.due_at',
        'tasks.done_at',
        'users.name as owner_name',
        'leads.id as lead_id',
        'leads.first_name',
        'leads.last_name',
        'leads.email',
        'leads.company',
        sql<string | null>`coalesce(drill_leads.tier, leads.tier)`.as('tier'),
      ])
      .where('tasks.incident_id', '=', incidentId)
      .orderBy(sql`case when tasks.state = 'open' then 0 else 1 end`)
      .orderBy('tasks.due_at')
      .orderBy('tasks.id')
      .limit(limit)
      .execute(),
    ex
      .selectFrom('tasks')
      .select(['state', sql<number>`count(*)`.as('n')])
      .where('incident_id', '=', incidentId)
      .groupBy('state')
      .execute(),
  ]);
  const count = (state: string) => Number(counts.find((c) => c.state === state)?.n ?? 0);
  return {
    rows: rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      title: r.title,
      state: r.state,
      outcome: r.outcome,
      dueAt: Number(r.due_at),
      doneAt: r.done_at === null ? null : Number(r.done_at),
      ownerName: r.owner_name,
      lead: {
        id: r.lead_id,
        name: [r.first_name, r.last_name].filter(Boolean).join(' ') || (r.email ?? r.lead_id),
        company: r.company,
        tier: r.tier,
      },
    })),
    open: count('open'),
    done: count('done'),
  };
}

/** The drill that broke the showroom for this incident, when it is one. */
export async function drillOf(
  ex: Executor,
  incidentId: string,
): Promise<{ id: string; scenario: string; state: string } | undefined> {
  return ex
    .selectFrom('drills')
    .select(['id', 'scenario', 'state'])
    .where('incident_id', '=', incidentId)
    .orderBy('started_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}
