import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';
import { columnTypes } from '../migrate.js';

/** Monitors, their confirmed state per region, rolled-up results, alert signals, detections. */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const t = columnTypes(dialect);

  await db.schema
    .createTable('monitors')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('component_id', 'text', (c) => c.notNull().references('components.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('config', t.json, (c) => c.notNull())
    .addColumn('interval_ms', 'integer', (c) => c.notNull())
    .addColumn('regions', t.json, (c) => c.notNull())
    .addColumn('failures_to_down', 'integer', (c) => c.notNull())
    .addColumn('successes_to_up', 'integer', (c) => c.notNull())
    .addColumn('enabled', t.bool, (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('monitors_component').on('monitors').column('component_id').execute();

  await db.schema
    .createTable('monitor_states')
    .addColumn('monitor_id', 'text', (c) => c.notNull().references('monitors.id').onDelete('cascade'))
    .addColumn('region', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('fail_streak', 'integer', (c) => c.notNull())
    .addColumn('ok_streak', 'integer', (c) => c.notNull())
    .addColumn('degraded', t.bool, (c) => c.notNull())
    .addColumn('first_failure_at', t.time)
    .addColumn('changed_at', t.time, (c) => c.notNull())
    .addColumn('last_result_at', t.time, (c) => c.notNull())
    .addColumn('last_latency_ms', 'integer')
    .addColumn('last_error', 'text')
    .addColumn('flaps', t.json, (c) => c.notNull())
    .addPrimaryKeyConstraint('monitor_states_pk', ['monitor_id', 'region'])
    .execute();

  await db.schema
    .createTable('probe_results')
    .addColumn('monitor_id', 'text', (c) => c.notNull().references('monitors.id').onDelete('cascade'))
    .addColumn('region', 'text', (c) => c.notNull())
    .addColumn('minute', t.time, (c) => c.notNull())
    .addColumn('ok', 'integer', (c) => c.notNull())
    .addColumn('degraded', 'integer', (c) => c.notNull())
    .addColumn('failed', 'integer', (c) => c.notNull())
    .addColumn('latency_sum', 'integer', (c) => c.notNull())
    .addColumn('latency_max', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('probe_results_pk', ['monitor_id', 'region', 'minute'])
    .execute();

  await db.schema
    .createTable('signals')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('fingerprint', 'text', (c) => c.notNull())
    .addColumn('component_id', 'text', (c) => c.references('components.id'))
    .addColumn('region', 'text')
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('summary', 'text', (c) => c.notNull())
    .addColumn('first_at', t.time, (c) => c.notNull())
    .addColumn('last_at', t.time, (c) => c.notNull())
    .addColumn('resolved_at', t.time)
    .addColumn('details', t.json, (c) => c.notNull())
    .addUniqueConstraint('signals_source_fingerprint', ['source', 'fingerprint'])
    .execute();
  await db.schema.createIndex('signals_component').on('signals').columns(['component_id', 'state']).execute();

  await db.schema
    .createTable('component_health')
    .addColumn('component_id', 'text', (c) => c.primaryKey().references('components.id').onDelete('cascade'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('scope', t.json, (c) => c.notNull())
    .addColumn('reasons', t.json, (c) => c.notNull())
    .addColumn('since', t.time, (c) => c.notNull())
    .addColumn('evaluated_at', t.time, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('detections')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('components', t.json, (c) => c.notNull())
    .addColumn('scope', t.json, (c) => c.notNull())
    .addColumn('summary', 'text', (c) => c.notNull())
    .addColumn('first_failure_at', t.time, (c) => c.notNull())
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('confirm_by', t.time)
    .addColumn('incident_id', 'text')
    .addColumn('decided_by', 'text')
    .addColumn('decided_at', t.time)
    .execute();
  await db.schema.createIndex('detections_state').on('detections').columns(['state', 'created_at']).execute();
}
