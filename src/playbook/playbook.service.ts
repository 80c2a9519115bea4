import type { Logger } from 'pino';
import { z } from 'zod';
import type { Actor } from '../app/actor.js';
import { recordAudit } from '../audit/audit.repo.js';
import type { Bus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import { MINUTE, toIso } from '../core/clock.js';
import { AppError, conflict, notFound, unprocessable } from '../core/errors.js';
import type { Database, Executor } from '../db/database.js';
import type { JobQueue } from '../db/jobs/job-queue.js';
import { defineJob, type JobContext, type JobHandler } from '../db/jobs/worker.js';
import type { FlagValue } from '../fallback/flags/flags.js';
import { type ComponentKind, isOpen, outageChannel } from '../incidents/incident.js';
import * as incidentsRepo from '../incidents/incidents.repo.js';
import { type IncidentChange, type IncidentService, UPDATE_EVENT } from '../incidents/incidents.service.js';
import type { OutboxService } from '../messaging/outbox.service.js';
import type { TemplateSource } from '../messaging/templates.contract.js';
import * as repo from './checklist.repo.js';
import {
  actionKey,
  describeAction,
  type EngineEvent,
  type IncidentFacts,
  newChecklist,
  type PlannedAction,
  planReconcile,
} from './engine.js';
import type { Playbook, PlaybookAction } from './playbook.js';

export const RECONCILE_JOB = 'playbook.reconcile';
export const ACTION_JOB = 'playbook.action';
export const DEADLINE_JOB = 'playbook.deadline';
export const SWEEP_JOB = 'playbook.sweep';

export const CHECKLIST_DONE_EVENT = 'playbook.checklist_done';
export const CHECKLIST_OVERDUE_EVENT = 'playbook.checklist_overdue';
export const ACTION_EVENT = 'playbook.action';
export const FALLBACK_ENABLED_EVENT = 'playbook.fallback_enabled';

/** How often open incidents are reconciled with their timeline (events written by jobs that do not announce them). */
const SWEEP_EVERY = MINUTE;

/** Who the engine acts as on the timeline. */
export const PLAYBOOK_ACTOR: Actor = { type: 'system', id: null, name: 'Keepwarm playbook', role: 'admin', ip: null };
const ruleActor = (rule: string): Actor => ({ ...PLAYBOOK_ACTOR, name: `Playbook rule ${rule}` });

/** The kill switches the engine flips (FlagService's setOverride). */
export interface FlagSwitch {
  setOverride(actor: Actor, key: string, value: FlagValue | null, reason: string): Promise<unknown>;
}

/** The CRM outage engine's tagging (OutageService.enqueueTagging). */
export interface CrmTagging {
  enqueueTagging(trx: Executor, incidentId: string): Promise<{ created: boolean }>;
}

export interface PlaybookDeps {
  db: Database;
  clock: Clock;
  bus: Bus;
  jobs: JobQueue;
  incidents: IncidentService;
  outbox: OutboxService;
  templates: TemplateSource;
  flags: FlagSwitch;
  crm: CrmTagging;
  log: Logger;
  playbook: Playbook;
  /** The playbook's file, or null for the built-in playbook. */
  file: string | null;
  options: { publicUrl: string; fallbackUrl: string | null; variables: Record<string, string> };
}

export interface ChecklistItemView {
  id: string;
  title: string;
  role: string;
  position: number;
  state: 'open' | 'done';
  due_at: string | null;
  due_from: 'declared' | 'resolved';
  overdue: boolean;
  overdue_at: string | null;
  done_at: string | null;
  done_by: { type: string; id: string | null; name: string | null } | null;
  done_by_event: { id: string; type: string | null } | null;
  note: string | null;
  completes_on: string[];
}

export interface ChecklistView {
  incident_id: string;
  drill: boolean;
  items: ChecklistItemView[];
  actions: Array<{
    rule: string;
    action_index: number;
    action: string;
    trigger_event_id: string;
    outcome: string;
    detail: string;
    at: string;
  }>;
}

const actionPayload = z.object({
  incidentId: z.string().min(1),
  rule: z.string().min(1),
  actionIndex: z.number().int().min(0),
  eventId: z.string().min(1),
});
type ActionPayload = z.output<typeof actionPayload>;

type Outcome = { outcome: 'done' | 'skipped' | 'simulated' | 'failed'; detail: string; data?: Record<string, unknown> };

/**
 * The playbook engine. Checklists are created with each declaration; timeline events complete
 * items and trigger the rules' actions; deadlines are jobs keyed by their due time. Every action
 * runs as a job keyed by (incident, rule, action, triggering event) and is claimed in
 * `playbook_actions`, so replaying the same events or running a job twice never repeats it; each
 * one leaves a timeline entry naming its rule and the event that caused it.
 */
export class PlaybookService {
  readonly #d: PlaybookDeps;

  constructor(deps: PlaybookDeps) {
    this.#d = deps;
  }

  get playbook(): Playbook {
    return this.#d.playbook;
  }

  get file(): string | null {
    return this.#d.file;
  }

  /** The incident change hook (inside the declaration's or update's transaction). */
  readonly onIncidentChange = async (trx: Executor, change: IncidentChange): Promise<void> => {
    if (change.type === 'declared') {
      const facts = await loadFacts(trx, change.incidentId);
      if (!facts) return;
      const items = newChecklist(this.#d.playbook, facts);
      await repo.insertChecklist(trx, change.incidentId, items, change.at);
      for (const item of items)
        if (item.dueAt !== null) await this.#scheduleDeadline(trx, change.incidentId, item.itemId, item.dueAt);
    }
    await this.reconcileIn(trx, change.incidentId);
  };

  /**
   * Bring one incident's checklist and actions up to date with its timeline, in `trx`: complete
   * the items events completed, set deadlines now known, queue the actions not yet taken.
   * Returns whether the timeline changed.
   */
  async reconcileIn(trx: Executor, incidentId: string): Promise<boolean> {
    const facts = await loadFacts(trx, incidentId);
    if (!facts) return false;
    const [events, checklist, taken] = await Promise.all([
      incidentsRepo.listEvents(trx, [incidentId]),
      repo.listChecklist(trx, incidentId),
      repo.takenActions(trx, incidentId),
    ]);
    const plan = planReconcile({
      playbook: this.#d.playbook,
      incident: facts,
      events: events.map(toEngineEvent),
      checklist,
      taken,
    });
    const now = this.#d.clock.now();
    let changed = false;
    for (const { itemId, event } of plan.completions) {
      const item = checklist.find((c) => c.itemId === itemId);
      const by = { type: 'system', id: null, name: `${PLAYBOOK_ACTOR.name} (${event.type})` } as const;
      if (!item || !(await repo.markDone(trx, { incidentId, itemId, at: now, by, eventId: event.id, note: null }))) continue;
      await incidentsRepo.appendEvent(trx, {
        incidentId,
        at: now,
        type: CHECKLIST_DONE_EVENT,
        actor: PLAYBOOK_ACTOR,
        public: false,
        data: {
          summary: `Checklist: "${item.title}" done (${event.type} at ${toIso(event.at).slice(11, 16)} UTC)`,
          item: itemId,
          role: item.role,
          cause: { event_id: event.id, event_type: event.type, event_at: toIso(event.at) },
        },
      });
      changed = true;
    }
    for (const { itemId, dueAt } of plan.deadlines) {
      await repo.setDueAt(trx, incidentId, itemId, dueAt, now);
      await this.#scheduleDeadline(trx, incidentId, itemId, dueAt);
    }
    for (const planned of plan.actions) await this.#enqueueAction(trx, incidentId, planned);
    return changed;
  }

  /** Reconcile in a transaction of its own (the sweep, tests, the CLI). */
  async reconcile(incidentId: string): Promise<boolean> {
    const changed = await this.#d.db.tx((trx) => this.reconcileIn(trx, incidentId));
    if (changed) this.#d.bus.emit('incident.changed', incidentId);
    return changed;
  }

  /**
   * Something changed on an incident (in-process notice): queue a reconcile keyed by its latest
   * event, so an event written without the incident hook (a job's) still completes its item.
   */
  async noticeChange(incidentId: string): Promise<void> {
    const last = await this.#d.db.kysely
      .selectFrom('incident_events')
      .select('id')
      .where('incident_id', '=', incidentId)
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    if (!last) return;
    await this.#d.db.tx((trx) =>
      this.#d.jobs.enqueue(trx, {
        kind: RECONCILE_JOB,
        payload: { incidentId },
        key: `${RECONCILE_JOB}:${incidentId}:${last.id}`,
      }),
    );
  }

  /** Keep the next sweep scheduled (the worker calls this at start). */
  async scheduleRecurring(trx: Executor): Promise<void> {
    await this.#d.jobs.scheduleRecurring(trx, SWEEP_JOB, SWEEP_EVERY);
  }

  async #scheduleDeadline(trx: Executor, incidentId: string, itemId: string, dueAt: number): Promise<void> {
    await this.#d.jobs.enqueue(trx, {
      kind: DEADLINE_JOB,
      payload: { incidentId, itemId, dueAt },
      key: `${DEADLINE_JOB}:${incidentId}:${itemId}:${dueAt}`,
      runAt: dueAt,
    });
  }

  async #enqueueAction(trx: Executor, incidentId: string, planned: PlannedAction): Promise<void> {
    await this.#d.jobs.enqueue(trx, {
      kind: ACTION_JOB,
      payload: {
        incidentId,
        rule: planned.rule,
        actionIndex: planned.actionIndex,
        eventId: planned.event.id,
      } satisfies ActionPayload,
      key: `${ACTION_JOB}:${actionKey(incidentId, planned.rule, planned.actionIndex, planned.event.id)}`,
    });
  }

  /** An incident's checklist and the actions taken, for the API and the console. */
  async checklist(incidentId: string): Promise<ChecklistView> {
    const ex = this.#d.db.kysely;
    const incident = await incidentsRepo.findIncident(ex, incidentId);
    if (!incident) throw notFound('Incident', incidentId);
    const [rows, actions, events] = await Promise.all([
      repo.listChecklist(ex, incidentId),
      repo.listActions(ex, incidentId),
      incidentsRepo.listEvents(ex, [incidentId]),
    ]);
    const now = this.#d.clock.now();
    const typeOf = new Map(events.map((e) => [e.id, e.type]));
    return {
      incident_id: incidentId,
      drill: incident.drill,
      items: rows.map((r) => ({
        id: r.itemId,
        title: r.title,
        role: r.role,
        position: r.position,
        state: r.state,
        due_at: r.dueAt === null ? null : toIso(r.dueAt),
        due_from: r.dueFrom,
        overdue: r.state === 'open' && r.dueAt !== null && now > r.dueAt,
        overdue_at: r.overdueAt === null ? null : toIso(r.overdueAt),
        done_at: r.doneAt === null ? null : toIso(r.doneAt),
        done_by: r.doneBy,
        done_by_event: r.doneEventId === null ? null : { id: r.doneEventId, type: typeOf.get(r.doneEventId) ?? null },
        note: r.note,
        completes_on: r.completeOn.map((t) => t.event),
      })),
      actions: actions.map((a) => ({
        rule: a.rule,
        action_index: Number(a.action_index),
        action: a.action,
        trigger_event_id: a.trigger_event_id,
        outcome: a.outcome,
        detail: a.detail,
        at: toIso(Number(a.at)),
      })),
    };
  }

  /** A person completes an item; the timeline and the audit log say who. */
  async complete(actor: Actor, incidentId: string, itemId: string, note: string | undefined): Promise<ChecklistItemView> {
    const now = this.#d.clock.now();
    const text = note?.trim() || null;
    await this.#d.db.tx(async (trx) => {
      if (!(await incidentsRepo.findIncident(trx, incidentId))) throw notFound('Incident', incidentId);
      const rows = await repo.listChecklist(trx, incidentId);
      const item = rows.find((r) => r.itemId === itemId);
      if (!item) {
        throw unprocessable(
          'unknown_checklist_item',
          `Incident ${incidentId} has no checklist item ${JSON.stringify(itemId)}${rows.length ? `; its items are ${rows.map((r) => r.itemId).join(', ')}` : ' (it has no checklist)'}.`,
          { field: 'item' },
        );
      }
      if (item.state === 'done') {
        const by = item.doneBy?.name ?? 'someone';
        throw conflict('already_done', `"${item.title}" was already done by ${by} at ${toIso(item.doneAt ?? now)}.`, {
          item: itemId,
        });
      }
      await repo.markDone(trx, { incidentId, itemId, at: now, by: actor, eventId: null, note: text });
      await incidentsRepo.appendEvent(trx, {
        incidentId,
        at: now,
        type: CHECKLIST_DONE_EVENT,
        actor,
        public: false,
        data: {
          summary: `Checklist: "${item.title}" done by ${actor.name}`,
          item: itemId,
          role: item.role,
          ...(text && { note: text }),
        },
      });
      await recordAudit(trx, {
        at: now,
        actor,
        action: 'checklist.complete',
        target: { type: 'incident', id: incidentId },
        details: { item: itemId },
      });
    });
    this.#d.bus.emit('incident.changed', incidentId);
    const view = await this.checklist(incidentId);
    return view.items.find((i) => i.id === itemId) as ChecklistItemView;
  }

  jobHandlers(): JobHandler[] {
    const incidentOnly = z.object({ incidentId: z.string().min(1) });
    return [
      defineJob({
        kind: RECONCILE_JOB,
        payload: incidentOnly,
        run: async (p, ctx) => {
          const changed = await ctx.transaction((trx) => this.reconcileIn(trx, p.incidentId));
          if (changed) this.#d.bus.emit('incident.changed', p.incidentId);
          return undefined;
        },
      }),
      defineJob({
        kind: SWEEP_JOB,
        payload: z.object({}).passthrough(),
        run: async (_p, ctx) => {
          const open = await incidentsRepo.listIncidents(this.#d.db.kysely, { open: true, limit: 1000 });
          for (const incident of open) await this.reconcile(incident.id);
          await ctx.transaction((trx) => this.scheduleRecurring(trx));
          return undefined;
        },
      }),
      defineJob({
        kind: DEADLINE_JOB,
        payload: z.object({ incidentId: z.string().min(1), itemId: z.string().min(1), dueAt: z.number().int() }),
        run: async (p, ctx) => {
          const overdue = await ctx.transaction(async (trx) => {
            // The event that completes the item may have landed without announcing itself.
            await this.reconcileIn(trx, p.incidentId);
            const now = this.#d.clock.now();
            const item = (await repo.listChecklist(trx, p.incidentId)).find((r) => r.itemId === p.itemId);
            // A deadline counted from the declaration stops mattering once the incident resolved before it.
            const incident = await incidentsRepo.findIncident(trx, p.incidentId);
            if (item?.dueFrom === 'declared' && incident?.resolvedAt != null && incident.resolvedAt <= p.dueAt) return false;
            if (!(await repo.markOverdue(trx, p.incidentId, p.itemId, p.dueAt, now))) return false;
            await incidentsRepo.appendEvent(trx, {
              incidentId: p.incidentId,
              at: now,
              type: CHECKLIST_OVERDUE_EVENT,
              actor: PLAYBOOK_ACTOR,
              public: false,
              data: {
                summary: `Checklist overdue: "${item?.title ?? p.itemId}" (${item?.role ?? 'unassigned'}) was due by ${toIso(p.dueAt).slice(11, 16)} UTC`,
                item: p.itemId,
                role: item?.role ?? null,
                due_at: toIso(p.dueAt),
                cause: { deadline: toIso(p.dueAt) },
              },
            });
            return true;
          });
          if (overdue) this.#d.bus.emit('incident.changed', p.incidentId);
          return undefined;
        },
      }),
      defineJob({
        kind: ACTION_JOB,
        payload: actionPayload,
        run: async (p, ctx) => {
          await this.#runAction(p, ctx);
          return undefined;
        },
      }),
    ];
  }

  async #runAction(p: ActionPayload, ctx: JobContext): Promise<void> {
    const ex = this.#d.db.kysely;
    const rule = this.#d.playbook.rules.find((r) => r.name === p.rule);
    const action = rule?.actions[p.actionIndex];
    if (!rule || !action) {
      ctx.log.warn({ ...p }, 'playbook action dropped: the rule is no longer in the playbook');
      return;
    }
    if ((await repo.takenActions(ex, p.incidentId)).has(actionKey(p.incidentId, p.rule, p.actionIndex, p.eventId))) return;
    const incident = await incidentsRepo.findIncident(ex, p.incidentId);
    const event = (await incidentsRepo.listEvents(ex, [p.incidentId])).find((e) => e.id === p.eventId);
    if (!incident || !event) return;
    const actor = ruleActor(rule.name);

    // Effects that live outside this transaction run first and are idempotent by themselves
    // (an acknowledgement is skipped once an update is out; a flag pin is set to the same value).
    let outcome: Outcome | null = null;
    if (action.action === 'acknowledge') outcome = await this.#acknowledge(actor, incident, action);
    else if ((action.action === 'flip_flag' || action.action === 'enable_fallback') && !incident.drill) {
      outcome = await this.#flip(actor, action, event);
    }

    const recorded = await ctx.transaction(async (trx) => {
      const result = outcome ?? (await this.#inTransaction(trx, incident, action, p, event));
      const now = this.#d.clock.now();
      const claimed = await repo.recordAction(trx, {
        incidentId: p.incidentId,
        rule: rule.name,
        actionIndex: p.actionIndex,
        eventId: p.eventId,
        action: action.action,
        outcome: result.outcome,
        detail: result.detail,
        at: now,
      });
      if (!claimed) return false;
      const cause = { rule: rule.name, event_id: event.id, event_type: event.type, event_at: toIso(event.at) };
      const what = describeAction(action, this.#d.playbook.fallback.flag);
      await incidentsRepo.appendEvent(trx, {
        incidentId: p.incidentId,
        at: now,
        type: action.action === 'enable_fallback' && result.outcome !== 'failed' ? FALLBACK_ENABLED_EVENT : ACTION_EVENT,
        actor,
        public: false,
        data: {
          summary: `Playbook rule ${rule.name} on ${event.type}: ${what} — ${result.outcome}${result.detail ? `: ${result.detail}` : ''}`,
          rule: rule.name,
          action: action.action,
          action_index: p.actionIndex,
          outcome: result.outcome,
          detail: result.detail,
          cause,
          ...result.data,
        },
      });
      // The entry may itself complete a checklist item (enable_fallback → "Enable the fallback").
      await this.reconcileIn(trx, p.incidentId);
      return true;
    });
    if (recorded) this.#d.bus.emit('incident.changed', p.incidentId);
  }

  /** Actions whose effect is a database write, done in the same transaction as their record. */
  async #inTransaction(
    trx: Executor,
    incident: incidentsRepo.IncidentRecord,
    action: PlaybookAction,
    p: ActionPayload,
    event: incidentsRepo.TimelineEvent,
  ): Promise<Outcome> {
    switch (action.action) {
      case 'tag_crm': {
        if (incident.drill) return { outcome: 'simulated', detail: 'a drill: leads are left alone' };
        const { created } = await this.#d.crm.enqueueTagging(trx, incident.id);
        return {
          outcome: created ? 'done' : 'skipped',
          detail: created ? 'CRM tagging queued' : 'CRM tagging was already queued',
        };
      }
      case 'notify':
        return this.#notify(trx, incident, action, p, event);
      case 'flip_flag':
      case 'enable_fallback':
        return {
          outcome: 'simulated',
          detail: `a drill: ${describeAction(action, this.#d.playbook.fallback.flag)} not applied to the live showroom`,
          ...(action.action === 'enable_fallback' && { data: { fallback_url: this.#d.options.fallbackUrl, simulated: true } }),
        };
      case 'acknowledge':
        return { outcome: 'skipped', detail: 'handled outside the transaction' };
    }
  }

  async #acknowledge(
    actor: Actor,
    incident: incidentsRepo.IncidentRecord,
    action: Extract<PlaybookAction, { action: 'acknowledge' }>,
  ): Promise<Outcome> {
    const ex = this.#d.db.kysely;
    const updates = (await incidentsRepo.listEvents(ex, [incident.id], { publicOnly: true })).filter(
      (e) => e.type === UPDATE_EVENT,
    );
    const first = updates[0];
    if (first) {
      // A retry after the update went out but before it was recorded: it was this rule's.
      if (first.actor.name === actor.name) return { outcome: 'done', detail: `published at ${toIso(first.at)}` };
      return {
        outcome: 'skipped',
        detail: `already acknowledged at ${toIso(first.at)} by ${first.actor.name ?? first.actor.type}`,
      };
    }
    if (!isOpen(incident.status)) return { outcome: 'skipped', detail: `the incident is ${incident.status}` };
    const key = action.template ?? this.#d.playbook.templates.acknowledge.status;
    if (!key) return { outcome: 'failed', detail: 'no template: set the action template or templates.acknowledge.status' };
    const links = await incidentsRepo.listIncidentComponents(ex, [incident.id]);
    const names = links.length
      ? (
          await ex
            .selectFrom('components')
            .select('name')
            .where(
              'id',
              'in',
              links.map((l) => l.componentId),
            )
            .orderBy('name')
            .execute()
        ).map((c) => c.name)
      : [];
    const message =
      action.message ??
      `We are aware of a problem affecting ${names.length ? names.join(', ') : 'the online showroom'} and are working on it.`;
    try {
      const template = await this.#d.templates.requireApproved(ex, key);
      const rendered = this.#d.templates.render(template, {
        ...this.#d.options.variables,
        ...(this.#d.options.fallbackUrl && { fallback_url: this.#d.options.fallbackUrl }),
        incident_name: incident.name,
        message,
        status: incident.status,
        next_update_at: toIso(this.#d.clock.now() + this.#d.playbook.cadence.promiseEvery),
      });
      await this.#d.incidents.postUpdate(actor, incident.id, { message: rendered.text, status: incident.status });
      return { outcome: 'done', detail: `published from ${key}` };
    } catch (err) {
      if (err instanceof AppError && err.status < 500) return { outcome: 'failed', detail: err.message };
      throw err;
    }
  }

  async #flip(
    actor: Actor,
    action: Extract<PlaybookAction, { action: 'flip_flag' | 'enable_fallback' }>,
    event: incidentsRepo.TimelineEvent,
  ): Promise<Outcome> {
    const key = action.action === 'enable_fallback' ? this.#d.playbook.fallback.flag : action.flag;
    const value = action.action === 'enable_fallback' ? true : (action.value as FlagValue | null);
    const reason = `${actor.name} on ${event.type} (${event.id})`;
    try {
      await this.#d.flags.setOverride(actor, key, value, reason);
    } catch (err) {
      if (err instanceof AppError && err.status < 500) return { outcome: 'failed', detail: err.message };
      throw err;
    }
    const detail = value === null ? `${key}: pin cleared` : `${key} pinned to ${JSON.stringify(value)}`;
    return {
      outcome: 'done',
      detail,
      data: { flag: key, value, ...(action.action === 'enable_fallback' && { fallback_url: this.#d.options.fallbackUrl }) },
    };
  }

  async #notify(
    trx: Executor,
    incident: incidentsRepo.IncidentRecord,
    action: Extract<PlaybookAction, { action: 'notify' }>,
    p: ActionPayload,
    event: incidentsRepo.TimelineEvent,
  ): Promise<Outcome> {
    // What the triggering event says, for the message's {{ message }}.
    const said = [event.data.summary, event.data.message].find((v): v is string => typeof v === 'string' && v !== '');
    const variables = {
      ...this.#d.options.variables,
      ...(this.#d.options.fallbackUrl && { fallback_url: this.#d.options.fallbackUrl }),
      incident_name: incident.name,
      status: incident.status,
      message: said ?? `${event.type} at ${toIso(event.at).slice(11, 16)} UTC`,
      next_update_at: toIso(this.#d.clock.now() + this.#d.playbook.cadence.promiseEvery),
      console_url: `${this.#d.options.publicUrl.replace(/\/+$/, '')}/console/incidents/${incident.id}`,
      role: action.role,
      event_type: event.type,
    };
    const step = `playbook:${p.rule}:${p.actionIndex}:${p.eventId}`;
    try {
      if (action.via === 'slack') {
        if (this.#d.outbox.providers.chain('slack', incident.drill).length === 0) {
          return { outcome: 'failed', detail: 'no Slack webhook is configured' };
        }
        await this.#d.outbox.dispatch(trx, {
          templateKey: action.template,
          recipients: [{ address: 'slack' }],
          variables,
          incidentId: incident.id,
          step,
          drill: incident.drill,
        });
        return { outcome: 'done', detail: `queued to Slack (${action.template})`, data: { notified: ['slack'] } };
      }
      const users = await trx
        .selectFrom('users')
        .select(['id', 'email', 'name'])
        .where('role', '=', action.role)
        .where('disabled_at', 'is', null)
        .orderBy('email')
        .execute();
      const recipients = users.filter((u) => u.email.includes('@'));
      if (recipients.length === 0) return { outcome: 'failed', detail: `no active user has the role ${action.role}` };
      await this.#d.outbox.dispatch(trx, {
        templateKey: action.template,
        recipients: recipients.map((u) => ({ address: u.email, name: u.name, ref: `user:${u.id}` })),
        variables,
        incidentId: incident.id,
        step,
        drill: incident.drill,
      });
      const notified = recipients.map((u) => u.email);
      return { outcome: 'done', detail: `emailed ${notified.join(', ')} (${action.template})`, data: { notified } };
    } catch (err) {
      if (err instanceof AppError && err.status < 500) return { outcome: 'failed', detail: err.message };
      throw err;
    }
  }
}

function toEngineEvent(e: incidentsRepo.TimelineEvent): EngineEvent {
  return { id: e.id, type: e.type, at: e.at, data: e.data };
}

async function loadFacts(ex: Executor, incidentId: string): Promise<IncidentFacts | undefined> {
  const incident = await incidentsRepo.findIncident(ex, incidentId);
  if (!incident) return undefined;
  const links = await incidentsRepo.listIncidentComponents(ex, [incidentId]);
  const kinds = links.length
    ? await ex
        .selectFrom('components')
        .select(['id', 'kind'])
        .where(
          'id',
          'in',
          links.map((l) => l.componentId),
        )
        .execute()
    : [];
  return {
    id: incident.id,
    declaredAt: incident.declaredAt,
    resolvedAt: incident.resolvedAt,
    drill: incident.drill,
    channels: [...new Set(kinds.map((k) => outageChannel(k.kind as ComponentKind)))],
  };
}
