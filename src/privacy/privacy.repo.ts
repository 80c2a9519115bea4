import { type Expression, type Kysely, type SqlBool, sql } from 'kysely';
import { toIso } from '../core/clock.js';
import { fromDbBool, fromDbJson, toDbJson } from '../db/codec.js';
import type { Dialect, Executor } from '../db/database.js';
import { FINAL_STATUSES } from '../messaging/messaging.js';
import type { SubscribersTable } from '../status/subscribers/subscribers.repo.js';
import { mentionsAny, phoneDigits, type Subject, scrubText } from './subject.js';

/**
 * Where Keepwarm holds personal data, and the statements that find, export, erase and purge it.
 * Every table that names a person is listed in PERSONAL_TABLES with what erasure does to it.
 */

/** What erasure does to each table's rows that belong to the person. */
export const PERSONAL_TABLES = {
  leads: 'deleted',
  intent_events: 'deleted',
  tasks: 'deleted',
  enrollments: 'deleted',
  conversations: 'deleted',
  inbound_messages: 'deleted',
  subscribers: 'deleted',
  messages: 'redacted',
  message_attempts: 'redacted',
  orders: 'redacted',
  jobs: 'redacted',
  suppressions: 'kept',
  users: 'kept',
  owner_profiles: 'kept',
} as const;
export type PersonalTable = keyof typeof PERSONAL_TABLES;
export type ErasureAction = (typeof PERSONAL_TABLES)[PersonalTable];

/** What a removed text reads as: erasure and retention leave different marks. */
export const ERASED = '[erased]';
export const REDACTED = '[redacted]';

const CHUNK = 500;

function chunked<T>(items: readonly T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The subscribers table is typed by its feature (status/subscribers), not the shared schema. */
function withSubscribers(ex: Executor) {
  return ex.withTables<{ subscribers: SubscribersTable }>();
}

type LooseDB = Record<string, Record<string, unknown>>;
/** Tables addressed by name (export, generic row lookups). */
function loose(ex: Executor): Kysely<LooseDB> {
  return ex as unknown as Kysely<LooseDB>;
}

/** `column` (text or JSON) contains `needle` (lower case), in either dialect. */
function contains(dialect: Dialect, column: string, needle: string): Expression<SqlBool> {
  return dialect === 'postgres'
    ? sql<SqlBool>`strpos(lower(cast(${sql.ref(column)} as text)), ${needle}) > 0`
    : sql<SqlBool>`instr(lower(${sql.ref(column)}), ${needle}) > 0`;
}

/** Everything that belongs to one person: their addresses and the rows of each table. */
export interface Located {
  subject: Subject;
  emails: string[];
  phones: string[];
  /** Text forms of the person's addresses as stored (for scrubbing free text). */
  needles: string[];
  ids: Record<PersonalTable, string[]>;
}

async function heldByAnotherLead(ex: Executor, column: 'email' | 'phone', value: string, own: readonly string[]) {
  let q = ex.selectFrom('leads').select('id').where(column, '=', value);
  if (own.length > 0) q = q.where('id', 'not in', own);
  return (await q.limit(1).executeTakeFirst()) !== undefined;
}

/**
 * Find the person. Their leads are the ones holding the subject's address; a lead's other address
 * (the email of a lead found by phone, and the reverse) counts as theirs too unless another lead
 * holds it (a shared switchboard number belongs to nobody in particular).
 */
export async function locate(ex: Executor, dialect: Dialect, subject: Subject): Promise<Located> {
  const emails = new Set<string>();
  const phones = new Set<string>();
  (subject.kind === 'email' ? emails : phones).add(subject.value);

  const leads = await ex
    .selectFrom('leads')
    .select(['id', 'email', 'phone'])
    .where(subject.kind === 'email' ? 'email' : 'phone', '=', subject.value)
    .execute();
  const leadIds = leads.map((l) => l.id);
  for (const lead of leads) {
    const email = lead.email?.toLowerCase();
    if (email && !emails.has(email) && !(await heldByAnotherLead(ex, 'email', lead.email as string, leadIds))) emails.add(email);
    if (lead.phone && !phones.has(lead.phone) && !(await heldByAnotherLead(ex, 'phone', lead.phone, leadIds)))
      phones.add(lead.phone);
  }
  const E = [...emails];
  const P = [...phones];
  const A = [...E, ...P];

  // Intent events: the person's leads and email, an address inside the free-form properties, and
  // the anonymous browsing of the same visitor (an anonymous id seen on one of their events).
  const events = await ex
    .selectFrom('intent_events')
    .select(['id', 'anonymous_id'])
    .where((eb) =>
      eb.or([
        ...(leadIds.length > 0 ? [eb('lead_id', 'in', leadIds)] : []),
        eb('email', 'in', E.length > 0 ? E : ['']),
        ...A.map((a) => contains(dialect, 'properties', a.toLowerCase())),
      ]),
    )
    .execute();
  const eventIds = new Set(events.map((e) => e.id));
  const anonymous = [...new Set(events.map((e) => e.anonymous_id).filter((a): a is string => a !== null))];
  for (const batch of chunked(anonymous)) {
    const more = await ex
      .selectFrom('intent_events')
      .select('id')
      .where('anonymous_id', 'in', batch)
      .where((eb) => eb.or([eb('lead_id', 'is', null), ...(leadIds.length > 0 ? [eb('lead_id', 'in', leadIds)] : [])]))
      .where((eb) => eb.or([eb('email', 'is', null), ...(E.length > 0 ? [eb('email', 'in', E)] : [])]))
      .execute();
    for (const r of more) eventIds.add(r.id);
  }

  const byLead = async (table: 'tasks' | 'enrollments') =>
    leadIds.length === 0
      ? []
      : (await ex.selectFrom(table).select('id').where('lead_id', 'in', leadIds).execute()).map((r) => r.id);

  const conversations = await ex
    .selectFrom('conversations')
    .select('id')
    .where((eb) => eb.or([eb('address', 'in', A), ...(leadIds.length > 0 ? [eb('lead_id', 'in', leadIds)] : [])]))
    .execute();
  const inbound = await ex.selectFrom('inbound_messages').select('id').where('from_address', 'in', A).execute();
  const subscribers = await withSubscribers(ex)
    .selectFrom('subscribers')
    .select('id')
    .where('channel', 'in', ['email', 'sms'])
    .where('address', 'in', A)
    .execute();
  const refs = [...leadIds.map((id) => `lead:${id}`), ...subscribers.map((s) => `subscriber:${s.id}`)];
  const messages = await ex
    .selectFrom('messages')
    .select(['id', 'recipient'])
    .where((eb) =>
      eb.or([eb(sql<string>`lower(recipient)`, 'in', A), ...(refs.length > 0 ? [eb('recipient_ref', 'in', refs)] : [])]),
    )
    .where('recipient', '!=', ERASED)
    .execute();
  const messageIds = messages.map((m) => m.id);
  const attempts: string[] = [];
  for (const batch of chunked(messageIds)) {
    const rows = await ex.selectFrom('message_attempts').select('id').where('message_id', 'in', batch).execute();
    for (const r of rows) attempts.push(r.id);
  }

  // Offline orders: the email as stored (lower-cased), phones as typed (compared by digits).
  const digits = new Set(P.map(phoneDigits));
  const orderRows = await ex
    .selectFrom('orders')
    .select(['id', 'email', 'phone'])
    .where((eb) => eb.or([eb('email', 'in', E.length > 0 ? E : ['']), eb('phone', 'is not', null)]))
    .execute();
  const orders = orderRows.filter(
    (o) => (E.includes(o.email.toLowerCase()) || (o.phone !== null && digits.has(phoneDigits(o.phone)))) && o.email !== ERASED,
  );

  const suppressions = await ex
    .selectFrom('suppressions')
    .select(['channel', 'address'])
    .where((eb) =>
      eb.or([
        eb.and([eb('channel', '=', 'email'), eb('address', 'in', E.length > 0 ? E : [''])]),
        eb.and([eb('channel', '=', 'sms'), eb('address', 'in', P.length > 0 ? P : [''])]),
      ]),
    )
    .execute();
  const users =
    E.length === 0 ? [] : await ex.selectFrom('users').select('id').where(sql<string>`lower(email)`, 'in', E).execute();
  const owners = P.length === 0 ? [] : await ex.selectFrom('owner_profiles').select('user_id').where('phone', 'in', P).execute();

  const needles = [
    ...new Set([
      ...A,
      ...messages.map((m) => m.recipient.toLowerCase()),
      ...orders.flatMap((o) => (o.phone ? [o.phone.toLowerCase()] : [])),
    ]),
  ];
  const jobs = await ex
    .selectFrom('jobs')
    .select('id')
    .where((eb) => eb.or(needles.map((n) => contains(dialect, 'last_error', n))))
    .execute();

  return {
    subject,
    emails: E,
    phones: P,
    needles,
    ids: {
      leads: leadIds,
      intent_events: [...eventIds],
      tasks: await byLead('tasks'),
      enrollments: await byLead('enrollments'),
      conversations: conversations.map((r) => r.id),
      inbound_messages: inbound.map((r) => r.id),
      subscribers: subscribers.map((r) => r.id),
      messages: messageIds,
      message_attempts: attempts,
      orders: orders.map((o) => o.id),
      jobs: jobs.map((j) => j.id),
      suppressions: suppressions.map((s) => `${s.channel}:${s.address}`),
      users: users.map((u) => u.id),
      owner_profiles: owners.map((o) => o.user_id),
    },
  };
}

export function countsOf(located: Located): Record<PersonalTable, number> {
  const out = {} as Record<PersonalTable, number>;
  for (const table of Object.keys(PERSONAL_TABLES) as PersonalTable[]) out[table] = located.ids[table].length;
  return out;
}

// ---- Export ----

/** JSON columns, decoded in the export. */
const JSON_COLUMNS: Partial<Record<PersonalTable, readonly string[]>> = {
  leads: ['attributes'],
  intent_events: ['properties'],
  inbound_messages: ['params'],
  messages: ['metadata'],
  subscribers: ['components'],
  orders: ['lines'],
  owner_profiles: ['working_hours'],
};
const BOOL_COLUMNS = new Set(['fallback_sent', 'drill', 'incident_drill']);
/** Credentials are never exported. */
const SECRET_COLUMNS: Partial<Record<PersonalTable, readonly string[]>> = {
  users: ['password_hash'],
  subscribers: ['secret_hash'],
};
/** Rows the export leaves out: the job queue's rows only ever mention the person in an error text. */
const NOT_EXPORTED: ReadonlySet<PersonalTable> = new Set(['jobs']);

function exportRow(table: PersonalTable, row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [column, value] of Object.entries(row)) {
    if (SECRET_COLUMNS[table]?.includes(column)) continue;
    if (JSON_COLUMNS[table]?.includes(column) && typeof value === 'string') out[column] = fromDbJson(value, null);
    else if (BOOL_COLUMNS.has(column) && value !== null) out[column] = fromDbBool(value as number | boolean);
    else if ((column === 'at' || column.endsWith('_at')) && typeof value === 'number') out[column] = toIso(value);
    else out[column] = value;
  }
  return out;
}

/** Every row of every table held about the person, as stored (times as ISO 8601, JSON decoded). */
export async function exportRows(ex: Executor, located: Located): Promise<Record<string, Array<Record<string, unknown>>>> {
  const db = loose(ex);
  const tables: Record<string, Array<Record<string, unknown>>> = {};
  for (const table of Object.keys(PERSONAL_TABLES) as PersonalTable[]) {
    if (NOT_EXPORTED.has(table)) continue;
    const rows: Array<Record<string, unknown>> = [];
    if (table === 'suppressions') {
      for (const key of located.ids.suppressions) {
        const at = key.indexOf(':');
        const found = await ex
          .selectFrom('suppressions')
          .selectAll()
          .where('channel', '=', key.slice(0, at))
          .where('address', '=', key.slice(at + 1))
          .execute();
        rows.push(...(found as unknown as Array<Record<string, unknown>>));
      }
    } else {
      const key = table === 'owner_profiles' ? 'user_id' : 'id';
      for (const batch of chunked(located.ids[table])) {
        rows.push(...(await db.selectFrom(table).selectAll().where(key, 'in', batch).orderBy(key).execute()));
      }
    }
    tables[table] = rows.map((r) => exportRow(table, r));
  }
  return tables;
}

// ---- Erasure ----

async function deleteByIds(ex: Executor, table: PersonalTable, ids: readonly string[]): Promise<number> {
  let n = 0;
  for (const batch of chunked(ids)) {
    const res = await loose(ex).deleteFrom(table).where('id', 'in', batch).executeTakeFirst();
    n += Number(res.numDeletedRows);
  }
  return n;
}

export interface ErasureCounts {
  tables: Record<PersonalTable, { action: ErasureAction; rows: number }>;
  suppressed: number;
}

/**
 * Remove the person from every table, inside the caller's transaction: their own rows deleted;
 * messages and offline orders kept for reporting without anything that names them; free texts
 * (provider errors, job errors) scrubbed. With `suppress`, their email and phone go on the
 * suppression list so nothing is ever sent to them again (the one place the address stays);
 * without it, earlier suppressions of those addresses go too.
 */
export async function eraseLocated(
  ex: Executor,
  located: Located,
  options: { now: number; suppress: boolean },
): Promise<ErasureCounts> {
  const { ids, needles } = located;
  const { now } = options;
  const rows = {} as Record<PersonalTable, number>;
  // A drill's rehearsal tiers name the lead only by id: they go with the lead.
  for (const batch of chunked(ids.leads)) await ex.deleteFrom('drill_leads').where('lead_id', 'in', batch).execute();
  for (const table of ['intent_events', 'tasks', 'enrollments', 'conversations', 'inbound_messages', 'leads'] as const) {
    rows[table] = await deleteByIds(ex, table, ids[table]);
  }
  let subscribers = 0;
  for (const batch of chunked(ids.subscribers)) {
    const res = await withSubscribers(ex).deleteFrom('subscribers').where('id', 'in', batch).executeTakeFirst();
    subscribers += Number(res.numDeletedRows);
  }
  rows.subscribers = subscribers;

  // Provider answers about the person's messages: what the provider said stays, their address goes.
  let attempts = 0;
  for (const batch of chunked(ids.message_attempts)) {
    const found = await ex
      .selectFrom('message_attempts')
      .select(['id', 'detail'])
      .where('id', 'in', batch)
      .where('detail', 'is not', null)
      .execute();
    for (const a of found) {
      if (!mentionsAny(a.detail, needles)) continue;
      await ex
        .updateTable('message_attempts')
        .set({ detail: scrubText(a.detail as string, needles, ERASED) })
        .where('id', '=', a.id)
        .execute();
      attempts += 1;
    }
  }
  rows.message_attempts = attempts;

  // Messages: not yet sent ones are cancelled; every one keeps its delivery facts and loses the
  // recipient, the body and the idempotency key (which holds the address).
  let messages = 0;
  for (const batch of chunked(ids.messages)) {
    await ex
      .updateTable('messages')
      .set({ status: 'suppressed', status_reason: 'recipient erased', updated_at: now })
      .where('id', 'in', batch)
      .where('status', '=', 'queued')
      .execute();
    const reasons = await ex
      .selectFrom('messages')
      .select(['id', 'status_reason'])
      .where('id', 'in', batch)
      .where('status_reason', 'is not', null)
      .execute();
    for (const r of reasons) {
      if (!mentionsAny(r.status_reason, needles)) continue;
      await ex
        .updateTable('messages')
        .set({ status_reason: scrubText(r.status_reason as string, needles, ERASED) })
        .where('id', '=', r.id)
        .execute();
    }
    const res = await ex
      .updateTable('messages')
      .set({
        recipient: ERASED,
        recipient_name: null,
        recipient_ref: null,
        subject: null,
        body_text: '',
        body_html: null,
        metadata: toDbJson({}),
        idempotency_key: sql<string>`cast(${'erased:'} as text) || id`,
        redacted_at: now,
      })
      .where('id', 'in', batch)
      .executeTakeFirst();
    messages += Number(res.numUpdatedRows);
  }
  rows.messages = messages;

  // Offline orders stay (what was ordered, by which company) without the person's contact details.
  let orders = 0;
  for (const batch of chunked(ids.orders)) {
    const res = await ex
      .updateTable('orders')
      .set({ contact_name: ERASED, email: ERASED, phone: null, notes: null, source: null, ip_hash: null, updated_at: now })
      .where('id', 'in', batch)
      .executeTakeFirst();
    orders += Number(res.numUpdatedRows);
  }
  rows.orders = orders;

  let jobs = 0;
  for (const batch of chunked(ids.jobs)) {
    const found = await ex.selectFrom('jobs').select(['id', 'last_error']).where('id', 'in', batch).execute();
    for (const j of found) {
      if (!mentionsAny(j.last_error, needles)) continue;
      await ex
        .updateTable('jobs')
        .set({ last_error: scrubText(j.last_error as string, needles, ERASED) })
        .where('id', '=', j.id)
        .execute();
      jobs += 1;
    }
  }
  rows.jobs = jobs;

  // The suppression list: the address stays (so nothing is sent to it again), or goes entirely.
  let suppressed = 0;
  if (options.suppress) {
    for (const [channel, list] of [
      ['email', located.emails],
      ['sms', located.phones],
    ] as const) {
      for (const address of list) {
        const res = await ex
          .insertInto('suppressions')
          .values({ channel, address, reason: 'erased', source: 'privacy', created_at: now })
          .onConflict((oc) => oc.columns(['channel', 'address']).doNothing())
          .executeTakeFirst();
        suppressed += Number(res.numInsertedOrUpdatedRows ?? 0);
      }
    }
    rows.suppressions = 0;
  } else {
    let removed = 0;
    for (const key of ids.suppressions) {
      const at = key.indexOf(':');
      const res = await ex
        .deleteFrom('suppressions')
        .where('channel', '=', key.slice(0, at))
        .where('address', '=', key.slice(at + 1))
        .executeTakeFirst();
      removed += Number(res.numDeletedRows);
    }
    rows.suppressions = removed;
  }
  rows.users = 0;
  rows.owner_profiles = 0;

  const tables = {} as ErasureCounts['tables'];
  for (const table of Object.keys(PERSONAL_TABLES) as PersonalTable[]) {
    const action: ErasureAction = table === 'suppressions' && !options.suppress ? 'deleted' : PERSONAL_TABLES[table];
    tables[table] = { action, rows: rows[table] };
  }
  return { tables, suppressed };
}

// ---- Retention purge (one batch each; the service runs each batch in its own transaction) ----

/** Remove body and recipient from up to `limit` final messages created before `cutoff`. */
export async function redactMessagesBatch(ex: Executor, cutoff: number, now: number, limit: number): Promise<number> {
  const ids = (
    await ex
      .selectFrom('messages')
      .select('id')
      .where('redacted_at', 'is', null)
      .where('created_at', '<', cutoff)
      .where('status', 'in', [...FINAL_STATUSES])
      .orderBy('created_at')
      .limit(limit)
      .execute()
  ).map((r) => r.id);
  if (ids.length === 0) return 0;
  // Provider answers keep what the provider said, without the address (read before it goes).
  await ex
    .updateTable('message_attempts')
    .set({
      detail: sql<string>`replace(detail, (select m.recipient from messages m where m.id = message_attempts.message_id), ${REDACTED})`,
    })
    .where('message_id', 'in', ids)
    .where('detail', 'is not', null)
    .execute();
  const res = await ex
    .updateTable('messages')
    .set({
      status_reason: sql<string>`replace(status_reason, recipient, ${REDACTED})`,
      recipient: REDACTED,
      recipient_name: null,
      subject: null,
      body_text: '',
      body_html: null,
      metadata: toDbJson({}),
      idempotency_key: sql<string>`cast(${'redacted:'} as text) || id`,
      redacted_at: now,
    })
    .where('id', 'in', ids)
    // A concurrent purge (the hourly job and "Purge now") redacts each row once.
    .where('redacted_at', 'is', null)
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}

async function deleteSelected(
  ex: Executor,
  table: 'signals' | 'intent_events' | 'conversations' | 'inbound_messages',
  ids: string[],
) {
  if (ids.length === 0) return 0;
  const res = await loose(ex).deleteFrom(table).where('id', 'in', ids).executeTakeFirst();
  return Number(res.numDeletedRows);
}

/** Resolved browser-beacon signals that ended before `cutoff` (firing ones always stay). */
export async function deleteBeaconSignalsBatch(ex: Executor, cutoff: number, limit: number): Promise<number> {
  const rows = await ex
    .selectFrom('signals')
    .select('id')
    .where('source', '=', 'beacon')
    .where('state', '=', 'resolved')
    .where('resolved_at', '<', cutoff)
    .limit(limit)
    .execute();
  return deleteSelected(
    ex,
    'signals',
    rows.map((r) => r.id),
  );
}

export async function deleteEventsBatch(ex: Executor, cutoff: number, limit: number): Promise<number> {
  const rows = await ex.selectFrom('intent_events').select('id').where('at', '<', cutoff).orderBy('at').limit(limit).execute();
  return deleteSelected(
    ex,
    'intent_events',
    rows.map((r) => r.id),
  );
}

export async function deleteConversationsBatch(ex: Executor, cutoff: number, limit: number): Promise<number> {
  const rows = await ex
    .selectFrom('conversations')
    .select('id')
    .where('updated_at', '<', cutoff)
    .orderBy('updated_at')
    .limit(limit)
    .execute();
  return deleteSelected(
    ex,
    'conversations',
    rows.map((r) => r.id),
  );
}

/** Inbound texts received before `cutoff` and handled (an unhandled one is still owed an answer). */
export async function deleteInboundBatch(ex: Executor, cutoff: number, limit: number): Promise<number> {
  const rows = await ex
    .selectFrom('inbound_messages')
    .select('id')
    .where('received_at', '<', cutoff)
    .where('handled_at', 'is not', null)
    .orderBy('received_at')
    .limit(limit)
    .execute();
  return deleteSelected(
    ex,
    'inbound_messages',
    rows.map((r) => r.id),
  );
}

export async function deleteSetting(ex: Executor, key: string): Promise<void> {
  await ex.deleteFrom('settings').where('key', '=', key).execute();
}
