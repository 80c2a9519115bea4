import { type Kysely, type Selectable, sql } from 'kysely';
import { fromDbJson, toDbJson } from '../../db/codec.js';
import type { Executor } from '../../db/database.js';
import type { DB, DbJson, Millis } from '../../db/schema.js';
import type { ComponentSelection, SubscriberChannel, SubscriberState } from './subscribers.js';

export interface SubscribersTable {
  id: string;
  channel: string;
  address: string;
  components: DbJson;
  state: string;
  secret_hash: string | null;
  secret_expires_at: Millis | null;
  attempts: number;
  source_ip_hash: string | null;
  created_at: Millis;
  updated_at: Millis;
  confirmed_at: Millis | null;
  unsubscribed_at: Millis | null;
}

type SubscriberDB = DB & { subscribers: SubscribersTable };

/** The subscribers table is this feature's own: typed here rather than in the shared schema. */
function sx(ex: Executor): Kysely<SubscriberDB> {
  return ex.withTables<{ subscribers: SubscribersTable }>();
}

export interface Subscriber {
  id: string;
  channel: SubscriberChannel;
  address: string;
  components: ComponentSelection;
  state: SubscriberState;
  secretHash: string | null;
  secretExpiresAt: number | null;
  attempts: number;
  createdAt: number;
  updatedAt: number;
  confirmedAt: number | null;
  unsubscribedAt: number | null;
}

function toSubscriber(row: Selectable<SubscribersTable>): Subscriber {
  return {
    id: row.id,
    channel: row.channel as SubscriberChannel,
    address: row.address,
    components: fromDbJson<ComponentSelection>(row.components, 'all'),
    state: row.state as SubscriberState,
    secretHash: row.secret_hash,
    secretExpiresAt: row.secret_expires_at,
    attempts: Number(row.attempts),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    confirmedAt: row.confirmed_at,
    unsubscribedAt: row.unsubscribed_at,
  };
}

export async function findSubscriber(ex: Executor, id: string): Promise<Subscriber | undefined> {
  const row = await sx(ex).selectFrom('subscribers').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toSubscriber(row) : undefined;
}

export async function findByAddress(ex: Executor, channel: SubscriberChannel, address: string): Promise<Subscriber | undefined> {
  const row = await sx(ex)
    .selectFrom('subscribers')
    .selectAll()
    .where('channel', '=', channel)
    .where('address', '=', address)
    .executeTakeFirst();
  return row ? toSubscriber(row) : undefined;
}

export async function findBySecretHash(ex: Executor, channel: SubscriberChannel, hash: string): Promise<Subscriber | undefined> {
  const row = await sx(ex)
    .selectFrom('subscribers')
    .selectAll()
    .where('channel', '=', channel)
    .where('secret_hash', '=', hash)
    .executeTakeFirst();
  return row ? toSubscriber(row) : undefined;
}

/**
 * Start (or restart) a pending subscription for an address that is not confirmed: a new secret,
 * a fresh expiry, attempts reset, the new component choice. Returns the row's id.
 */
export async function upsertPending(
  ex: Executor,
  input: {
    id: string;
    channel: SubscriberChannel;
    address: string;
    components: ComponentSelection;
    secretHash: string | null;
    expiresAt: number | null;
    ipHash: string | null;
    now: number;
  },
): Promise<void> {
  await sx(ex)
    .insertInto('subscribers')
    .values({
      id: input.id,
      channel: input.channel,
      address: input.address,
      components: toDbJson(input.components),
      state: 'pending',
      secret_hash: input.secretHash,
      secret_expires_at: input.expiresAt,
      attempts: 0,
      source_ip_hash: input.ipHash,
      created_at: input.now,
      updated_at: input.now,
      confirmed_at: null,
      unsubscribed_at: null,
    })
    .onConflict((oc) =>
      oc.columns(['channel', 'address']).doUpdateSet({
        components: toDbJson(input.components),
        state: 'pending',
        secret_hash: input.secretHash,
        secret_expires_at: input.expiresAt,
        attempts: 0,
        source_ip_hash: input.ipHash,
        updated_at: input.now,
        unsubscribed_at: null,
      }),
    )
    .execute();
}

/** Replace the secret of a pending row (the SMS code needs the row id first). */
export async function setSecret(ex: Executor, id: string, hash: string, expiresAt: number, now: number): Promise<void> {
  await sx(ex)
    .updateTable('subscribers')
    .set({ secret_hash: hash, secret_expires_at: expiresAt, attempts: 0, updated_at: now })
    .where('id', '=', id)
    .execute();
}

export async function confirm(ex: Executor, id: string, now: number): Promise<boolean> {
  const res = await sx(ex)
    .updateTable('subscribers')
    .set({ state: 'confirmed', confirmed_at: now, updated_at: now, secret_hash: null, secret_expires_at: null })
    .where('id', '=', id)
    .where('state', '=', 'pending')
    .executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

export async function recordWrongCode(ex: Executor, id: string, locked: boolean, now: number): Promise<void> {
  await sx(ex)
    .updateTable('subscribers')
    .set((eb) => ({
      attempts: eb('attempts', '+', 1),
      updated_at: now,
      ...(locked && { secret_hash: null, secret_expires_at: null }),
    }))
    .where('id', '=', id)
    .execute();
}

export async function unsubscribe(ex: Executor, id: string, now: number): Promise<boolean> {
  const res = await sx(ex)
    .updateTable('subscribers')
    .set({ state: 'unsubscribed', unsubscribed_at: now, updated_at: now, secret_hash: null, secret_expires_at: null })
    .where('id', '=', id)
    .where('state', '!=', 'unsubscribed')
    .executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

export async function deleteSubscriber(ex: Executor, id: string): Promise<boolean> {
  const res = await sx(ex).deleteFrom('subscribers').where('id', '=', id).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

/**
 * Opt-outs recorded anywhere else (one-click unsubscribe, SMS STOP) end the subscription too:
 * confirmed email and SMS subscribers whose address is suppressed become unsubscribed. One statement.
 */
export async function applyOptOuts(ex: Executor, now: number): Promise<number> {
  const res = await sx(ex)
    .updateTable('subscribers')
    .set({ state: 'unsubscribed', unsubscribed_at: now, updated_at: now })
    .where('state', '!=', 'unsubscribed')
    .where('channel', 'in', ['email', 'sms'])
    .where(({ exists, selectFrom }) =>
      exists(
        selectFrom('suppressions')
          .select(sql.lit(1).as('one'))
          .whereRef('suppressions.channel', '=', 'subscribers.channel')
          .whereRef('suppressions.address', '=', 'subscribers.address'),
      ),
    )
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}

/** Confirmed subscribers after `afterId`, in id order (keyset pages for large lists). */
export async function confirmedPage(
  ex: Executor,
  afterId: string,
  limit: number,
): Promise<Array<Pick<Subscriber, 'id' | 'channel' | 'address' | 'components'>>> {
  const rows = await sx(ex)
    .selectFrom('subscribers')
    .select(['id', 'channel', 'address', 'components'])
    .where('state', '=', 'confirmed')
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    channel: r.channel as SubscriberChannel,
    address: r.address,
    components: fromDbJson<ComponentSelection>(r.components, 'all'),
  }));
}

export async function listSubscribers(
  ex: Executor,
  filter: { channel?: SubscriberChannel | undefined; state?: SubscriberState | undefined; limit: number; offset: number },
): Promise<Subscriber[]> {
  let q = sx(ex).selectFrom('subscribers').selectAll().orderBy('id', 'desc').limit(filter.limit).offset(filter.offset);
  if (filter.channel) q = q.where('channel', '=', filter.channel);
  if (filter.state) q = q.where('state', '=', filter.state);
  return (await q.execute()).map(toSubscriber);
}

export async function countSubscribers(
  ex: Executor,
): Promise<Array<{ channel: SubscriberChannel; state: SubscriberState; count: number }>> {
  const rows = await sx(ex)
    .selectFrom('subscribers')
    .select(['channel', 'state', (eb) => eb.fn.countAll<number | string>().as('n')])
    .groupBy(['channel', 'state'])
    .execute();
  return rows.map((r) => ({ channel: r.channel as SubscriberChannel, state: r.state as SubscriberState, count: Number(r.n) }));
}

/** Insert many confirmed subscribers at once (imports and benchmarks). */
export async function insertConfirmed(
  ex: Executor,
  rows: ReadonlyArray<{ id: string; channel: SubscriberChannel; address: string; components: ComponentSelection }>,
  now: number,
): Promise<void> {
  for (let i = 0; i < rows.length; i += 500) {
    await sx(ex)
      .insertInto('subscribers')
      .values(
        rows.slice(i, i + 500).map((r) => ({
          id: r.id,
          channel: r.channel,
          address: r.address,
          components: toDbJson(r.components),
          state: 'confirmed',
          secret_hash: null,
          secret_expires_at: null,
          attempts: 0,
          source_ip_hash: null,
          created_at: now,
          updated_at: now,
          confirmed_at: now,
          unsubscribed_at: null,
        })),
      )
      .onConflict((oc) => oc.columns(['channel', 'address']).doNothing())
      .execute();
  }
}
