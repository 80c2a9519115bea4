import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';
import { columnTypes } from '../migrate.js';

/** Offline purchase orders from the fallback mirror's order form. */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const t = columnTypes(dialect);
  await db.schema
    .createTable('orders')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('reference', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .addColumn('company', 'text', (c) => c.notNull())
    .addColumn('contact_name', 'text', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('phone', 'text')
    /** JSON array of {sku, name, quantity, known}. */
    .addColumn('lines', t.json, (c) => c.notNull())
    .addColumn('notes', 'text')
    .addColumn('source', 'text')
    .addColumn('snapshot_id', 'text')
    .addColumn('unknown_skus', 'integer', (c) => c.notNull())
    .addColumn('incident_id', 'text')
    /** new | acknowledged | converted */
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('emailed_at', t.time)
    .addColumn('email_problem', 'text')
    .addColumn('ip_hash', 'text')
    .execute();
  await db.schema.createIndex('orders_created').on('orders').columns(['created_at']).execute();
}
