import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';
import { columnTypes } from '../migrate.js';

/** Catalog snapshots: one per import, versioned, with every product and its content hash. */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const t = columnTypes(dialect);
  await db.schema
    .createTable('catalog_snapshots')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('version', 'integer', (c) => c.notNull().unique())
    .addColumn('created_at', t.time, (c) => c.notNull())
    /** The imported file's name. */
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('actor', 'text')
    .addColumn('product_count', 'integer', (c) => c.notNull())
    /** Hash over every product hash and the categories: equal snapshots have equal hashes. */
    .addColumn('content_hash', 'text', (c) => c.notNull())
    .addColumn('categories', t.json, (c) => c.notNull())
    /** The validation report (warnings, and errors of skipped products). */
    .addColumn('issues', t.json, (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('catalog_products')
    .addColumn('snapshot_id', 'text', (c) => c.notNull())
    .addColumn('sku', 'text', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('data', t.json, (c) => c.notNull())
    .addPrimaryKeyConstraint('catalog_products_pk', ['snapshot_id', 'sku'])
    .execute();
}
