import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';
import { columnTypes } from '../migrate.js';

/**
 * SLA credits: a policy per plan, the plan each CRM account is on (fee, the components and
 * regions it uses), and the credit ledger (one entry per account and month). Money is integer
 * cents.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const t = columnTypes(dialect);

  await db.schema
    .createTable('sla_policies')
    .addColumn('plan', 'text', (c) => c.primaryKey())
    /** The validated policy (target, bands, cap, weights, approval threshold) as JSON. */
    .addColumn('body', t.json, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .addColumn('updated_by', 'text')
    .execute();

  await db.schema
    .createTable('account_plans')
    /** accounts.id (the CRM account). */
    .addColumn('account_id', 'text', (c) => c.primaryKey())
    .addColumn('plan', 'text', (c) => c.notNull())
    .addColumn('monthly_fee_cents', 'bigint', (c) => c.notNull())
    /** ISO 4217, upper case. */
    .addColumn('currency', 'text', (c) => c.notNull())
    /** JSON array of component ids; empty: every component. */
    .addColumn('components', t.json, (c) => c.notNull())
    /** JSON array of region names; empty: every region. */
    .addColumn('regions', t.json, (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('account_plans_plan').on('account_plans').column('plan').execute();

  await db.schema
    .createTable('credits')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    /** YYYY-MM (UTC). */
    .addColumn('month', 'text', (c) => c.notNull())
    /** proposed | approved | rejected | withdrawn */
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('plan', 'text', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('fee_cents', 'bigint', (c) => c.notNull())
    /** Availability in parts per million (999000 = 99.9 %), rounded down. */
    .addColumn('availability_ppm', 'integer', (c) => c.notNull())
    /** Weighted downtime, milliseconds. */
    .addColumn('downtime_ms', 'bigint', (c) => c.notNull())
    /** Credit share of the fee after the cap, hundredths of a percent (1000 = 10 %). */
    .addColumn('credit_bp', 'integer', (c) => c.notNull())
    .addColumn('capped', t.bool, (c) => c.notNull())
    .addColumn('amount_cents', 'bigint', (c) => c.notNull())
    .addColumn('threshold_cents', 'bigint', (c) => c.notNull())
    /** The policy the figures were computed with, as it was then. */
    .addColumn('policy', t.json, (c) => c.notNull())
    /** The incidents that touched the account in the month, with their minutes. */
    .addColumn('incidents', t.json, (c) => c.notNull())
    .addColumn('computed_at', t.time, (c) => c.notNull())
    .addColumn('decided_at', t.time)
    .addColumn('decided_by', 'text')
    .addColumn('decided_by_name', 'text')
    .addColumn('decided_role', 'text')
    .addColumn('decision_note', 'text')
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('credits_account_month').unique().on('credits').columns(['account_id', 'month']).execute();
  await db.schema.createIndex('credits_state').on('credits').columns(['state', 'month']).execute();
}
