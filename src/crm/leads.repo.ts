import { CompiledQuery, sql } from 'kysely';
import { fromDbJson, toDbJson } from '../db/codec.js';
import type { Dialect, Executor } from '../db/database.js';
import type { NewRow, Row } from '../db/schema.js';
import { SCALAR_FIELDS, type StoredLead } from './leads.js';

/** Values per IN (…) list. */
const LOOKUP_BATCH = 500;

/** The columns an import compares: the lead's id and owner, its scalar fields, its attributes. */
const STORED_COLUMNS = ['id', 'owner_id', ...SCALAR_FIELDS, 'attributes'] as const;

type StoredRow = Pick<Row<'leads'>, (typeof STORED_COLUMNS)[number]>;

function toStored(r: StoredRow): StoredLead {
  return {
    ...r,
    arr_potential: r.arr_potential === null ? null : Number(r.arr_potential),
    cart_value: r.cart_value === null ? null : Number(r.cart_value),
    demo_scheduled_at: r.demo_scheduled_at === null ? null : Number(r.demo_scheduled_at),
    last_activity_at: r.last_activity_at === null ? null : Number(r.last_activity_at),
    attributes: fromDbJson<Record<string, unknown>>(r.attributes, {}),
  };
}

/**
 * Existing leads whose external id or email is among the given ones. Two steps: the keys of the
 * matches (a narrow index lookup), then the stored values of just those leads (wide rows are the
 * expensive part of a lookup).
 */
export async function findMatching(
  db: Executor,
  externalIds: readonly string[],
  emails: readonly string[],
): Promise<{ byExternal: Map<string, StoredLead>; byEmail: Map<string, StoredLead> }> {
  const keys: Array<{ id: string; external_id: string | null; email: string | null }> = [];
  for (let i = 0; i < externalIds.length; i += LOOKUP_BATCH) {
    keys.push(
      ...(await db
        .selectFrom('leads')
        .select(['id', 'external_id', 'email'])
        .where('external_id', 'in', externalIds.slice(i, i + LOOKUP_BATCH))
        .execute()),
    );
  }
  for (let i = 0; i < emails.length; i += LOOKUP_BATCH) {
    keys.push(
      ...(await db
        .selectFrom('leads')
        .select(['id', 'external_id', 'email'])
        .where('email', 'in', emails.slice(i, i + LOOKUP_BATCH))
        .execute()),
    );
  }
  const byExternal = new Map<string, StoredLead>();
  const byEmail = new Map<string, StoredLead>();
  if (keys.length === 0) return { byExternal, byEmail };
  const ids = [...new Set(keys.map((k) => k.id))];
  for (let i = 0; i < ids.length; i += LOOKUP_BATCH) {
    const rows = await db
      .selectFrom('leads')
      .select(STORED_COLUMNS)
      .where('id', 'in', ids.slice(i, i + LOOKUP_BATCH))
      .execute();
    for (const r of rows) {
      const s = toStored(r);
      if (s.external_id !== null) byExternal.set(s.external_id, s);
      if (s.email !== null) byEmail.set(s.email, s);
    }
  }
  return { byExternal, byEmail };
}

/** The columns a bulk insert writes, in order; bigint columns are cast on PostgreSQL. */
const INSERT_COLUMNS = [
  ['id', 'text'],
  ['external_id', 'text'],
  ['email', 'text'],
  ['phone', 'text'],
  ['first_name', 'text'],
  ['last_name', 'text'],
  ['title', 'text'],
  ['company', 'text'],
  ['owner_id', 'text'],
  ['owner_ref', 'text'],
  ['lifecycle', 'text'],
  ['crm_status', 'text'],
  ['source', 'text'],
  ['arr_potential', 'bigint'],
  ['cart_value', 'bigint'],
  ['demo_scheduled_at', 'bigint'],
  ['last_activity_at', 'bigint'],
  ['timezone', 'text'],
  ['consent_email', 'text'],
  ['consent_sms', 'text'],
  ['attributes', 'json'],
  ['created_at', 'bigint'],
  ['updated_at', 'bigint'],
] as const;

const insertTexts = new Map<number, string>();
function sqliteInsertText(count: number): string {
  let text = insertTexts.get(count);
  if (!text) {
    const row = `(${INSERT_COLUMNS.map(() => '?').join(', ')})`;
    text = `insert into "leads" (${INSERT_COLUMNS.map(([c]) => `"${c}"`).join(', ')}) values ${Array.from({ length: count }, () => row).join(', ')}`;
    insertTexts.set(count, text);
  }
  return text;
}

export type BulkLead = { [K in (typeof INSERT_COLUMNS)[number][0]]: K extends 'attributes' ? string : NewRow<'leads'>[K] };

/**
 * Many leads per statement. SQLite: multi-row VALUES of 500 rows (23 × 500 values stays under
 * its variable limit; the statement is prepared once and cached). PostgreSQL: the rows travel as
 * ONE JSON parameter unpacked by jsonb_array_elements (one round trip, no 11,500 bound values).
 * Dialect branch: measured fastest for each (SQLite's json_extract re-reads each row's JSON per
 * column and was twice as slow as VALUES).
 */
export async function insertLeads(trx: Executor, dialect: Dialect, rows: ReadonlyArray<BulkLead>): Promise<void> {
  if (dialect === 'sqlite') {
    // The statement text is built here once per batch size (no query builder per value) and the
    // driver's statement cache prepares it once.
    for (let i = 0; i < rows.length; i += 500) {
      const batch = rows.slice(i, i + 500);
      const params: unknown[] = [];
      for (const r of batch) for (const [c] of INSERT_COLUMNS) params.push(r[c] ?? null);
      await trx.executeQuery(CompiledQuery.raw(sqliteInsertText(batch.length), params));
    }
    return;
  }
  const names = sql.join(INSERT_COLUMNS.map(([c]) => sql.ref(c)));
  const values = sql.join(
    INSERT_COLUMNS.map(([, type], j) =>
      sql.raw(type === 'text' ? `(r->>${j})` : type === 'bigint' ? `(r->>${j})::bigint` : `(r->>${j})::jsonb`),
    ),
  );
  for (let i = 0; i < rows.length; i += 5000) {
    const payload = JSON.stringify(rows.slice(i, i + 5000).map((r) => INSERT_COLUMNS.map(([c]) => r[c] ?? null)));
    await sql`insert into leads (${names}) select ${values} from jsonb_array_elements(${payload}::jsonb) as r`.execute(trx);
  }
}

export async function updateLead(
  trx: Executor,
  id: string,
  changes: Partial<Omit<StoredLead, 'id'>>,
  now: number,
): Promise<void> {
  const { attributes, ...rest } = changes;
  await trx
    .updateTable('leads')
    .set({ ...rest, ...(attributes && { attributes: toDbJson(attributes) }), updated_at: now })
    .where('id', '=', id)
    .execute();
}

/** Users by lower-cased email, to match "Contact owner" / owner_email to an owner. */
export async function userIdsByEmail(db: Executor): Promise<Map<string, string>> {
  const rows = await db.selectFrom('users').select(['id', 'email']).where('disabled_at', 'is', null).execute();
  return new Map(rows.map((r) => [r.email.toLowerCase(), r.id]));
}

export interface LeadFilter {
  tier?: string | undefined;
  ownerId?: string | undefined;
  outageStatus?: string | undefined;
  incidentId?: string | undefined;
  /** Leads whose id sorts after this one (paging). */
  after?: string | undefined;
  limit: number;
}

export async function listLeads(db: Executor, filter: LeadFilter): Promise<Array<Row<'leads'>>> {
  let q = db.selectFrom('leads').selectAll();
  if (filter.tier) q = q.where('tier', '=', filter.tier);
  if (filter.ownerId) q = q.where('owner_id', '=', filter.ownerId);
  if (filter.outageStatus) q = q.where('outage_status', '=', filter.outageStatus);
  if (filter.incidentId) q = q.where('outage_incident_id', '=', filter.incidentId);
  if (filter.after) q = q.where('id', '>', filter.after);
  return q.orderBy('id').limit(filter.limit).execute();
}

export async function getLead(db: Executor, id: string): Promise<Row<'leads'> | undefined> {
  return db.selectFrom('leads').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function findLeadIdsByEmail(db: Executor, emails: readonly string[]): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (let i = 0; i < emails.length; i += LOOKUP_BATCH) {
    const rows = await db
      .selectFrom('leads')
      .select(['id', 'email'])
      .where('email', 'in', emails.slice(i, i + LOOKUP_BATCH))
      .execute();
    for (const r of rows) if (r.email) found.set(r.email, r.id);
  }
  return found;
}

export async function existingLeadIds(db: Executor, ids: readonly string[]): Promise<Set<string>> {
  const found = new Set<string>();
  for (let i = 0; i < ids.length; i += LOOKUP_BATCH) {
    const rows = await db
      .selectFrom('leads')
      .select('id')
      .where('id', 'in', ids.slice(i, i + LOOKUP_BATCH))
      .execute();
    for (const r of rows) found.add(r.id);
  }
  return found;
}

export async function relatedCounts(
  db: Executor,
  leadId: string,
): Promise<{ events: number; tasks: number; enrollments: number }> {
  const count = async (table: 'intent_events' | 'tasks' | 'enrollments') => {
    const r = await db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('lead_id', '=', leadId)
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  };
  return { events: await count('intent_events'), tasks: await count('tasks'), enrollments: await count('enrollments') };
}

export async function recentEvents(db: Executor, leadId: string, limit: number): Promise<Array<Row<'intent_events'>>> {
  return db.selectFrom('intent_events').selectAll().where('lead_id', '=', leadId).orderBy('at', 'desc').limit(limit).execute();
}

/** Every lead in id order, page by page (the CSV export streams these). */
export async function* allLeads(db: Executor, pageSize = 2000): AsyncGenerator<Row<'leads'>> {
  let after: string | undefined;
  for (;;) {
    const page = await listLeads(db, { after, limit: pageSize });
    yield* page;
    const last = page.at(-1);
    if (!last || page.length < pageSize) return;
    after = last.id;
  }
}
