import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';
import { columnTypes } from '../migrate.js';

/** Fallback mirror builds and their publishes, per target (the console's history). */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const t = columnTypes(dialect);
  await db.schema
    .createTable('mirror_builds')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('snapshot_id', 'text')
    /** catalog | manual | cli */
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('started_at', t.time, (c) => c.notNull())
    .addColumn('finished_at', t.time)
    .addColumn('full', t.bool, (c) => c.notNull())
    .addColumn('files', 'integer')
    .addColumn('rendered', 'integer')
    .addColumn('reused', 'integer')
    .addColumn('removed', 'integer')
    .addColumn('bytes', 'bigint')
    .addColumn('duration_ms', 'integer')
    /** JSON array of strings. */
    .addColumn('warnings', t.json)
    .addColumn('error', 'text')
    .execute();
  await db.schema.createIndex('mirror_builds_started').on('mirror_builds').columns(['started_at']).execute();
  await db.schema
    .createTable('mirror_publications')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('build_id', 'text', (c) => c.notNull())
    .addColumn('target', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('started_at', t.time, (c) => c.notNull())
    .addColumn('finished_at', t.time)
    .addColumn('written', 'integer')
    .addColumn('reused', 'integer')
    .addColumn('deleted', 'integer')
    .addColumn('verified', 'integer')
    .addColumn('bytes', 'bigint')
    .addColumn('version', 'text')
    .addColumn('duration_ms', 'integer')
    .addColumn('error', 'text')
    .execute();
  await db.schema.createIndex('mirror_publications_build').on('mirror_publications').columns(['build_id']).execute();
}
