import { sql } from 'kysely';
import { fromDbBool, fromDbJson, toDbBool, toDbJson } from '../db/codec.js';
import type { Database, Executor } from '../db/database.js';
import type { Row } from '../db/schema.js';
import * as incidents from '../incidents/incidents.repo.js';
import type { CreditState, Measurement, SlaPolicy } from './credits.js';
import type { EventFacts, IncidentFacts, LinkFacts } from './outages.js';

// ---------------------------------------------------------------------------------------------
// Policies

export async function listPolicies(ex: Executor): Promise<SlaPolicy[]> {
  const rows = await ex.selectFrom('sla_policies').selectAll().orderBy('plan').execute();
  return rows.map((r) => ({ ...fromDbJson<SlaPolicy>(r.body, {} as SlaPolicy), plan: r.plan }));
}

export async function upsertPolicy(ex: Executor, policy: SlaPolicy, now: number, actorId: string | null): Promise<void> {
  await ex
    .insertInto('sla_policies')
    .values({ plan: policy.plan, body: toDbJson(policy), updated_at: now, updated_by: actorId })
    .onConflict((oc) => oc.column('plan').doUpdateSet({ body: toDbJson(policy), updated_at: now, updated_by: actorId }))
    .execute();
}

// ---------------------------------------------------------------------------------------------
// Accounts and their plans

export interface AccountPlan {
  accountId: string;
  externalId: string | null;
  name: string;
  domain: string | null;
  plan: string;
  monthlyFeeCents: number;
  currency: string;
  components: string[];
  regions: string[];
  updatedAt: number;
}

function accountPlanQuery(ex: Executor) {
  return ex
    .selectFrom('account_plans')
    .innerJoin('accounts', 'accounts.id', 'account_plans.account_id')
    .select([
      'account_plans.account_id',
      'accounts.external_id',
      'accounts.name',
      'accounts.domain',
      'account_plans.plan',
      'account_plans.monthly_fee_cents',
      'account_plans.currency',
      'account_plans.components',
      'account_plans.regions',
      'account_plans.updated_at',
    ]);
}

type AccountPlanRow = Awaited<ReturnType<ReturnType<typeof accountPlanQuery>['execute']>>[number];

function toAccountPlan(r: AccountPlanRow): AccountPlan {
  return {
    accountId: r.account_id,
    externalId: r.external_id,
    name: r.name,
    domain: r.domain,
    plan: r.plan,
    monthlyFeeCents: Number(r.monthly_fee_cents),
    currency: r.currency,
    components: fromDbJson<string[]>(r.components, []),
    regions: fromDbJson<string[]>(r.regions, []),
    updatedAt: r.updated_at,
  };
}

export async function listAccountPlans(ex: Executor): Promise<AccountPlan[]> {
  return (await accountPlanQuery(ex).orderBy('accounts.name').orderBy('account_plans.account_id').execute()).map(toAccountPlan);
}

/** CRM accounts by external id, with their plan when they have one. */
export async function findAccountsByExternalId(
  ex: Executor,
  externalIds: readonly string[],
): Promise<Map<string, { account: Row<'accounts'>; plan: Row<'account_plans'> | undefined }>> {
  const out = new Map<string, { account: Row<'accounts'>; plan: Row<'account_plans'> | undefined }>();
  for (let i = 0; i < externalIds.length; i += 500) {
    const chunk = externalIds.slice(i, i + 500);
    const accounts = await ex.selectFrom('accounts').selectAll().where('external_id', 'in', chunk).execute();
    const plans =
      accounts.length === 0
        ? []
        : await ex
            .selectFrom('account_plans')
            .selectAll()
            .where(
              'account_id',
              'in',
              accounts.map((a) => a.id),
            )
            .execute();
    const planOf = new Map(plans.map((p) => [p.account_id, p]));
    for (const a of accounts) if (a.external_id !== null) out.set(a.external_id, { account: a, plan: planOf.get(a.id) });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// What the incidents say about a window

/** Non-drill incidents overlapping [from, to), their component-status events and component links. */
export async function loadOutageFacts(
  ex: Executor,
  from: number,
  to: number,
): Promise<{ incidents: IncidentFacts[]; events: EventFacts[]; links: LinkFacts[] }> {
  const rows = await ex
    .selectFrom('incidents')
    .selectAll()
    .where('drill', '=', toDbBool(false))
    .where('started_at', '<', to)
    .where((eb) => eb.or([eb('resolved_at', 'is', null), eb('resolved_at', '>', from)]))
    .orderBy('started_at')
    .execute();
  const list = rows.map(incidents.toIncident);
  const ids = list.map((i) => i.id);
  const events: EventFacts[] = [];
  const links: LinkFacts[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    for (const e of await incidents.listEvents(ex, chunk)) {
      if (e.type === 'incident.declared' || e.type === 'update.published' || e.type.startsWith('detection.'))
        events.push({ incidentId: e.incidentId, at: e.at, type: e.type, data: e.data });
    }
    links.push(...(await incidents.listIncidentComponents(ex, chunk)));
  }
  return {
    incidents: list.map((i) => ({ id: i.id, startedAt: i.startedAt, resolvedAt: i.resolvedAt, drill: i.drill, scope: i.scope })),
    events,
    links,
  };
}

export async function incidentNames(ex: Executor, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await ex.selectFrom('incidents').select(['id', 'name']).where('id', 'in', ids).execute();
  return new Map(rows.map((r) => [r.id, r.name]));
}

// ---------------------------------------------------------------------------------------------
// The ledger

/** What a computation decides for one account and month (stored on its ledger entry). */
export interface CreditFigures {
  plan: string;
  currency: string;
  feeCents: number;
  availabilityPpm: number;
  downtimeMs: number;
  creditBp: number;
  capped: boolean;
  amountCents: number;
  thresholdCents: number;
  policy: SlaPolicy;
  incidents: Array<Measurement['incidents'][number] & { name?: string }>;
}

/** A ledger entry: the figures, the account and month, and the decision. */
export interface Credit extends CreditFigures {
  id: string;
  accountId: string;
  accountName: string;
  accountExternalId: string | null;
  month: string;
  state: CreditState;
  computedAt: number;
  decidedAt: number | null;
  decidedBy: string | null;
  decidedByName: string | null;
  decidedRole: string | null;
  decisionNote: string | null;
  createdAt: number;
  updatedAt: number;
}

function creditQuery(ex: Executor) {
  return ex
    .selectFrom('credits')
    .leftJoin('accounts', 'accounts.id', 'credits.account_id')
    .selectAll('credits')
    .select(['accounts.name as account_name', 'accounts.external_id as account_external_id']);
}

type CreditRow = Row<'credits'> & { account_name: string | null; account_external_id: string | null };

function toCredit(r: CreditRow): Credit {
  return {
    id: r.id,
    accountId: r.account_id,
    accountName: r.account_name ?? r.account_id,
    accountExternalId: r.account_external_id,
    month: r.month,
    state: r.state as CreditState,
    plan: r.plan,
    currency: r.currency,
    feeCents: Number(r.fee_cents),
    availabilityPpm: Number(r.availability_ppm),
    downtimeMs: Number(r.downtime_ms),
    creditBp: Number(r.credit_bp),
    capped: fromDbBool(r.capped),
    amountCents: Number(r.amount_cents),
    thresholdCents: Number(r.threshold_cents),
    policy: fromDbJson<SlaPolicy>(r.policy, {} as SlaPolicy),
    incidents: fromDbJson<Credit['incidents']>(r.incidents, []),
    computedAt: r.computed_at,
    decidedAt: r.decided_at,
    decidedBy: r.decided_by,
    decidedByName: r.decided_by_name,
    decidedRole: r.decided_role,
    decisionNote: r.decision_note,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export async function listCredits(
  ex: Executor,
  filter: { month?: string | undefined; state?: CreditState | undefined; limit: number },
): Promise<Credit[]> {
  let q = creditQuery(ex).orderBy('credits.month', 'desc').orderBy('credits.amount_cents', 'desc').orderBy('credits.id');
  if (filter.month) q = q.where('credits.month', '=', filter.month);
  if (filter.state) q = q.where('credits.state', '=', filter.state);
  return (await q.limit(filter.limit).execute()).map(toCredit);
}

/** On PostgreSQL inside a transaction, lock the entry against a concurrent decision or recompute. */
export async function findCredit(ex: Executor, id: string, lock?: Database['dialect']): Promise<Credit | undefined> {
  if (lock === 'postgres') await sql`select id from credits where id = ${id} for update`.execute(ex);
  const row = await creditQuery(ex).where('credits.id', '=', id).executeTakeFirst();
  return row ? toCredit(row) : undefined;
}

function figuresRow(f: CreditFigures) {
  return {
    plan: f.plan,
    currency: f.currency,
    fee_cents: f.feeCents,
    availability_ppm: f.availabilityPpm,
    downtime_ms: f.downtimeMs,
    credit_bp: f.creditBp,
    capped: toDbBool(f.capped),
    amount_cents: f.amountCents,
    threshold_cents: f.thresholdCents,
    policy: toDbJson(f.policy),
    incidents: toDbJson(f.incidents),
  };
}

/** Insert a proposed entry; false when the account already has one for the month (a concurrent compute). */
export async function insertCredit(
  ex: Executor,
  input: { id: string; accountId: string; month: string; figures: CreditFigures; now: number },
): Promise<boolean> {
  const result = await ex
    .insertInto('credits')
    .values({
      id: input.id,
      account_id: input.accountId,
      month: input.month,
      state: 'proposed',
      ...figuresRow(input.figures),
      computed_at: input.now,
      created_at: input.now,
      updated_at: input.now,
    })
    .onConflict((oc) => oc.columns(['account_id', 'month']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

/** Rewrite the figures of an undecided entry (state proposed or withdrawn only). */
export async function reviseCredit(
  ex: Executor,
  id: string,
  input: { state: 'proposed' | 'withdrawn'; figures: CreditFigures; now: number },
): Promise<boolean> {
  const result = await ex
    .updateTable('credits')
    .set({ state: input.state, ...figuresRow(input.figures), computed_at: input.now, updated_at: input.now })
    .where('id', '=', id)
    .where('state', 'in', ['proposed', 'withdrawn'])
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function decideCredit(
  ex: Executor,
  id: string,
  input: {
    state: 'approved' | 'rejected';
    now: number;
    actorId: string | null;
    actorName: string;
    role: string;
    note: string | null;
  },
): Promise<boolean> {
  const result = await ex
    .updateTable('credits')
    .set({
      state: input.state,
      decided_at: input.now,
      decided_by: input.actorId,
      decided_by_name: input.actorName,
      decided_role: input.role,
      decision_note: input.note,
      updated_at: input.now,
    })
    .where('id', '=', id)
    .where('state', '=', 'proposed')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Approved entries of a month for billing, in a stable order. */
export async function approvedForExport(ex: Executor, month: string): Promise<Credit[]> {
  const rows = await creditQuery(ex)
    .where('credits.month', '=', month)
    .where('credits.state', '=', 'approved')
    .orderBy('accounts.external_id')
    .orderBy('credits.id')
    .execute();
  return rows.map(toCredit);
}
