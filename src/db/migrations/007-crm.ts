import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../database.js';
import { columnTypes } from '../migrate.js';

/**
 * CRM: accounts, leads with the outage fields, owners' working details, intent events, owner
 * tasks, sequence enrollments and conversations. Money is whole US dollars (integers).
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const t = columnTypes(dialect);

  await db.schema
    .createTable('accounts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    /** Lower-cased domain, when known (matches leads by their email's domain). */
    .addColumn('domain', 'text')
    .addColumn('external_id', 'text')
    /** Annual recurring revenue today, whole dollars. */
    .addColumn('arr', 'bigint')
    .addColumn('owner_id', 'text')
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('accounts_external').unique().on('accounts').column('external_id').execute();
  await db.schema.createIndex('accounts_name').on('accounts').column('name').execute();

  await db.schema
    .createTable('leads')
    .addColumn('id', 'text', (c) => c.primaryKey())
    /** The id in the team's CRM (HubSpot Record ID, Salesforce Id): re-imports match on it. */
    .addColumn('external_id', 'text')
    /** Lower-cased; re-imports without an external id match on it. */
    .addColumn('email', 'text')
    /** E.164. */
    .addColumn('phone', 'text')
    .addColumn('first_name', 'text')
    .addColumn('last_name', 'text')
    .addColumn('title', 'text')
    .addColumn('company', 'text')
    .addColumn('account_id', 'text')
    /** The Keepwarm user (sales role) who owns the lead. */
    .addColumn('owner_id', 'text')
    /** The owner as the CRM named it (id or email), kept when no user matches. */
    .addColumn('owner_ref', 'text')
    /** lead | mql | sql | opportunity | customer */
    .addColumn('lifecycle', 'text', (c) => c.notNull().defaultTo('lead'))
    .addColumn('crm_status', 'text')
    .addColumn('source', 'text')
    .addColumn('arr_potential', 'bigint')
    .addColumn('cart_value', 'bigint')
    .addColumn('demo_scheduled_at', t.time)
    .addColumn('last_activity_at', t.time)
    .addColumn('timezone', 'text')
    /** granted | denied | unknown, per channel. */
    .addColumn('consent_email', 'text', (c) => c.notNull().defaultTo('unknown'))
    .addColumn('consent_sms', 'text', (c) => c.notNull().defaultTo('unknown'))
    /** Other fields of the import, kept as given. */
    .addColumn('attributes', t.json, (c) => c.notNull())
    // The outage fields (DESIGN: outage_status, outage_channel, outage_priority, fallback_sent).
    .addColumn('outage_status', 'text')
    .addColumn('outage_channel', 'text')
    .addColumn('outage_priority', 'text')
    .addColumn('fallback_sent', t.bool, (c) => c.notNull().defaultTo(dialect === 'postgres' ? false : 0))
    .addColumn('outage_incident_id', 'text')
    /** A | B | C, and the name of the rule that decided it. */
    .addColumn('tier', 'text')
    .addColumn('tier_rule', 'text')
    .addColumn('tagged_at', t.time)
    /** Replied, clicked a tracked link or booked during the outage. */
    .addColumn('re_engaged_at', t.time)
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('leads_external').unique().on('leads').column('external_id').execute();
  await db.schema.createIndex('leads_email').unique().on('leads').column('email').execute();
  // Partial indexes: rows without the value (most leads outside an outage) cost an import nothing.
  await db.schema.createIndex('leads_phone').on('leads').column('phone').where(sql.ref('phone'), 'is not', null).execute();
  await db.schema
    .createIndex('leads_owner')
    .on('leads')
    .columns(['owner_id', 'id'])
    .where(sql.ref('owner_id'), 'is not', null)
    .execute();
  await db.schema
    .createIndex('leads_outage')
    .on('leads')
    .columns(['outage_incident_id', 'tier'])
    .where(sql.ref('outage_incident_id'), 'is not', null)
    .execute();
  // Connectors read what changed per incident since their cursor.
  await db.schema
    .createIndex('leads_outage_changes')
    .on('leads')
    .columns(['outage_incident_id', 'updated_at', 'id'])
    .where(sql.ref('outage_incident_id'), 'is not', null)
    .execute();

  await db.schema
    .createTable('owner_profiles')
    .addColumn('user_id', 'text', (c) => c.primaryKey())
    .addColumn('phone', 'text')
    .addColumn('calendar_link', 'text')
    .addColumn('timezone', 'text', (c) => c.notNull().defaultTo('UTC'))
    /** {"days":[1,2,3,4,5],"start":"08:00","end":"18:00"} in the owner's timezone. */
    .addColumn('working_hours', t.json, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('intent_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    /** The sender's id of the event: a repeat is ignored. */
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('lead_id', 'text')
    /** product_viewed | cart_updated | demo_booked | form_submitted */
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('email', 'text')
    .addColumn('anonymous_id', 'text')
    .addColumn('product', 'text')
    .addColumn('value', 'bigint')
    .addColumn('properties', t.json, (c) => c.notNull())
    .addColumn('at', t.time, (c) => c.notNull())
    .addColumn('received_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('intent_events_message').unique().on('intent_events').column('message_id').execute();
  await db.schema.createIndex('intent_events_lead').on('intent_events').columns(['lead_id', 'at']).execute();

  await db.schema
    .createTable('tasks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('incident_id', 'text')
    .addColumn('lead_id', 'text', (c) => c.notNull())
    .addColumn('owner_id', 'text')
    /** call_now | account_call | reply_followup | recovery_followup */
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    /** Rendered for this lead (call script with what they looked at, links). */
    .addColumn('script', 'text')
    .addColumn('due_at', t.time, (c) => c.notNull())
    /** open | done | cancelled */
    .addColumn('state', 'text', (c) => c.notNull())
    /** reached | voicemail | demo_booked | no_answer */
    .addColumn('outcome', 'text')
    .addColumn('outcome_note', 'text')
    /** Why this owner: "owner", "round robin: owner off hours", … */
    .addColumn('assigned_reason', 'text')
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .addColumn('done_at', t.time)
    .execute();
  await db.schema.createIndex('tasks_unique').unique().on('tasks').columns(['incident_id', 'lead_id', 'kind']).execute();
  await db.schema.createIndex('tasks_owner').on('tasks').columns(['owner_id', 'state', 'due_at']).execute();

  await db.schema
    .createTable('enrollments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('incident_id', 'text', (c) => c.notNull())
    .addColumn('lead_id', 'text', (c) => c.notNull())
    /** tier_b | tier_c | recovery (named in config) */
    .addColumn('sequence', 'text', (c) => c.notNull())
    /** Index of the next step to send. */
    .addColumn('step', 'integer', (c) => c.notNull().defaultTo(0))
    /** active | completed | stopped */
    .addColumn('state', 'text', (c) => c.notNull())
    /** replied | booked | unsubscribed | resolved | … */
    .addColumn('stop_reason', 'text')
    .addColumn('next_at', t.time)
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('enrollments_unique')
    .unique()
    .on('enrollments')
    .columns(['incident_id', 'lead_id', 'sequence'])
    .execute();
  await db.schema.createIndex('enrollments_lead').on('enrollments').columns(['lead_id', 'state']).execute();

  await db.schema
    .createTable('conversations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    /** sms | chat */
    .addColumn('channel', 'text', (c) => c.notNull())
    /** Phone number (sms) or chat session id. */
    .addColumn('address', 'text', (c) => c.notNull())
    .addColumn('lead_id', 'text')
    .addColumn('incident_id', 'text')
    /** The menu the conversation is at. */
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('last_choice', 'text')
    .addColumn('turns', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('conversations_address').unique().on('conversations').columns(['channel', 'address']).execute();
}
