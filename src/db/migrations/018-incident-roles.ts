import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';
import { columnTypes } from '../migrate.js';

/**
 * The incident room's roles besides the commander (who stays `incidents.commander_id`): the
 * communications lead and the sales lead, one person each per incident.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const t = columnTypes(dialect);
  await db.schema
    .createTable('incident_roles')
    .addColumn('incident_id', 'text', (c) => c.notNull())
    /** communications | sales */
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('assigned_at', t.time, (c) => c.notNull())
    .addColumn('assigned_by', 'text')
    .addPrimaryKeyConstraint('incident_roles_pk', ['incident_id', 'role'])
    .execute();
}
