/**
 * Where the report's figures come from, read set-based (an outage may tag 100,000 leads and send
 * 200,000 messages: only grouped aggregates cross the wire), and the stored edits.
 */
import { sql } from 'kysely';
import { countByTier } from '../crm/outage/outage.repo.js';
import { fromDbJson, toDbJson } from '../db/codec.js';
import type { Dialect, Executor } from '../db/database.js';
import type { Row } from '../db/schema.js';
import { findComponentsByIds } from '../incidents/components.repo.js';
import { findIncident, listEvents, listIncidentComponents } from '../incidents/incidents.repo.js';
import { UPDATE_EVENT } from '../incidents/incidents.service.js';
import { type CadenceRules, cadenceFigures } from '../status/cadence/cadence.js';
import {
  bucketFor,
  type ChannelFacts,
  type ReportAction,
  type ReportEdits,
  type ReportFacts,
  type ReportState,
  TIERS,
  type TierFacts,
  type TierName,
} from './report.js';

const CALL_KINDS = ['call_now', 'account_call'];
const SENT = new Set(['sent', 'delivered']);
const FAILED = new Set(['bounced', 'failed', 'dead']);

// Literals, not parameters, in the per-minute division: PostgreSQL then divides integers.
const MINUTE_MS = 60_000;
const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

/** Every fact the report needs about one incident, as of `now`; undefined when there is no such incident. */
export async function loadReportFacts(
  ex: Executor,
  incidentId: string,
  options: { rules: CadenceRules; now: number },
): Promise<ReportFacts | undefined> {
  const incident = await findIncident(ex, incidentId);
  if (!incident) return undefined;
  const [links, events] = await Promise.all([listIncidentComponents(ex, [incidentId]), listEvents(ex, [incidentId])]);
  const names = await findComponentsByIds(
    ex,
    links.map((l) => l.componentId),
  );

  // The cadence's figures over the updates up to resolution: a postmortem published days later is
  // not a gap in the outage's updates.
  const updates = events
    .filter((e) => e.type === UPDATE_EVENT && e.public && (e.data as { status?: string }).status !== 'postmortem')
    .map((e) => e.at);
  const cadence = cadenceFigures(
    { declaredAt: incident.declaredAt, updates, resolvedAt: incident.resolvedAt },
    options.rules,
    options.now,
  );

  // Tiers as tagged at declaration (the timeline's record); the leads themselves may since have
  // been tagged by a later incident.
  const taggedEvent = [...events].reverse().find((e) => e.type === 'crm.leads_tagged');
  const recorded = (taggedEvent?.data as { tiers?: Partial<Record<TierName, number>> } | undefined)?.tiers;
  const tagged = recorded ? { A: num(recorded.A), B: num(recorded.B), C: num(recorded.C) } : await countByTier(ex, incidentId);

  const [pipelineRows, taskRows, channelRows, perMinute, orderRows, conversationRow] = await Promise.all([
    ex
      .selectFrom('leads')
      .select([
        'tier',
        (eb) => eb.fn.countAll<number>().as('leads'),
        (eb) => eb.fn.sum<number>(eb.fn.coalesce('arr_potential', sql.lit(0))).as('arr'),
        sql<number>`sum(case when ${reEngaged} then 1 else 0 end)`.as('re_engaged'),
        sql<number>`sum(case when ${reEngaged} then coalesce(arr_potential, 0) else 0 end)`.as('re_engaged_arr'),
      ])
      .where('outage_incident_id', '=', incidentId)
      .groupBy('tier')
      .execute(),
    ex
      .selectFrom('tasks')
      .select(['kind', 'outcome', (eb) => eb.fn.countAll<number>().as('n')])
      .where('incident_id', '=', incidentId)
      .groupBy(['kind', 'outcome'])
      .execute(),
    ex
      .selectFrom('messages')
      .select(['channel', 'status', (eb) => eb.fn.countAll<number>().as('n')])
      .where('incident_id', '=', incidentId)
      .groupBy(['channel', 'status'])
      .execute(),
    // Messages per minute since the start (one pass over the incident's messages); folded into
    // the chart's buckets below, once the span is known.
    ex
      .selectFrom('messages')
      .select([
        sql<number>`(created_at - ${sql.lit(Math.trunc(incident.startedAt))}) / ${sql.lit(MINUTE_MS)}`.as('m'),
        (eb) => eb.fn.countAll<number>().as('n'),
      ])
      .where('incident_id', '=', incidentId)
      .groupBy(sql`1`)
      .execute(),
    ex.selectFrom('orders').select(['company', 'lines', 'unknown_skus']).where('incident_id', '=', incidentId).execute(),
    ex
      .selectFrom('conversations')
      .select([(eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.count<number>('lead_id').as('with_lead')])
      .where('incident_id', '=', incidentId)
      .executeTakeFirst(),
  ]);

  const pipeline = Object.fromEntries(TIERS.map((t) => [t, { leads: 0, arr: 0, reEngaged: 0, reEngagedArr: 0 }])) as Record<
    TierName,
    TierFacts
  >;
  for (const r of pipelineRows) {
    const tier = (TIERS as readonly string[]).includes(r.tier ?? '') ? (r.tier as TierName) : 'C';
    const p = pipeline[tier];
    p.leads += num(r.leads);
    p.arr += num(r.arr);
    p.reEngaged += num(r.re_engaged);
    p.reEngagedArr += num(r.re_engaged_arr);
  }

  const tasks = { calls: 0, callsLogged: 0, reached: 0, voicemail: 0, noAnswer: 0, demosBooked: 0, followups: 0 };
  for (const r of taskRows) {
    const n = num(r.n);
    if (CALL_KINDS.includes(r.kind)) {
      tasks.calls += n;
      if (r.outcome) tasks.callsLogged += n;
    }
    if (r.kind === 'recovery_followup') tasks.followups += n;
    if (r.outcome === 'reached') tasks.reached += n;
    if (r.outcome === 'voicemail') tasks.voicemail += n;
    if (r.outcome === 'no_answer') tasks.noAnswer += n;
    if (r.outcome === 'demo_booked') tasks.demosBooked += n;
  }

  const channels = new Map<string, ChannelFacts>();
  for (const r of channelRows) {
    const c = channels.get(r.channel) ?? { channel: r.channel, total: 0, sent: 0, failed: 0, suppressed: 0 };
    const n = num(r.n);
    c.total += n;
    if (SENT.has(r.status)) c.sent += n;
    if (FAILED.has(r.status)) c.failed += n;
    if (r.status === 'suppressed') c.suppressed += n;
    channels.set(r.channel, c);
  }

  // Messages over time: from the incident's start to its last message (or its end).
  const from = incident.startedAt;
  const minutes = perMinute.map((r) => ({ m: Math.max(0, Math.floor(num(r.m))), n: num(r.n) }));
  const lastMinute = minutes.reduce((max, r) => Math.max(max, r.m), 0);
  const to = Math.max(incident.resolvedAt ?? options.now, from + (lastMinute + 1) * MINUTE_MS);
  const bucketMs = bucketFor(from, to);
  const counts = new Array<number>(Math.max(1, Math.ceil((to - from) / bucketMs))).fill(0);
  for (const r of minutes) {
    const b = Math.min(counts.length - 1, Math.floor((r.m * MINUTE_MS) / bucketMs));
    counts[b] = (counts[b] ?? 0) + r.n;
  }

  let units = 0;
  let unknownSkus = 0;
  for (const o of orderRows) {
    unknownSkus += num(o.unknown_skus);
    for (const line of fromDbJson<Array<{ quantity?: number }>>(o.lines, [])) units += num(line.quantity);
  }

  return {
    incident: {
      id: incident.id,
      name: incident.name,
      status: incident.status,
      impact: incident.impact,
      drill: incident.drill,
      scope: incident.scope,
      startedAt: incident.startedAt,
      detectedAt: incident.detectedAt,
      declaredAt: incident.declaredAt,
      acknowledgedAt: incident.acknowledgedAt,
      monitoringAt: incident.monitoringAt,
      resolvedAt: incident.resolvedAt,
    },
    components: links.map((l) => ({
      id: l.componentId,
      name: names.get(l.componentId)?.name ?? l.componentId,
      status: l.status,
    })),
    events,
    cadence,
    promiseMs: options.rules.promiseMs,
    tagged,
    pipeline,
    tasks,
    messages: {
      byChannel: [...channels.values()].sort((a, b) => b.total - a.total || a.channel.localeCompare(b.channel)),
      overTime: { from, bucketMs, counts },
    },
    orders: {
      count: orderRows.length,
      units,
      companies: new Set(orderRows.map((o) => o.company.trim().toLowerCase())).size,
      unknownSkus,
    },
    conversations: { count: num(conversationRow?.n), withLead: num(conversationRow?.with_lead) },
  };
}

/** A lead re-engaged during this outage (after it was tagged), as the CRM recovery counts it. */
const reEngaged = sql`re_engaged_at is not null and (tagged_at is null or re_engaged_at >= tagged_at)`;

// ---- stored edits ----

export interface StoredReport {
  edits: ReportEdits;
  state: ReportState;
  updatedBy: string | null;
  publishedBy: string | null;
}

function toStored(row: Row<'incident_reports'>): StoredReport {
  return {
    edits: {
      summary: row.summary,
      rootCause: row.root_cause,
      actions: fromDbJson<ReportAction[]>(row.actions, []),
    },
    state: {
      state: row.state === 'published' ? 'published' : 'draft',
      publishedAt: row.published_at === null ? null : Number(row.published_at),
      revision: Number(row.revision),
      updatedAt: Number(row.updated_at),
    },
    updatedBy: row.updated_by,
    publishedBy: row.published_by,
  };
}

/** The stored report; on PostgreSQL inside a transaction, locked against a concurrent edit. */
export async function findReport(ex: Executor, incidentId: string, lock?: Dialect): Promise<StoredReport | undefined> {
  let q = ex.selectFrom('incident_reports').selectAll().where('incident_id', '=', incidentId);
  if (lock === 'postgres') q = q.forUpdate();
  const row = await q.executeTakeFirst();
  return row ? toStored(row) : undefined;
}

/** Write the edits (a new row at revision 1, else the next revision). */
export async function saveReport(
  ex: Executor,
  incidentId: string,
  edits: ReportEdits,
  input: { at: number; by: string; previous: StoredReport | undefined },
): Promise<void> {
  const values = {
    summary: edits.summary,
    root_cause: edits.rootCause,
    actions: toDbJson(edits.actions),
    updated_at: input.at,
    updated_by: input.by,
  };
  if (!input.previous) {
    await ex
      .insertInto('incident_reports')
      .values({
        incident_id: incidentId,
        state: 'draft',
        revision: 1,
        created_at: input.at,
        published_at: null,
        published_by: null,
        ...values,
      })
      .execute();
    return;
  }
  await ex
    .updateTable('incident_reports')
    .set({ ...values, revision: input.previous.state.revision + 1 })
    .where('incident_id', '=', incidentId)
    .execute();
}

export async function markPublished(ex: Executor, incidentId: string, input: { at: number; by: string }): Promise<void> {
  const existing = await findReport(ex, incidentId);
  if (!existing) {
    await ex
      .insertInto('incident_reports')
      .values({
        incident_id: incidentId,
        state: 'published',
        summary: null,
        root_cause: '',
        actions: toDbJson([]),
        revision: 1,
        created_at: input.at,
        updated_at: input.at,
        updated_by: input.by,
        published_at: input.at,
        published_by: input.by,
      })
      .execute();
    return;
  }
  await ex
    .updateTable('incident_reports')
    .set({
      state: 'published',
      published_at: input.at,
      published_by: input.by,
      updated_at: input.at,
      revision: existing.state.revision + 1,
    })
    .where('incident_id', '=', incidentId)
    .execute();
}
