import { describeIssues } from '../app/validation.js';
import { type Clock, toIso } from '../core/clock.js';
import { newId } from '../core/ids.js';
import { fromDbJson, toDbBool, toDbJson } from '../db/codec.js';
import type { Database, Executor } from '../db/database.js';
import type { NewRow } from '../db/schema.js';
import { attributeIncident, clockSkew, eventSchema, eventTime, type IntentEvent, scheduledAt, sourceOfSite } from './events.js';
import * as repo from './events.repo.js';
import { normaliseEmail } from './leads.js';

export interface EventBatchResult {
  accepted: number;
  duplicates: number;
  unmatched: number;
  errors: Array<{ index: number; field: string; message: string }>;
}

export interface RecordOptions {
  /** A showroom site's name (its public key was used); absent: an API token. */
  site?: string | null;
  /** The batch's sentAt (the sender's clock), to correct a skewed device clock. */
  sentAt?: string | undefined;
}

export interface EventView {
  id: string;
  message_id: string;
  type: string;
  lead_id: string | null;
  lead_email: string | null;
  email: string | null;
  anonymous_id: string | null;
  product: string | null;
  value: number | null;
  properties: Record<string, unknown>;
  at: string;
  received_at: string;
  source: string;
  incident: { id: string; name: string | null; drill: boolean } | null;
}

export function toEventView(r: repo.EventRow): EventView {
  return {
    id: r.id,
    message_id: r.message_id,
    type: r.type,
    lead_id: r.lead_id,
    lead_email: r.lead_email,
    email: r.email,
    anonymous_id: r.anonymous_id,
    product: r.product,
    value: r.value,
    properties: fromDbJson<Record<string, unknown>>(r.properties, {}),
    at: toIso(r.at),
    received_at: toIso(r.received_at),
    source: r.source,
    incident: r.incident_id === null ? null : { id: r.incident_id, name: r.incident_name, drill: r.incident_drill === true },
  };
}

/**
 * Intent events: stored once per messageId (a repeat, in the same batch, a retried one or a
 * concurrent one, counts as a duplicate), matched to a lead by leadId or email, attributed to the
 * incident whose window covers the event's time, and folded into the lead: last activity, cart
 * value, scheduled demo; a demo booked during an outage marks the lead re-engaged (first time only).
 */
export class IntentEventService {
  constructor(private readonly deps: { db: Database; clock: Clock }) {}

  async record(items: readonly unknown[], options: RecordOptions = {}): Promise<EventBatchResult> {
    const now = this.deps.clock.now();
    const skew = clockSkew(options.sentAt, now);
    const source = sourceOfSite(options.site ?? null);
    const errors: EventBatchResult['errors'] = [];
    const valid: Array<{ index: number; event: IntentEvent; email: string | null; at: number }> = [];
    items.forEach((item, index) => {
      const parsed = eventSchema.safeParse(item);
      if (!parsed.success) {
        for (const d of describeIssues(parsed.error.issues, 'body')) errors.push({ index, field: d.field, message: d.message });
        return;
      }
      const event = parsed.data;
      let email: string | null = null;
      if (event.email !== undefined && event.email !== '') {
        const e = normaliseEmail(event.email);
        if (!e.ok) {
          errors.push({ index, field: 'email', message: e.reason });
          return;
        }
        email = e.value;
      }
      if (event.leadId === undefined && email === null && event.anonymousId === undefined) {
        errors.push({ index, field: 'email', message: 'an event needs a leadId, an email or an anonymousId' });
        return;
      }
      if (event.type === 'cart_updated' && event.value === undefined) {
        errors.push({ index, field: 'value', message: 'cart_updated needs the cart value in whole dollars' });
        return;
      }
      valid.push({ index, event, email, at: eventTime(event, now, skew) });
    });

    const firstById = new Map<string, (typeof valid)[number]>();
    for (const v of valid) if (!firstById.has(v.event.messageId)) firstById.set(v.event.messageId, v);
    const unique = [...firstById.values()];
    if (unique.length === 0) return { accepted: 0, duplicates: valid.length, unmatched: 0, errors };
    let from = Number.POSITIVE_INFINITY;
    let to = Number.NEGATIVE_INFINITY;
    for (const v of unique) {
      if (v.at < from) from = v.at;
      if (v.at > to) to = v.at;
    }

    const result = await this.deps.db.tx(async (trx) => {
      const [leadIds, windows] = await Promise.all([
        repo.resolveLeads(
          trx,
          unique.flatMap((v) => (v.event.leadId ? [v.event.leadId] : [])),
          unique.flatMap((v) => (v.email ? [v.email] : [])),
        ),
        repo.incidentWindows(trx, from, to),
      ]);
      const rows: Array<NewRow<'intent_events'>> = [];
      for (const v of unique) {
        const leadId =
          (v.event.leadId ? leadIds.byId.has(v.event.leadId) && v.event.leadId : undefined) ||
          (v.email ? leadIds.byEmail.get(v.email) : undefined) ||
          null;
        const incident = windows.length > 0 ? attributeIncident(windows, v.at) : null;
        rows.push({
          id: newId(now),
          message_id: v.event.messageId,
          lead_id: leadId,
          type: v.event.type,
          email: v.email,
          anonymous_id: v.event.anonymousId ?? null,
          product: v.event.product ?? null,
          value: v.event.value === undefined ? null : Math.round(v.event.value),
          properties: toDbJson(v.event.properties ?? {}),
          at: v.at,
          received_at: now,
          source,
          incident_id: incident?.id ?? null,
          incident_drill: incident ? toDbBool(incident.drill) : null,
        });
      }
      const inserted = await repo.insertEvents(trx, rows);
      const stored = rows.filter((r) => inserted.has(r.message_id));
      await this.applyToLeads(
        trx,
        stored,
        stored.map((r) => firstById.get(r.message_id) as (typeof valid)[number]),
        now,
      );
      return { accepted: stored.length, unmatched: stored.filter((r) => r.lead_id === null).length };
    });
    return {
      accepted: result.accepted,
      duplicates: valid.length - result.accepted,
      unmatched: result.unmatched,
      errors,
    };
  }

  /** Events, most recently received first, with the lead and the incident each is attributed to. */
  async list(filter: repo.EventFilter): Promise<{ events: EventView[]; next_cursor: string | null }> {
    const rows = await repo.listEvents(this.deps.db.kysely, filter);
    const last = rows.at(-1);
    return { events: rows.map(toEventView), next_cursor: rows.length === filter.limit && last ? last.id : null };
  }

  /** The same, as stored rows (the console renders them). */
  listRows(filter: repo.EventFilter): Promise<repo.EventRow[]> {
    return repo.listEvents(this.deps.db.kysely, filter);
  }

  /** Per incident: how many events fell in its window, how many arrived after it ended. */
  summaries(limit = 20): Promise<repo.IncidentEventSummary[]> {
    return repo.incidentSummaries(this.deps.db.kysely, limit);
  }

  /**
   * The incident change hook (register with `incidents.onChange`): on declaration, events already
   * stored whose time is inside the new incident's window (it may start before it was declared)
   * are attributed to it, in the declaration's transaction.
   */
  readonly onIncidentChange = async (trx: Executor, change: { type: string; incidentId: string; at: number }): Promise<void> => {
    if (change.type === 'declared') await repo.tagEventsOf(trx, change.incidentId, change.at);
  };

  private async applyToLeads(
    trx: Executor,
    rows: ReadonlyArray<NewRow<'intent_events'>>,
    fresh: ReadonlyArray<{ event: IntentEvent; at: number }>,
    now: number,
  ): Promise<void> {
    const byLead = new Map<string, Array<{ event: IntentEvent; at: number }>>();
    rows.forEach((row, i) => {
      const f = fresh[i];
      if (!row.lead_id || !f) return;
      const list = byLead.get(row.lead_id) ?? [];
      list.push(f);
      byLead.set(row.lead_id, list);
    });
    if (byLead.size === 0) return;
    const leads = await repo.leadStates(trx, [...byLead.keys()]);
    const changed = new Map<string, repo.LeadActivityChanges>();
    // In id order: concurrent batches touching the same leads lock them in the same order.
    for (const [leadId, events] of [...byLead].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      const lead = leads.get(leadId);
      if (!lead) continue;
      events.sort((a, b) => a.at - b.at);
      const changes: repo.LeadActivityChanges = {};
      let last = lead.last_activity_at;
      for (const { event, at } of events) {
        if (last === null || at > last) last = at;
        if (event.type === 'cart_updated' && event.value !== undefined) changes.cart_value = Math.round(event.value);
        if (event.type === 'demo_booked') {
          const when = scheduledAt(event);
          if (when !== null) changes.demo_scheduled_at = when;
          if (lead.outage_status === 'active' && lead.re_engaged_at === null && changes.re_engaged_at === undefined)
            changes.re_engaged_at = at;
        }
      }
      if (last !== null && last !== lead.last_activity_at) changes.last_activity_at = last;
      if (Object.keys(changes).length > 0) changed.set(leadId, changes);
    }
    await repo.updateLeadsActivity(trx, changed, now);
  }
}
