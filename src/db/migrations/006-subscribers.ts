import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';
import { columnTypes } from '../migrate.js';

/** Status subscribers: email (double opt-in), SMS (6-digit code) and webhook (signed ping) subscriptions. */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const t = columnTypes(dialect);

  await db.schema
    .createTable('subscribers')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('channel', 'text', (c) => c.notNull())
    /** Normalised: email lower-cased, E.164 phone number, or the webhook URL. */
    .addColumn('address', 'text', (c) => c.notNull())
    /** "all", or a JSON array of component ids. */
    .addColumn('components', t.json, (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    /** SHA-256 of the emailed token, or HMAC of the SMS code; null once used or locked. */
    .addColumn('secret_hash', 'text')
    .addColumn('secret_expires_at', t.time)
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('source_ip_hash', 'text')
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .addColumn('confirmed_at', t.time)
    .addColumn('unsubscribed_at', t.time)
    .execute();
  await db.schema.createIndex('subscribers_address').unique().on('subscribers').columns(['channel', 'address']).execute();
  await db.schema.createIndex('subscribers_state').on('subscribers').columns(['state', 'id']).execute();
  await db.schema.createIndex('subscribers_secret').on('subscribers').column('secret_hash').execute();
}
