import { describeIssues } from '../app/validation.js';
import type { Clock } from '../core/clock.js';
import { newId } from '../core/ids.js';
import { toDbJson } from '../db/codec.js';
import type { Database } from '../db/database.js';
import type { NewRow } from '../db/schema.js';
import { eventSchema, eventTime, type IntentEvent, scheduledAt } from './events.js';
import * as repo from './events.repo.js';
import { normaliseEmail } from './leads.js';

export interface EventBatchResult {
  accepted: number;
  duplicates: number;
  unmatched: number;
  errors: Array<{ index: number; field: string; message: string }>;
}

/**
 * Intent events: stored once per messageId (a repeat counts as a duplicate), matched to a lead by
 * leadId or email, and folded into the lead: last activity, cart value, scheduled demo; a demo
 * booked during an outage marks the lead re-engaged (first time only).
 */
export class IntentEventService {
  constructor(private readonly deps: { db: Database; clock: Clock }) {}

  async record(items: readonly unknown[]): Promise<EventBatchResult> {
    const now = this.deps.clock.now();
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
      valid.push({ index, event, email, at: eventTime(event, now) });
    });

    let duplicates = 0;
    const firstById = new Map<string, (typeof valid)[number]>();
    for (const v of valid) {
      if (firstById.has(v.event.messageId)) duplicates++;
      else firstById.set(v.event.messageId, v);
    }
    const result = await this.deps.db.tx(async (trx) => {
      const seen = await repo.existingMessageIds(trx, [...firstById.keys()]);
      const fresh = [...firstById.values()].filter((v) => !seen.has(v.event.messageId));
      const dup = firstById.size - fresh.length;
      const leadIds = await repo.resolveLeads(
        trx,
        fresh.flatMap((v) => (v.event.leadId ? [v.event.leadId] : [])),
        fresh.flatMap((v) => (v.email ? [v.email] : [])),
      );
      const rows: Array<NewRow<'intent_events'>> = [];
      let unmatched = 0;
      for (const v of fresh) {
        const leadId =
          (v.event.leadId ? leadIds.byId.has(v.event.leadId) && v.event.leadId : undefined) ||
          (v.email ? leadIds.byEmail.get(v.email) : undefined) ||
          null;
        if (leadId === null) unmatched++;
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
        });
      }
      const inserted = await repo.insertEvents(trx, rows);
      await this.applyToLeads(trx, rows, fresh, now);
      return { accepted: inserted, dup: dup + (rows.length - inserted), unmatched };
    });
    return { accepted: result.accepted, duplicates: duplicates + result.dup, unmatched: result.unmatched, errors };
  }

  private async applyToLeads(
    trx: Parameters<Parameters<Database['tx']>[0]>[0],
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
    for (const [leadId, events] of byLead) {
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
      if (Object.keys(changes).length > 0) await repo.updateLeadActivity(trx, leadId, changes, now);
    }
  }
}
