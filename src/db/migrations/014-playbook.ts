import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';
import { columnTypes } from '../migrate.js';

/**
 * The playbook engine: each incident's checklist (copied from the playbook at declaration, so a
 * later playbook change does not rewrite history) and the automatic actions already taken (one
 * row per rule, action and triggering event: replays never run an action twice).
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const t = columnTypes(dialect);
  await db.schema
    .createTable('incident_checklist')
    .addColumn('incident_id', 'text', (c) => c.notNull())
    /** The playbook item's id (commander, acknowledge, …). */
    .addColumn('item_id', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    /** Milliseconds after `due_from` (null: no deadline). */
    .addColumn('due_after', t.time)
    /** declared | resolved: what the deadline counts from. */
    .addColumn('due_from', 'text', (c) => c.notNull())
    /** The deadline (null: none, or counted from a resolution that has not happened). */
    .addColumn('due_at', t.time)
    /** JSON list of triggers that complete the item by themselves. */
    .addColumn('complete_on', t.json, (c) => c.notNull())
    /** open | done */
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('done_at', t.time)
    /** Who completed it: user, token or system (the event that completed it). */
    .addColumn('done_by_type', 'text')
    .addColumn('done_by_id', 'text')
    .addColumn('done_by_name', 'text')
    /** The timeline event that completed it automatically. */
    .addColumn('done_event_id', 'text')
    .addColumn('note', 'text')
    /** When its deadline passed with the item open (recorded once). */
    .addColumn('overdue_at', t.time)
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .addPrimaryKeyConstraint('incident_checklist_pk', ['incident_id', 'item_id'])
    .execute();

  await db.schema
    .createTable('playbook_actions')
    .addColumn('incident_id', 'text', (c) => c.notNull())
    .addColumn('rule', 'text', (c) => c.notNull())
    .addColumn('action_index', 'integer', (c) => c.notNull())
    .addColumn('trigger_event_id', 'text', (c) => c.notNull())
    /** acknowledge, enable_fallback, flip_flag, tag_crm, notify */
    .addColumn('action', 'text', (c) => c.notNull())
    /** done | skipped | simulated (a drill) | failed (will not be retried: a user error such as an unapproved template) */
    .addColumn('outcome', 'text', (c) => c.notNull())
    .addColumn('detail', 'text', (c) => c.notNull())
    .addColumn('at', t.time, (c) => c.notNull())
    .addPrimaryKeyConstraint('playbook_actions_pk', ['incident_id', 'rule', 'action_index', 'trigger_event_id'])
    .execute();
}
