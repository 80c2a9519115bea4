import { type Kysely, sql } from 'kysely';
import type { Dialect } from '../database.js';

/**
 * Two lanes in the job queue: bulk work (a delivery per message, a webhook per subscriber) and
 * everything else (publishing the status page and the kill switches, playbook actions, drill
 * steps). Claims take due jobs of the first lane before bulk ones, so a fan-out of thousands of
 * messages never holds back the status page. One partial index serves both lanes in run_at order.
 */
export async function up(db: Kysely<unknown>, _dialect: Dialect): Promise<void> {
  await db.schema
    .alterTable('jobs')
    .addColumn('bulk', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.dropIndex('jobs_due').execute();
  await db.schema.createIndex('jobs_due').on('jobs').columns(['bulk', 'run_at']).where(sql.ref('state'), '=', 'queued').execute();
}
