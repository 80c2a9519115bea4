import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';
import { columnTypes } from '../migrate.js';

/**
 * Incident reports (src/reports): one per incident, holding only what people wrote (summary, root
 * cause, actions); every figure is computed from the timeline and the other tables when rendered.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const t = columnTypes(dialect);
  await db.schema
    .createTable('incident_reports')
    .addColumn('incident_id', 'text', (c) => c.primaryKey())
    /** draft | published */
    .addColumn('state', 'text', (c) => c.notNull())
    /** null: the generated summary is used. */
    .addColumn('summary', 'text')
    .addColumn('root_cause', 'text', (c) => c.notNull())
    /** JSON array of {kind, title, owner, due_date, done}. */
    .addColumn('actions', t.json, (c) => c.notNull())
    /** Bumped by every edit: an edit naming an older revision is refused (two editors at once). */
    .addColumn('revision', 'integer', (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .addColumn('updated_by', 'text')
    .addColumn('published_at', t.time)
    .addColumn('published_by', 'text')
    .execute();
  // The report counts an incident's orders (tasks and messages already have an incident index).
  await db.schema.createIndex('orders_incident').on('orders').column('incident_id').execute();
}
