import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../database.js';
import { columnTypes } from '../migrate.js';

/**
 * Retention and erasure (src/privacy): messages remember when their body and recipient were
 * removed, and the purge job and erasure find their rows through indexes instead of scanning.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const t = columnTypes(dialect);
  await db.schema.alterTable('messages').addColumn('redacted_at', t.time).execute();
  // The purge's next batch: old messages whose body is still there (shrinks as it works).
  await db.schema
    .createIndex('messages_unredacted')
    .on('messages')
    .column('created_at')
    .where(sql.ref('redacted_at'), 'is', null)
    .execute();
  // Erasure matches recipients case-insensitively (an email typed with capitals).
  await db.schema.createIndex('messages_recipient_lower').on('messages').expression(sql`lower(recipient)`).execute();
  // intent_events(at) is indexed by 012-events-attribution.
  await db.schema.createIndex('intent_events_email').on('intent_events').column('email').execute();
  await db.schema.createIndex('inbound_messages_received').on('inbound_messages').column('received_at').execute();
  await db.schema.createIndex('conversations_updated').on('conversations').column('updated_at').execute();
  await db.schema.createIndex('conversations_lead').on('conversations').column('lead_id').execute();
}
