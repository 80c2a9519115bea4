import type { Executor } from '../db/database.js';
import type { NewRow } from '../db/schema.js';
import { existingLeadIds, findLeadIdsByEmail } from './leads.repo.js';

export async function existingMessageIds(db: Executor, ids: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db
      .selectFrom('intent_events')
      .select('message_id')
      .where('message_id', 'in', ids.slice(i, i + 500))
      .execute();
    for (const r of rows) found.add(r.message_id);
  }
  return found;
}

export async function resolveLeads(
  db: Executor,
  ids: readonly string[],
  emails: readonly string[],
): Promise<{ byId: Set<string>; byEmail: Map<string, string> }> {
  return { byId: await existingLeadIds(db, ids), byEmail: await findLeadIdsByEmail(db, emails) };
}

/** Inserts the events; a messageId stored meanwhile is skipped. Returns how many were stored. */
export async function insertEvents(trx: Executor, rows: ReadonlyArray<NewRow<'intent_events'>>): Promise<number> {
  let inserted = 0;
  for (let i = 0; i < rows.length; i += 400) {
    const result = await trx
      .insertInto('intent_events')
      .values(rows.slice(i, i + 400) as Array<NewRow<'intent_events'>>)
      .onConflict((oc) => oc.column('message_id').doNothing())
      .executeTakeFirst();
    inserted += Number(result.numInsertedOrUpdatedRows ?? 0);
  }
  return inserted;
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

export async function updateLeadActivity(trx: Executor, id: string, changes: LeadActivityChanges, now: number): Promise<void> {
  const { re_engaged_at, ...rest } = changes;
  await trx
    .updateTable('leads')
    .set({ ...rest, updated_at: now })
    .where('id', '=', id)
    .execute();
  // First time only, even if another writer (a reply, a click) set it meanwhile.
  if (re_engaged_at !== undefined)
    await trx.updateTable('leads').set({ re_engaged_at }).where('id', '=', id).where('re_engaged_at', 'is', null).execute();
}
