import { sql } from 'kysely';
import { countByTier, countDrillTiers, findTasks, taskLeadLabel } from '../../crm/outage/outage.repo.js';
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
 * The incident's leads per tier: the leads' outage tags for a real incident, the drill's own
 * tiering for a drill (which never writes the leads).
 */
export async function tierCounts(ex: Executor, incidentId: string): Promise<Record<string, number>> {
  const [real, drill] = await Promise.all([countByTier(ex, incidentId), countDrillTiers(ex, incidentId)]);
  return { A: real.A + drill.A, B: real.B + drill.B, C: real.C + drill.C };
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
    findTasks(ex, { incidentId, order: 'open_first', limit }),
    ex
      .selectFrom('tasks')
      .select(['state', sql<number>`count(*)`.as('n')])
      .where('incident_id', '=', incidentId)
      .groupBy('state')
      .execute(),
  ]);
  const count = (state: string) => Number(counts.find((c) => c.state === state)?.n ?? 0);
  return {
    rows: rows.map((t) => ({
      id: t.id,
      kind: t.kind,
      title: t.title,
      state: t.state,
      outcome: t.outcome,
      dueAt: t.dueAt,
      doneAt: t.doneAt,
      ownerName: t.ownerName,
      lead: { id: t.lead.id, name: taskLeadLabel(t.lead), company: t.lead.company, tier: t.lead.tier },
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
