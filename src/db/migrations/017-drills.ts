import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';
import { columnTypes } from '../migrate.js';

/** Drills: the entry point broken, the milestones reached, the scorecard (kept per drill for the trend). */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const t = columnTypes(dialect);
  await db.schema
    .createTable('drills')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('scenario', 'text', (c) => c.notNull())
    /** The drilled showroom: "demo" or the staging origin's name. */
    .addColumn('target', 'text', (c) => c.notNull())
    /** running | restoring | done | failed */
    .addColumn('state', 'text', (c) => c.notNull())
    /** JSON array of component ids the scenario breaks. */
    .addColumn('component_ids', t.json, (c) => c.notNull())
    .addColumn('actor_name', 'text')
    .addColumn('started_at', t.time, (c) => c.notNull())
    .addColumn('broken_at', t.time)
    .addColumn('hold_ms', 'integer', (c) => c.notNull())
    .addColumn('incident_id', 'text')
    .addColumn('detected_at', t.time)
    .addColumn('declared_at', t.time)
    .addColumn('acknowledged_at', t.time)
    .addColumn('fallback_live_at', t.time)
    .addColumn('tier_a_task_at', t.time)
    .addColumn('restored_at', t.time)
    .addColumn('finished_at', t.time)
    .addColumn('scorecard', t.json)
    .addColumn('error', 'text')
    .execute();
  await db.schema.createIndex('drills_started').on('drills').columns(['started_at']).execute();
}
