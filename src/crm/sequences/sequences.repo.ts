import { fromDbBool, toDbBool } from '../../db/codec.js';
import type { Executor } from '../../db/database.js';

/** One due enrollment with what sending its step needs about the lead, its owner and its incident. */
export interface DueEnrollment {
  id: string;
  incidentId: string;
  leadId: string;
  sequence: string;
  step: number;
  nextAt: number | null;
  email: string | null;
  phone: string | null;
  firstName: string | null;
  company: string | null;
  timezone: string | null;
  consentEmail: string;
  consentSms: string;
  outageStatus: string | null;
  reEngagedAt: number | null;
  calendarLink: string | null;
  drill: boolean;
}

const CHUNK = 500;

function chunks<T>(items: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Active enrollments whose next step is due, oldest first. */
export async function findDueEnrollments(ex: Executor, now: number, limit: number): Promise<DueEnrollment[]> {
  const rows = await ex
    .selectFrom('enrollments as e')
    .innerJoin('leads as l', 'l.id', 'e.lead_id')
    .leftJoin('owner_profiles as o', 'o.user_id', 'l.owner_id')
    .leftJoin('incidents as i', 'i.id', 'e.incident_id')
    .select([
      'e.id',
      'e.incident_id',
      'e.lead_id',
      'e.sequence',
      'e.step',
      'e.next_at',
      'l.email',
      'l.phone',
      'l.first_name',
      'l.company',
      'l.timezone',
      'l.consent_email',
      'l.consent_sms',
      'l.outage_status',
      'l.re_engaged_at',
      'o.calendar_link',
      'i.drill',
    ])
    .where('e.state', '=', 'active')
    .where('e.next_at', '<=', now)
    .orderBy('e.next_at')
    .orderBy('e.id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    incidentId: r.incident_id,
    leadId: r.lead_id,
    sequence: r.sequence,
    step: Number(r.step),
    nextAt: r.next_at === null ? null : Number(r.next_at),
    email: r.email,
    phone: r.phone,
    firstName: r.first_name,
    company: r.company,
    timezone: r.timezone,
    consentEmail: r.consent_email,
    consentSms: r.consent_sms,
    outageStatus: r.outage_status,
    reEngagedAt: r.re_engaged_at === null ? null : Number(r.re_engaged_at),
    calendarLink: r.calendar_link,
    drill: fromDbBool(r.drill),
  }));
}

/** Leads among `leadIds` with a demo_booked intent event. */
export async function bookedAmong(ex: Executor, leadIds: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (const part of chunks([...new Set(leadIds)])) {
    const rows = await ex
      .selectFrom('intent_events')
      .select('lead_id')
      .distinct()
      .where('type', '=', 'demo_booked')
      .where('lead_id', 'in', part)
      .execute();
    for (const r of rows) if (r.lead_id) found.add(r.lead_id);
  }
  return found;
}

/** Move enrollments to their next step (set-based, one statement per group of ≤ 500). */
export async function advanceEnrollments(
  ex: Executor,
  ids: readonly string[],
  next: { step: number; nextAt: number } | null,
  now: number,
): Promise<void> {
  for (const part of chunks(ids)) {
    await ex
      .updateTable('enrollments')
      .set(
        next
          ? { step: next.step, next_at: next.nextAt, updated_at: now }
          : { step: (eb) => eb('step', '+', 1), state: 'completed', next_at: null, updated_at: now },
      )
      .where('id', 'in', part)
      .where('state', '=', 'active')
      .execute();
  }
}

/** Stop the given enrollments with a reason. */
export async function stopEnrollmentsById(ex: Executor, ids: readonly string[], reason: string, now: number): Promise<number> {
  let stopped = 0;
  for (const part of chunks(ids)) {
    const result = await ex
      .updateTable('enrollments')
      .set({ state: 'stopped', stop_reason: reason, next_at: null, updated_at: now })
      .where('id', 'in', part)
      .where('state', '=', 'active')
      .executeTakeFirst();
    stopped += Number(result.numUpdatedRows);
  }
  return stopped;
}

/** Mark leads whose message carried the fallback link (a tag change: updated_at moves). */
export async function markFallbackSent(ex: Executor, leadIds: readonly string[], now: number): Promise<void> {
  for (const part of chunks([...new Set(leadIds)])) {
    await ex
      .updateTable('leads')
      .set({ fallback_sent: toDbBool(true), updated_at: now })
      .where('id', 'in', part)
      .where('fallback_sent', '=', toDbBool(false))
      .execute();
  }
}

/** The earliest next_at among active enrollments, or null. */
export async function earliestNextAt(ex: Executor): Promise<number | null> {
  const row = await ex
    .selectFrom('enrollments')
    .select((eb) => eb.fn.min('next_at').as('at'))
    .where('state', '=', 'active')
    .executeTakeFirst();
  return row?.at === null || row?.at === undefined ? null : Number(row.at);
}

export interface EnrollmentRow {
  id: string;
  incidentId: string;
  leadId: string;
  sequence: string;
  step: number;
  state: string;
  stopReason: string | null;
  nextAt: number | null;
}

export async function listEnrollmentsOfLead(ex: Executor, leadId: string): Promise<EnrollmentRow[]> {
  const rows = await ex.selectFrom('enrollments').selectAll().where('lead_id', '=', leadId).orderBy('id').execute();
  return rows.map((r) => ({
    id: r.id,
    incidentId: r.incident_id,
    leadId: r.lead_id,
    sequence: r.sequence,
    step: Number(r.step),
    state: r.state,
    stopReason: r.stop_reason,
    nextAt: r.next_at === null ? null : Number(r.next_at),
  }));
}

/** Counts per sequence, step and state: the console's sequence status. */
export async function summarizeEnrollments(
  ex: Executor,
  incidentId?: string,
): Promise<Array<{ sequence: string; step: number; state: string; count: number }>> {
  let q = ex
    .selectFrom('enrollments')
    .select(['sequence', 'step', 'state', (eb) => eb.fn.countAll<number>().as('count')])
    .groupBy(['sequence', 'step', 'state'])
    .orderBy('sequence')
    .orderBy('step')
    .orderBy('state');
  if (incidentId) q = q.where('incident_id', '=', incidentId);
  const rows = await q.execute();
  return rows.map((r) => ({ sequence: r.sequence, step: Number(r.step), state: r.state, count: Number(r.count) }));
}
