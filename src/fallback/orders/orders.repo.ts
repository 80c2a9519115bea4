import { fromDbJson, toDbJson } from '../../db/codec.js';
import type { Executor } from '../../db/database.js';
import type { OrderLine, OrderState } from './orders.js';

export type StoredLine = OrderLine & { known: boolean };

export interface Order {
  id: string;
  reference: string;
  createdAt: number;
  updatedAt: number;
  company: string;
  contactName: string;
  email: string;
  phone: string | null;
  lines: StoredLine[];
  notes: string | null;
  source: string | null;
  snapshotId: string | null;
  unknownSkus: number;
  incidentId: string | null;
  incidentName: string | null;
  state: OrderState;
  emailedAt: number | null;
  emailProblem: string | null;
  ipHash: string | null;
}

export type NewOrder = Omit<Order, 'incidentName' | 'updatedAt'>;

export async function insertOrder(ex: Executor, order: NewOrder): Promise<void> {
  await ex
    .insertInto('orders')
    .values({
      id: order.id,
      reference: order.reference,
      created_at: order.createdAt,
      updated_at: order.createdAt,
      company: order.company,
      contact_name: order.contactName,
      email: order.email,
      phone: order.phone,
      lines: toDbJson(order.lines),
      notes: order.notes,
      source: order.source,
      snapshot_id: order.snapshotId,
      unknown_skus: order.unknownSkus,
      incident_id: order.incidentId,
      state: order.state,
      emailed_at: order.emailedAt,
      email_problem: order.emailProblem,
      ip_hash: order.ipHash,
    })
    .execute();
}

function selectOrders(ex: Executor) {
  return ex
    .selectFrom('orders')
    .leftJoin('incidents', 'incidents.id', 'orders.incident_id')
    .selectAll('orders')
    .select('incidents.name as incident_name');
}

type OrderRow = Awaited<ReturnType<ReturnType<typeof selectOrders>['executeTakeFirstOrThrow']>>;

function toOrder(r: OrderRow): Order {
  return {
    id: r.id,
    reference: r.reference,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    company: r.company,
    contactName: r.contact_name,
    email: r.email,
    phone: r.phone,
    lines: fromDbJson<StoredLine[]>(r.lines, []),
    notes: r.notes,
    source: r.source,
    snapshotId: r.snapshot_id,
    unknownSkus: Number(r.unknown_skus),
    incidentId: r.incident_id,
    incidentName: r.incident_name ?? null,
    state: r.state as OrderState,
    emailedAt: r.emailed_at === null ? null : Number(r.emailed_at),
    emailProblem: r.email_problem,
    ipHash: r.ip_hash,
  };
}

export async function findOrder(ex: Executor, id: string): Promise<Order | undefined> {
  const row = await selectOrders(ex).where('orders.id', '=', id).executeTakeFirst();
  return row ? toOrder(row) : undefined;
}

export async function listOrders(ex: Executor, options: { state?: OrderState | undefined; limit: number }): Promise<Order[]> {
  let q = selectOrders(ex);
  if (options.state) q = q.where('orders.state', '=', options.state);
  const rows = await q.orderBy('orders.created_at', 'desc').orderBy('orders.id', 'desc').limit(options.limit).execute();
  return rows.map(toOrder);
}

export async function setState(ex: Executor, id: string, from: OrderState, to: OrderState, now: number): Promise<boolean> {
  const result = await ex
    .updateTable('orders')
    .set({ state: to, updated_at: now })
    .where('id', '=', id)
    .where('state', '=', from)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** The open incident an order arrives during: the latest declared one not resolved, real before drill. */
export async function openIncident(ex: Executor): Promise<{ id: string; name: string } | undefined> {
  const rows = await ex
    .selectFrom('incidents')
    .select(['id', 'name', 'drill'])
    .where('resolved_at', 'is', null)
    .orderBy('declared_at', 'desc')
    .limit(20)
    .execute();
  const real = rows.find((r) => r.drill === false || r.drill === 0) ?? rows[0];
  return real ? { id: real.id, name: real.name } : undefined;
}

/** Which of these SKUs the snapshot holds. */
export async function knownSkus(ex: Executor, snapshotId: string, skus: readonly string[]): Promise<Set<string>> {
  const unique = [...new Set(skus)];
  if (unique.length === 0) return new Set();
  const rows = await ex
    .selectFrom('catalog_products')
    .select('sku')
    .where('snapshot_id', '=', snapshotId)
    .where('sku', 'in', unique)
    .execute();
  return new Set(rows.map((r) => r.sku));
}
