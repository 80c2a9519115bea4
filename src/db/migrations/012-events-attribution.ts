import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';
import { columnTypes } from '../migrate.js';

/**
 * Intent events: where each came from (an API token, or a showroom site's public key) and the
 * incident whose window covers its time, for attribution (drills included, marked as such).
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const t = columnTypes(dialect);
  await db.schema
    .alterTable('intent_events')
    .addColumn('source', 'text', (c) => c.notNull().defaultTo('api'))
    .execute();
  await db.schema.alterTable('intent_events').addColumn('incident_id', 'text').execute();
  /** Set with incident_id: whether that incident is a drill. */
  await db.schema.alterTable('intent_events').addColumn('incident_drill', t.bool).execute();
  // Lists by incident, and (incident_id is null, at range) finds the unattributed events of a new
  // incident's window without a scan.
  await db.schema.createIndex('intent_events_incident').on('intent_events').columns(['incident_id', 'at']).execute();
}
