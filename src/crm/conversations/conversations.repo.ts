import { newId } from '../../core/ids.js';
import { fromDbBool } from '../../db/codec.js';
import type { Executor } from '../../db/database.js';

export interface ConversationLead {
  id: string;
  email: string | null;
  phone: string | null;
  firstName: string | null;
  lastName: string | null;
  ownerId: string | null;
  consentSms: string;
  consentEmail: string;
  timezone: string | null;
  outageStatus: string | null;
  outageIncidentId: string | null;
  reEngagedAt: number | null;
  calendarLink: string | null;
  drill: boolean;
}

function leadQuery(ex: Executor) {
  return ex
    .selectFrom('leads as l')
    .leftJoin('owner_profiles as o', 'o.user_id', 'l.owner_id')
    .leftJoin('incidents as i', 'i.id', 'l.outage_incident_id')
    .select([
      'l.id',
      'l.email',
      'l.phone',
      'l.first_name',
      'l.last_name',
      'l.owner_id',
      'l.consent_sms',
      'l.consent_email',
      'l.timezone',
      'l.outage_status',
      'l.outage_incident_id',
      'l.re_engaged_at',
      'l.tagged_at',
      'o.calendar_link',
      'i.drill',
    ]);
}

type LeadRow = Awaited<ReturnType<ReturnType<typeof leadQuery>['execute']>>[number];

function toLead(r: LeadRow): ConversationLead {
  return {
    id: r.id,
    email: r.email,
    phone: r.phone,
    firstName: r.first_name,
    lastName: r.last_name,
    ownerId: r.owner_id,
    consentSms: r.consent_sms,
    consentEmail: r.consent_email,
    timezone: r.timezone,
    outageStatus: r.outage_status,
    outageIncidentId: r.outage_incident_id,
    reEngagedAt: r.re_engaged_at === null ? null : Number(r.re_engaged_at),
    calendarLink: r.calendar_link,
    drill: fromDbBool(r.drill),
  };
}

/** Several leads may share a number: the one in an active outage, most recently tagged, wins. */
function pickLead(rows: LeadRow[]): ConversationLead | undefined {
  const sorted = [...rows].sort((a, b) => {
    const active = Number(b.outage_status === 'active') - Number(a.outage_status === 'active');
    if (active !== 0) return active;
    return Number(b.tagged_at ?? 0) - Number(a.tagged_at ?? 0) || (a.id < b.id ? -1 : 1);
  });
  return sorted[0] ? toLead(sorted[0]) : undefined;
}

export async function findLeadByPhone(ex: Executor, phone: string): Promise<ConversationLead | undefined> {
  return pickLead(await leadQuery(ex).where('l.phone', '=', phone).limit(20).execute());
}

export async function findLeadByEmail(ex: Executor, email: string): Promise<ConversationLead | undefined> {
  return pickLead(await leadQuery(ex).where('l.email', '=', email.trim().toLowerCase()).limit(1).execute());
}

export async function findLeadById(ex: Executor, id: string): Promise<ConversationLead | undefined> {
  return pickLead(await leadQuery(ex).where('l.id', '=', id).execute());
}

/** Record a re-engagement: the first one only (a replied, clicked or booked lead). Returns whether it was the first. */
export async function markReEngaged(ex: Executor, leadId: string, now: number): Promise<boolean> {
  const result = await ex
    .updateTable('leads')
    .set({ re_engaged_at: now, updated_at: now })
    .where('id', '=', leadId)
    .where('re_engaged_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export interface ConversationRow {
  id: string;
  channel: string;
  address: string;
  leadId: string | null;
  incidentId: string | null;
  state: string;
  lastChoice: string | null;
  turns: number;
}

export async function findConversation(ex: Executor, channel: string, address: string): Promise<ConversationRow | undefined> {
  const r = await ex
    .selectFrom('conversations')
    .selectAll()
    .where('channel', '=', channel)
    .where('address', '=', address)
    .executeTakeFirst();
  return r
    ? {
        id: r.id,
        channel: r.channel,
        address: r.address,
        leadId: r.lead_id,
        incidentId: r.incident_id,
        state: r.state,
        lastChoice: r.last_choice,
        turns: Number(r.turns),
      }
    : undefined;
}

/** One more turn of a conversation (created on its first). */
export async function recordTurn(
  ex: Executor,
  input: {
    channel: string;
    address: string;
    leadId: string | null;
    incidentId: string | null;
    state: string;
    choice: string;
    now: number;
  },
): Promise<void> {
  await ex
    .insertInto('conversations')
    .values({
      id: newId(input.now),
      channel: input.channel,
      address: input.address,
      lead_id: input.leadId,
      incident_id: input.incidentId,
      state: input.state,
      last_choice: input.choice,
      turns: 1,
      created_at: input.now,
      updated_at: input.now,
    })
    .onConflict((oc) =>
      oc.columns(['channel', 'address']).doUpdateSet((eb) => ({
        lead_id: eb.fn.coalesce('excluded.lead_id', 'conversations.lead_id'),
        incident_id: eb.fn.coalesce('excluded.incident_id', 'conversations.incident_id'),
        state: eb.ref('excluded.state'),
        last_choice: eb.ref('excluded.last_choice'),
        turns: eb('conversations.turns', '+', 1),
        updated_at: eb.ref('excluded.updated_at'),
      })),
    )
    .execute();
}
