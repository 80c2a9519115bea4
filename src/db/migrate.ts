import { type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely';
import type { Database, Dialect } from './database.js';
import * as m001 from './migrations/001-foundation.js';
import * as m002 from './migrations/002-messaging.js';
import * as m003 from './migrations/003-inbound.js';
import * as m004 from './migrations/004-detection.js';
import * as m005 from './migrations/005-status-publish.js';
import * as m006 from './migrations/006-subscribers.js';
import * as m007 from './migrations/007-crm.js';
import * as m008 from './migrations/008-catalog.js';
import * as m009 from './migrations/009-flags.js';
import * as m010 from './migrations/010-orders.js';
import * as m011 from './migrations/011-mirror.js';
import * as m012 from './migrations/012-events-attribution.js';
import * as m013 from './migrations/013-credits.js';
import * as m014 from './migrations/014-playbook.js';
import * as m015 from './migrations/015-privacy.js';
import * as m016 from './migrations/016-reports.js';
import * as m017 from './migrations/017-drills.js';
import * as m018 from './migrations/018-incident-roles.js';
import * as m019 from './migrations/019-crm-drills.js';
import * as m020 from './migrations/020-job-lanes.js';

type DialectMigration = { up(db: Kysely<unknown>, dialect: Dialect): Promise<void> };

/** Every migration, in order. One set for both dialects; names never change once released. */
const MIGRATIONS: ReadonlyArray<[string, DialectMigration]> = [
  ['001-foundation', m001],
  ['002-messaging', m002],
  ['003-inbound', m003],
  ['004-detection', m004],
  ['005-status-publish', m005],
  ['006-subscribers', m006],
  ['007-crm', m007],
  ['008-catalog', m008],
  ['009-flags', m009],
  ['010-orders', m010],
  ['011-mirror', m011],
  ['012-events-attribution', m012],
  ['013-credits', m013],
  ['014-playbook', m014],
  ['015-privacy', m015],
  ['016-reports', m016],
  ['017-drills', m017],
  ['018-incident-roles', m018],
  ['019-crm-drills', m019],
  ['020-job-lanes', m020],
];

/** Column types that differ between the dialects. Everything else is written once. */
export function columnTypes(dialect: Dialect) {
  return {
    time: 'bigint',
    bool: dialect === 'postgres' ? 'boolean' : 'integer',
    json: dialect === 'postgres' ? 'jsonb' : 'text',
  } as const;
}

class StaticProvider implements MigrationProvider {
  constructor(private readonly dialect: Dialect) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    const out: Record<string, Migration> = {};
    for (const [name, migration] of MIGRATIONS) {
      out[name] = { up: (db) => migration.up(db, this.dialect) };
    }
    return out;
  }
}

export interface MigrateResult {
  applied: string[];
}

export async function migrateToLatest(db: Database): Promise<MigrateResult> {
  const migrator = new Migrator({ db: db.kysely, provider: new StaticProvider(db.dialect) });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`Migration ${failed?.migrationName ?? '(unknown)'} failed: ${reason}`, { cause: error });
  }
  return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}
