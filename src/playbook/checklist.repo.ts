import type { Actor } from '../app/actor.js';
import { fromDbJson, toDbJson } from '../db/codec.js';
import type { Executor } from '../db/database.js';
import type { Row } from '../db/schema.js';
import type { ChecklistState, NewChecklistItem } from './engine.js';
import type { Trigger } from './playbook.js';

export interface ChecklistRow extends ChecklistState {
  incidentId: string;
  position: number;
  title: string;
  role: string;
  doneAt: number | null;
  doneBy: { type: string; id: string | null; name: string | null } | null;
  doneEventId: string | null;
  note: string | null;
  overdueAt: number | null;
}

function toRow(r: Row<'incident_checklist'>): ChecklistRow {
  return {
    incidentId: r.incident_id,
    itemId: r.item_id,
    position: Number(r.position),
    title: r.title,
    role: r.role,
    state: r.state === 'done' ? 'done' : 'open',
    dueAfter: r.due_after === null ? null : Number(r.due_after),
    dueFrom: r.due_from === 'resolved' ? 'resolved' : 'declared',
    dueAt: r.due_at === null ? null : Number(r.due_at),
    completeOn: fromDbJson<Trigger[]>(r.complete_on, []),
    doneAt: r.done_at === null ? null : Number(r.done_at),
    doneBy: r.done_by_type === null ? null : { type: r.done_by_type, id: r.done_by_id, name: r.done_by_name },
    doneEventId: r.done_event_id,
    note: r.note,
    overdueAt: r.overdue_at === null ? null : Number(r.overdue_at),
  };
}

/** Create the incident's checklist (once: a second call leaves the rows as they are). */
export async function insertChecklist(
  ex: Executor,
  incidentId: string,
  items: readonly NewChecklistItem[],
  now: number,
): Promise<number> {
  if (items.length === 0) return 0;
  const result = await ex
    .insertInto('incident_checklist')
    .values(
      items.map((i) => ({
        incident_id: incidentId,
        item_id: i.itemId,
        position: i.position,
        title: i.title,
        role: i.role,
        due_after: i.dueAfter,
        due_from: i.dueFrom,
        due_at: i.dueAt,
        complete_on: toDbJson(i.completeOn),
        state: 'open',
        done_at: null,
        done_by_type: null,
        done_by_id: null,
        done_by_name: null,
        done_event_id: null,
        note: null,
        overdue_at: null,
        created_at: now,
        updated_at: now,
      })),
    )
    .onConflict((oc) => oc.columns(['incident_id', 'item_id']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0);
}

export async function listChecklist(ex: Executor, incidentId: string): Promise<ChecklistRow[]> {
  const rows = await ex
    .selectFrom('incident_checklist')
    .selectAll()
    .where('incident_id', '=', incidentId)
    .orderBy('position')
    .execute();
  return rows.map(toRow);
}

/** Mark an open item done; false when it was already done (someone or something got there first). */
export async function markDone(
  ex: Executor,
  input: {
    incidentId: string;
    itemId: string;
    at: number;
    by: Pick<Actor, 'type' | 'id' | 'name'>;
    eventId: string | null;
    note: string | null;
  },
): Promise<boolean> {
  const result = await ex
    .updateTable('incident_checklist')
    .set({
      state: 'done',
      done_at: input.at,
      done_by_type: input.by.type,
      done_by_id: input.by.id,
      done_by_name: input.by.name,
      done_event_id: input.eventId,
      note: input.note,
      updated_at: input.at,
    })
    .where('incident_id', '=', input.incidentId)
    .where('item_id', '=', input.itemId)
    .where('state', '=', 'open')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function setDueAt(ex: Executor, incidentId: string, itemId: string, dueAt: number, now: number): Promise<void> {
  await ex
    .updateTable('incident_checklist')
    .set({ due_at: dueAt, updated_at: now })
    .where('incident_id', '=', incidentId)
    .where('item_id', '=', itemId)
    .where('due_at', 'is', null)
    .execute();
}

/** Record that the deadline passed with the item open; false when already recorded or no longer open. */
export async function markOverdue(
  ex: Executor,
  incidentId: string,
  itemId: string,
  dueAt: number,
  now: number,
): Promise<boolean> {
  const result = await ex
    .updateTable('incident_checklist')
    .set({ overdue_at: now, updated_at: now })
    .where('incident_id', '=', incidentId)
    .where('item_id', '=', itemId)
    .where('state', '=', 'open')
    .where('due_at', '=', dueAt)
    .where('overdue_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** The keys (engine.actionKey) of the actions already taken for an incident. */
export async function takenActions(ex: Executor, incidentId: string): Promise<Set<string>> {
  const rows = await ex
    .selectFrom('playbook_actions')
    .select(['rule', 'action_index', 'trigger_event_id'])
    .where('incident_id', '=', incidentId)
    .execute();
  return new Set(rows.map((r) => `${incidentId}:${r.rule}:${Number(r.action_index)}:${r.trigger_event_id}`));
}

/** Claim an action for one triggering event; false when it was already taken (a replay). */
export async function recordAction(
  ex: Executor,
  row: {
    incidentId: string;
    rule: string;
    actionIndex: number;
    eventId: string;
    action: string;
    outcome: string;
    detail: string;
    at: number;
  },
): Promise<boolean> {
  const result = await ex
    .insertInto('playbook_actions')
    .values({
      incident_id: row.incidentId,
      rule: row.rule,
      action_index: row.actionIndex,
      trigger_event_id: row.eventId,
      action: row.action,
      outcome: row.outcome,
      detail: row.detail,
      at: row.at,
    })
    .onConflict((oc) => oc.columns(['incident_id', 'rule', 'action_index', 'trigger_event_id']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

export async function listActions(ex: Executor, incidentId: string): Promise<Array<Row<'playbook_actions'>>> {
  return ex
    .selectFrom('playbook_actions')
    .selectAll()
    .where('incident_id', '=', incidentId)
    .orderBy('at')
    .orderBy('rule')
    .orderBy('action_index')
    .execute();
}
