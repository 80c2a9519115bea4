import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';
import { columnTypes } from '../migrate.js';

/** What each static status target last received, and a lease so one publisher writes it at a time. */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const t = columnTypes(dialect);
  await db.schema
    .createTable('publications')
    .addColumn('target', 'text', (c) => c.primaryKey())
    /** The public revision the target shows (null: never published). */
    .addColumn('revision', 'text')
    .addColumn('published_at', t.time)
    .addColumn('duration_ms', 'integer')
    .addColumn('files', 'integer')
    /** The last attempt's error (null after a success). */
    .addColumn('error', 'text')
    .addColumn('attempted_at', t.time)
    .addColumn('lease_owner', 'text')
    .addColumn('lease_expires_at', t.time)
    .execute();
}
