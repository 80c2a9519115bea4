import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';
import { columnTypes } from '../migrate.js';

/**
 * Inbound messages (SMS replies to Keepwarm's numbers): every one is kept, so nothing a customer
 * wrote is lost, whatever handled it. One row per provider message id (webhook retries are no-ops).
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const t = columnTypes(dialect);

  await db.schema
    .createTable('inbound_messages')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('channel', 'text', (c) => c.notNull())
    .addColumn('provider_message_id', 'text', (c) => c.notNull().unique())
    .addColumn('from_address', 'text', (c) => c.notNull())
    .addColumn('to_address', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('received_at', t.time, (c) => c.notNull())
    .addColumn('params', t.json, (c) => c.notNull())
    .addColumn('handled_at', t.time)
    .addColumn('outcome', 'text')
    .execute();
  await db.schema.createIndex('inbound_messages_from').on('inbound_messages').columns(['from_address', 'received_at']).execute();
  await db.schema.createIndex('inbound_messages_unhandled').on('inbound_messages').columns(['kind', 'handled_at']).execute();
}
