import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';
import { columnTypes } from '../migrate.js';

/**
 * The CRM's drill rehearsal: the tier each lead would get on a drill incident, kept apart from
 * the leads (a drill never writes their outage fields), for the console, the scorecard and purging
 * with the incident.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const t = columnTypes(dialect);
  await db.schema
    .createTable('drill_leads')
    .addColumn('incident_id', 'text', (c) => c.notNull())
    .addColumn('lead_id', 'text', (c) => c.notNull())
    /** A | B | C, and the name of the tier rule that decided it. */
    .addColumn('tier', 'text', (c) => c.notNull())
    .addColumn('rule', 'text', (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addPrimaryKeyConstraint('drill_leads_pk', ['incident_id', 'lead_id'])
    .execute();
  await db.schema.createIndex('drill_leads_lead').on('drill_leads').column('lead_id').execute();
}
