import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';
import { columnTypes } from '../migrate.js';

/** Kill switches: flags with a default, automatic rules tied to open incidents, and a manual override. */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const t = columnTypes(dialect);
  await db.schema
    .createTable('flags')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('description', 'text', (c) => c.notNull())
    /** JSON value: boolean, string, number or object. */
    .addColumn('default_value', t.json, (c) => c.notNull())
    /** JSON array of {when: {channel: [...]} | {component: name} | {kind: [...]}, value}. */
    .addColumn('rules', t.json, (c) => c.notNull())
    .addColumn('enabled', t.bool, (c) => c.notNull())
    /** JSON {value, reason, by, at} while a person has pinned the flag; null otherwise. */
    .addColumn('override', t.json)
    .addColumn('created_at', t.time, (c) => c.notNull())
    .addColumn('updated_at', t.time, (c) => c.notNull())
    .execute();
}
