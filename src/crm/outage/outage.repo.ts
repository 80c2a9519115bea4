import { sql } from 'kysely';
import { fromDbBool, toDbBool } from '../../db/codec.js';
import type { Executor } from '../../db/database.js';
import type { NewRow } from '../../db/schema.js';
import type { Tier, TierRule } from './tiers.js';
import { NO_RULE_MATCHED, PRIORITY_OF_TIER, ruleIndexSql } from './tiers.js';

/** SQLite allows 32,766 bound values per statement; tasks have 15 columns. */
const BATCH = 500;

export function chunks<T>(items: readonly T[], size = BATCH): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Leads an outage affects: the pipeline (not customers), not already tagged for another open incident. */
function affectedFilter(incidentId: string) {
  return sql<boolean>`leads.lifecycle <> 'customer' and (leads.outage_status is null or leads.outage_status <> 'active' or leads.outage_incident_id = ${incidentId})`;
}

export interface TagInput {
  incidentId: string;
  channel: string;
  rules: readonly TierRule[];
  at: number;
}

/** A value of the rule whose index is `t.idx` (see ruleIndexSql), or `fallback` when none matched. */
function ruleValueSql(rules: readonly TierRule[], value: (rule: TierRule) => string, fallback: string) {
  const cases = rules.map((rule, i) => sql`when ${sql.lit(i)} then ${sql.lit(value(rule))}`);
  return cases.length === 0
    ? sql<string>`${sql.lit(fallback)}`
    : sql<string>`case t.idx ${sql.join(cases, sql` `)} else ${sql.lit(fallback)} end`;
}

/**
 * Tag and tier every affected lead in one set-based statement (plus a look at the time zones in
 * use, for "demo today"). Returns the count per tier.
 */
export async function tagLeads(ex: Executor, input: TagInput): Promise<Record<Tier, number>> {
  const { incidentId, rules, at } = input;
  const zones = (await ex.selectFrom('leads').select('timezone').distinct().where(affectedFilter(incidentId)).execute()).map(
    (r) => r.timezone,
  );
  const pick = (value: (rule: TierRule) => string, fallback: string) => ruleValueSql(rules, value, fallback);
  // One UPDATE … FROM (SQLite 3.33+ and PostgreSQL): the subquery evaluates the rules once per lead.
  await ex
    .updateTable('leads')
    .from(
      ex
        .selectFrom('leads')
        .select(['leads.id as lead_id', ruleIndexSql(rules, at, zones).as('idx')])
        .where(affectedFilter(incidentId))
        .as('t'),
    )
    .set({
      outage_status: 'active',
      outage_channel: input.channel,
      fallback_sent: toDbBool(false),
      outage_incident_id: incidentId,
      tagged_at: at,
      re_engaged_at: null,
      updated_at: at,
      tier: pick((r) => r.tier, 'C'),
      outage_priority: pick((r) => PRIORITY_OF_TIER[r.tier], 'low'),
      tier_rule: pick((r) => r.name, NO_RULE_MATCHED),
    })
    .whereRef('leads.id', '=', 't.lead_id')
    .execute();
  return countByTier(ex, incidentId);
}

export async function countByTier(ex: Executor, incidentId: string): Promise<Record<Tier, number>> {
  const rows = await ex
    .selectFrom('leads')
    .select(['tier', (eb) => eb.fn.countAll<number>().as('n')])
    .where('outage_incident_id', '=', incidentId)
    .groupBy('tier')
    .execute();
  const counts: Record<Tier, number> = { A: 0, B: 0, C: 0 };
  for (const r of rows) if (r.tier === 'A' || r.tier === 'B' || r.tier === 'C') counts[r.tier] = Number(r.n);
  return counts;
}

// ---- Drills: the same rules and candidates, kept in drill_leads (the leads are never written) ----

/** The pipeline a drill rehearses on: every lead but customers, in a real outage or not. */
const drillPipeline = sql<boolean>`leads.lifecycle <> 'customer'`;

/**
 * Tier the pipeline for a drill incident with the same rules and the same SQL as tagLeads, into
 * drill_leads (once per incident and lead; a replay adds nothing). Returns the leads added now.
 */
export async function rehearseTiers(
  ex: Executor,
  input: { incidentId: string; rules: readonly TierRule[]; at: number },
): Promise<number> {
  const { incidentId, rules, at } = input;
  const zones = (await ex.selectFrom('leads').select('timezone').distinct().where(drillPipeline).execute()).map(
    (r) => r.timezone,
  );
  const res = await ex
    .insertInto('drill_leads')
    .columns(['incident_id', 'lead_id', 'tier', 'rule', 'created_at'])
    .expression(
      ex
        .selectFrom(
          ex
            .selectFrom('leads')
            .select(['leads.id as lead_id', ruleIndexSql(rules, at, zones).as('idx')])
            .where(drillPipeline)
            .as('t'),
        )
        .select([
          sql<string>`${incidentId}`.as('incident_id'),
          't.lead_id',
          ruleValueSql(rules, (r) => r.tier, 'C').as('tier'),
          ruleValueSql(rules, (r) => r.name, NO_RULE_MATCHED).as('rule'),
          sql<number>`${at}`.as('created_at'),
        ])
        // SQLite reads "ON CONFLICT" after a SELECT without WHERE as a join constraint.
        .where('t.lead_id', 'is not', null),
    )
    .onConflict((oc) => oc.columns(['incident_id', 'lead_id']).doNothing())
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0);
}

/** A drill's leads per tier (what a real incident would have tagged). */
export async function countDrillTiers(ex: Executor, incidentId: string): Promise<Record<Tier, number>> {
  const rows = await ex
    .selectFrom('drill_leads')
    .select(['tier', (eb) => eb.fn.countAll<number>().as('n')])
    .where('incident_id', '=', incidentId)
    .groupBy('tier')
    .execute();
  const counts: Record<Tier, number> = { A: 0, B: 0, C: 0 };
  for (const r of rows) if (r.tier === 'A' || r.tier === 'B' || r.tier === 'C') counts[r.tier] = Number(r.n);
  return counts;
}

/** What a drill message needs about one lead of a tier. */
export interface DrillMessageLead {
  id: string;
  email: string | null;
  phone: string | null;
  first_name: string | null;
  company: string | null;
  timezone: string | null;
  consent_email: string;
  consent_sms: string;
  calendar_link: string | null;
}

/** The leads of one tier of a drill, by id, a page at a time (after `afterId`). */
export async function drillLeadsOfTier(
  ex: Executor,
  incidentId: string,
  tier: Tier,
  afterId: string,
  limit = BATCH,
): Promise<DrillMessageLead[]> {
  return ex
    .selectFrom('drill_leads')
    .innerJoin('leads', 'leads.id', 'drill_leads.lead_id')
    .leftJoin('owner_profiles', 'owner_profiles.user_id', 'leads.owner_id')
    .select([
      'leads.id',
      'leads.email',
      'leads.phone',
      'leads.first_name',
      'leads.company',
      'leads.timezone',
      'leads.consent_email',
      'leads.consent_sms',
      'owner_profiles.calendar_link',
    ])
    .where('drill_leads.incident_id', '=', incidentId)
    .where('drill_leads.tier', '=', tier)
    .where('leads.id', '>', afterId)
    .orderBy('leads.id')
    .limit(limit)
    .execute();
}

/** A drill is over: its tasks still open are cancelled ("drill over"). Returns how many. */
export async function cancelDrillTasks(ex: Executor, incidentId: string, now: number): Promise<number> {
  const res = await ex
    .updateTable('tasks')
    .set({ state: 'cancelled', outcome_note: 'drill over', updated_at: now })
    .where('incident_id', '=', incidentId)
    .where('state', '=', 'open')
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}

export interface TaskCandidate {
  id: string;
  owner_id: string | null;
  tier: string | null;
  first_name: string | null;
  last_name: string | null;
  company: string | null;
  demo_scheduled_at: number | null;
  account_arr: number | null;
}

/**
 * Tier A leads, and leads of accounts above `arrAbove` or with an upcoming demo: the leads tagged
 * for the incident, or for a drill (`drill`) the leads of its drill_leads with their drill tier.
 */
export async function listTaskCandidates(
  ex: Executor,
  incidentId: string,
  arrAbove: number,
  at: number,
  options: { drill?: boolean } = {},
): Promise<TaskCandidate[]> {
  if (options.drill) {
    return ex
      .selectFrom('drill_leads')
      .innerJoin('leads', 'leads.id', 'drill_leads.lead_id')
      .leftJoin('accounts', 'accounts.id', 'leads.account_id')
      .select([
        'leads.id',
        'leads.owner_id',
        'drill_leads.tier',
        'leads.first_name',
        'leads.last_name',
        'leads.company',
        'leads.demo_scheduled_at',
        'accounts.arr as account_arr',
      ])
      .where('drill_leads.incident_id', '=', incidentId)
      .where((eb) =>
        eb.or([eb('drill_leads.tier', '=', 'A'), eb('accounts.arr', '>', arrAbove), eb('leads.demo_scheduled_at', '>=', at)]),
      )
      .orderBy('leads.id')
      .execute();
  }
  return ex
    .selectFrom('leads')
    .leftJoin('accounts', 'accounts.id', 'leads.account_id')
    .select([
      'leads.id',
      'leads.owner_id',
      'leads.tier',
      'leads.first_name',
      'leads.last_name',
      'leads.company',
      'leads.demo_scheduled_at',
      'accounts.arr as account_arr',
    ])
    .where('leads.outage_incident_id', '=', incidentId)
    .where('leads.outage_status', '=', 'active')
    .where((eb) =>
      eb.or([eb('leads.tier', '=', 'A'), eb('accounts.arr', '>', arrAbove), eb('leads.demo_scheduled_at', '>=', at)]),
    )
    .orderBy('leads.id')
    .execute();
}

/** The products each lead viewed since `since`, most recent first (at most `limit` per lead). */
export async function productsViewed(
  ex: Executor,
  leadIds: readonly string[],
  since: number,
  limit = 5,
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const ids of chunks(leadIds)) {
    const rows = await ex
      .selectFrom('intent_events')
      .select(['lead_id', 'product', (eb) => eb.fn.max('at').as('last')])
      .where('lead_id', 'in', ids)
      .where('type', '=', 'product_viewed')
      .where('product', 'is not', null)
      .where('at', '>=', since)
      .groupBy(['lead_id', 'product'])
      .orderBy('lead_id')
      .orderBy('last', 'desc')
      .orderBy('product')
      .execute();
    for (const r of rows) {
      if (!r.lead_id || !r.product) continue;
      const list = out.get(r.lead_id) ?? [];
      if (list.length < limit) list.push(r.product);
      out.set(r.lead_id, list);
    }
  }
  return out;
}

export async function insertTasks(ex: Executor, rows: readonly NewRow<'tasks'>[]): Promise<number> {
  let created = 0;
  for (const batch of chunks(rows)) {
    const res = await ex
      .insertInto('tasks')
      .values(batch)
      .onConflict((oc) => oc.columns(['incident_id', 'lead_id', 'kind']).doNothing())
      .executeTakeFirst();
    created += Number(res.numInsertedOrUpdatedRows ?? 0);
  }
  return created;
}

/** The outage sequence each tier is enrolled in (Tier A gets an owner call instead). */
export const SEQUENCE_OF_TIER = { B: 'tier_b', C: 'tier_c' } as const satisfies Partial<Record<Tier, string>>;

/**
 * Enrollment rows for the Tier B and C leads of an incident in one INSERT … SELECT per sequence.
 * Ids: an app-made time-ordered prefix plus the lead id (unique per incident and sequence).
 */
export async function insertEnrollments(ex: Executor, incidentId: string, at: number, idPrefix: string): Promise<number> {
  let created = 0;
  for (const [tier, sequence] of Object.entries(SEQUENCE_OF_TIER)) {
    const res = await ex
      .insertInto('enrollments')
      .columns(['id', 'incident_id', 'lead_id', 'sequence', 'step', 'state', 'next_at', 'created_at', 'updated_at'])
      .expression((eb) =>
        eb
          .selectFrom('leads')
          .select([
            sql<string>`${`${idPrefix}-${sequence}-`} || leads.id`.as('id'),
            sql<string>`${incidentId}`.as('incident_id'),
            'leads.id as lead_id',
            sql<string>`${sequence}`.as('sequence'),
            sql<number>`0`.as('step'),
            sql<string>`'active'`.as('state'),
            sql<number>`${at}`.as('next_at'),
            sql<number>`${at}`.as('created_at'),
            sql<number>`${at}`.as('updated_at'),
          ])
          .where('leads.outage_incident_id', '=', incidentId)
          .where('leads.outage_status', '=', 'active')
          .where('leads.tier', '=', tier),
      )
      .onConflict((oc) => oc.columns(['incident_id', 'lead_id', 'sequence']).doNothing())
      .executeTakeFirst();
    created += Number(res.numInsertedOrUpdatedRows ?? 0);
  }
  return created;
}

export async function resolveLeads(ex: Executor, incidentId: string, now: number): Promise<number> {
  const res = await ex
    .updateTable('leads')
    .set({ outage_status: 'resolved', updated_at: now })
    .where('outage_incident_id', '=', incidentId)
    .where('outage_status', '=', 'active')
    .executeTakeFirst();
  return Number(res.numUpdatedRows);
}

/** Leads that were sent (or are queued) an outage message of the incident: refs `lead:<id>`. */
export async function leadsMessaged(ex: Executor, incidentId: string, exceptTemplate: string): Promise<string[]> {
  const rows = await ex
    .selectFrom('messages')
    .select('recipient_ref')
    .distinct()
    .where('incident_id', '=', incidentId)
    .where('recipient_ref', 'like', 'lead:%')
    .where('status', 'not in', ['suppressed', 'failed', 'dead', 'bounced'])
    .where((eb) => eb.or([eb('template_key', 'is', null), eb('template_key', '<>', exceptTemplate)]))
    .execute();
  return rows.map((r) => (r.recipient_ref as string).slice('lead:'.length));
}

// ---- Owner tasks as people see them (the tasks API, the console's task list, the incident room) ----

export interface TaskRecord {
  id: string;
  incidentId: string | null;
  /** A drill's task (a rehearsal): labelled DRILL, its outcome never changes the lead. */
  drill: boolean;
  ownerId: string | null;
  ownerName: string | null;
  kind: string;
  title: string;
  script: string | null;
  dueAt: number;
  state: string;
  outcome: string | null;
  outcomeNote: string | null;
  assignedReason: string | null;
  createdAt: number;
  doneAt: number | null;
  lead: {
    id: string;
    firstName: string | null;
    lastName: string | null;
    company: string | null;
    phone: string | null;
    email: string | null;
    /** For a drill's task, the drill's tier (the lead's own tier belongs to a real outage). */
    tier: string | null;
    tierRule: string | null;
  };
}

export interface TaskFilter {
  /** One task. */
  id?: string | undefined;
  /** An owner's user id, `unassigned`, or everyone (undefined). */
  owner?: string | undefined;
  /** open, done, cancelled; every state when undefined. */
  state?: string | undefined;
  incidentId?: string | undefined;
  /** due: soonest due first; open_first: open (soonest due) then done; recently_done: latest done first. */
  order: 'due' | 'open_first' | 'recently_done';
  limit: number;
}

/** Tasks with their lead, owner and drill tier: the one query behind every task list. */
export async function findTasks(ex: Executor, filter: TaskFilter): Promise<TaskRecord[]> {
  let q = ex
    .selectFrom('tasks')
    .innerJoin('leads', 'leads.id', 'tasks.lead_id')
    .leftJoin('users', 'users.id', 'tasks.owner_id')
    .leftJoin('incidents', 'incidents.id', 'tasks.incident_id')
    .leftJoin('drill_leads', (j) =>
      j.onRef('drill_leads.incident_id', '=', 'tasks.incident_id').onRef('drill_leads.lead_id', '=', 'tasks.lead_id'),
    )
    .select([
      'tasks.id',
      'tasks.incident_id',
      'tasks.owner_id',
      'users.name as owner_name',
      'tasks.kind',
      'tasks.title',
      'tasks.script',
      'tasks.due_at',
      'tasks.state',
      'tasks.outcome',
      'tasks.outcome_note',
      'tasks.assigned_reason',
      'tasks.created_at',
      'tasks.done_at',
      'leads.id as lead_id',
      'leads.first_name',
      'leads.last_name',
      'leads.company',
      'leads.phone',
      'leads.email',
      'leads.tier',
      'leads.tier_rule',
      'incidents.drill',
      'drill_leads.tier as drill_tier',
      'drill_leads.rule as drill_rule',
    ]);
  if (filter.id !== undefined) q = q.where('tasks.id', '=', filter.id);
  if (filter.owner === 'unassigned') q = q.where('tasks.owner_id', 'is', null);
  else if (filter.owner !== undefined) q = q.where('tasks.owner_id', '=', filter.owner);
  if (filter.state) q = q.where('tasks.state', '=', filter.state);
  if (filter.incidentId) q = q.where('tasks.incident_id', '=', filter.incidentId);
  if (filter.order === 'recently_done') q = q.orderBy('tasks.done_at', 'desc').orderBy('tasks.id');
  else {
    if (filter.order === 'open_first') q = q.orderBy(sql`case when tasks.state = 'open' then 0 else 1 end`);
    q = q.orderBy('tasks.due_at').orderBy('tasks.id');
  }
  const rows = await q.limit(filter.limit).execute();
  return rows.map((r) => {
    const drill = r.drill !== null && fromDbBool(r.drill);
    return {
      id: r.id,
      incidentId: r.incident_id,
      drill,
      ownerId: r.owner_id,
      ownerName: r.owner_name,
      kind: r.kind,
      title: r.title,
      script: r.script,
      dueAt: Number(r.due_at),
      state: r.state,
      outcome: r.outcome,
      outcomeNote: r.outcome_note,
      assignedReason: r.assigned_reason,
      createdAt: Number(r.created_at),
      doneAt: r.done_at === null ? null : Number(r.done_at),
      lead: {
        id: r.lead_id,
        firstName: r.first_name,
        lastName: r.last_name,
        company: r.company,
        phone: r.phone,
        email: r.email,
        tier: drill ? r.drill_tier : r.tier,
        tierRule: drill ? r.drill_rule : r.tier_rule,
      },
    };
  });
}

/** How the console and the incident room name a task's lead: their name, else their email. */
export function taskLeadLabel(lead: TaskRecord['lead']): string {
  return [lead.firstName, lead.lastName].filter(Boolean).join(' ') || (lead.email ?? lead.id);
}
