import type { Logger } from 'pino';
import { z } from 'zod';
import type { Actor } from '../../app/actor.js';
import type { Role } from '../../app/roles.js';
import type { Bus } from '../../core/bus.js';
import type { Clock } from '../../core/clock.js';
import { toIso } from '../../core/clock.js';
import { AppError, notFound } from '../../core/errors.js';
import type { Database, Executor } from '../../db/database.js';
import type { JobQueue } from '../../db/jobs/job-queue.js';
import { defineJob, type JobContext, type JobHandler } from '../../db/jobs/worker.js';
import * as incidentsRepo from '../../incidents/incidents.repo.js';
import { type IncidentChange, type IncidentService, UPDATE_EVENT } from '../../incidents/incidents.service.js';
import type { OutboxService } from '../../messaging/outbox.service.js';
import type { TemplateService } from '../../messaging/templates.service.js';
import {
  type CadenceInput,
  type CadenceRules,
  type CadenceState,
  cadenceState,
  type DueKind,
  isCurrentCheck,
  type PlannedCheck,
} from './cadence.js';

export const CADENCE_JOB = 'cadence.check';
export const REMINDER_EVENT = 'cadence.reminder';
export const ESCALATED_EVENT = 'cadence.escalated';
export const HOLDING_TEMPLATE = 'status.holding_update';
export const REMINDER_TEMPLATE = 'slack.cadence_reminder';
export const ESCALATION_SLACK_TEMPLATE = 'slack.cadence_escalation';
export const ESCALATION_EMAIL_TEMPLATE = 'email.cadence_escalation';

/** Who the cadence acts as on the timeline. */
export const CADENCE_ACTOR: Actor = { type: 'system', id: null, name: 'Keepwarm cadence', role: 'admin', ip: null };
/** Who publishes a holding update (the timeline and the audit log say so). */
export const HOLDING_ACTOR: Actor = { type: 'system', id: null, name: 'Keepwarm holding update', role: 'admin', ip: null };

export interface CadenceOptions {
  rules: CadenceRules;
  holdingUpdates: boolean;
  backupRole: Role;
  publicUrl: string;
  /** status.fallbackUrl, or the messaging default fallback_url. */
  fallbackUrl: string | undefined;
  /** Default template variables (company, …). */
  variables: Record<string, string>;
  /** Template keys (the playbook's holding, reminder and escalation templates); the constants above by default. */
  templates?: { holding: string; reminder: string; escalationSlack: string; escalationEmail: string };
}

/** The cadence of one incident as the API shows it (snake_case, ISO times). */
export interface CadenceView {
  incident_id: string;
  open: boolean;
  acknowledge_by: string;
  acknowledged_at: string | null;
  acknowledged_in_time: boolean | null;
  last_update_at: string | null;
  next_update_due_at: string | null;
  promised_by: string | null;
  overdue: boolean;
  holding_updates: boolean;
  reminders: Array<{ at: string; due: DueKind; due_at: string }>;
  deadline: { at: string; due: DueKind } | null;
  figures: { ack_seconds: number | null; longest_gap_seconds: number | null; late_updates: number };
}

const checkPayload = z.object({
  incidentId: z.string().min(1),
  step: z.enum(['remind', 'deadline']),
  due: z.enum(['acknowledge', 'target', 'promise']),
  dueAt: z.number().int(),
});
type CheckPayload = z.output<typeof checkPayload>;

/**
 * Keeps the update cadence: schedules reminder and deadline jobs on every declaration and public
 * update (inside that transaction), reminds the commander, escalates to the backup role, and
 * (when enabled) publishes the pre-approved holding update at the deadline.
 */
export class CadenceService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #bus: Bus;
  readonly #jobs: JobQueue;
  readonly #incidents: IncidentService;
  readonly #outbox: OutboxService;
  readonly #templates: TemplateService;
  readonly #log: Logger;
  readonly #options: CadenceOptions;

  constructor(deps: {
    db: Database;
    clock: Clock;
    bus: Bus;
    jobs: JobQueue;
    incidents: IncidentService;
    outbox: OutboxService;
    templates: TemplateService;
    log: Logger;
    options: CadenceOptions;
  }) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#bus = deps.bus;
    this.#jobs = deps.jobs;
    this.#incidents = deps.incidents;
    this.#outbox = deps.outbox;
    this.#templates = deps.templates;
    this.#log = deps.log;
    this.#options = deps.options;
  }

  get rules(): CadenceRules {
    return this.#options.rules;
  }

  #template(which: keyof NonNullable<CadenceOptions['templates']>): string {
    const defaults = {
      holding: HOLDING_TEMPLATE,
      reminder: REMINDER_TEMPLATE,
      escalationSlack: ESCALATION_SLACK_TEMPLATE,
      escalationEmail: ESCALATION_EMAIL_TEMPLATE,
    };
    return this.#options.templates?.[which] ?? defaults[which];
  }

  /** The incident change hook: register with `incidents.onChange(cadence.onIncidentChange)`. */
  readonly onIncidentChange = async (trx: Executor, change: IncidentChange): Promise<void> => {
    await this.schedule(trx, change.incidentId);
  };

  /** Enqueue the checks the incident's current state calls for (idempotent: keys name the due time). */
  async schedule(trx: Executor, incidentId: string): Promise<number> {
    const loaded = await loadInput(trx, incidentId);
    if (!loaded) return 0;
    const now = this.#clock.now();
    const state = cadenceState(loaded.input, this.#options.rules, now);
    let created = 0;
    for (const check of state.checks) {
      if (check.at < now) continue;
      const result = await this.#jobs.enqueue(trx, {
        kind: CADENCE_JOB,
        payload: { incidentId, step: check.step, due: check.due, dueAt: check.dueAt } satisfies CheckPayload,
        key: checkKey(incidentId, check),
        runAt: check.at,
      });
      if (result.created) created++;
    }
    return created;
  }

  /** The cadence of one incident now (the console's countdowns, GET …/cadence). */
  async forIncident(incidentId: string): Promise<CadenceView> {
    const loaded = await loadInput(this.#db.kysely, incidentId);
    if (!loaded) throw notFound('Incident', incidentId);
    return this.#view(incidentId, cadenceState(loaded.input, this.#options.rules, this.#clock.now()));
  }

  /** When the next public update is promised, for every open incident (the banner's next_update_at). */
  async nextUpdates(): Promise<Map<string, string>> {
    const ex = this.#db.kysely;
    const open = await incidentsRepo.listIncidents(ex, { open: true, limit: 1000 });
    const events = await incidentsRepo.listEvents(
      ex,
      open.map((i) => i.id),
      { publicOnly: true },
    );
    const now = this.#clock.now();
    const out = new Map<string, string>();
    for (const incident of open) {
      const updates = events.filter((e) => e.incidentId === incident.id && e.type === UPDATE_EVENT).map((e) => e.at);
      const state = cadenceState(
        { declaredAt: incident.declaredAt, updates, resolvedAt: incident.resolvedAt },
        this.#options.rules,
        now,
      );
      if (state.promisedBy !== null) out.set(incident.id, toIso(state.promisedBy));
    }
    return out;
  }

  #view(incidentId: string, state: CadenceState): CadenceView {
    const now = this.#clock.now();
    const deadline = state.checks.find((c) => c.step === 'deadline');
    return {
      incident_id: incidentId,
      open: state.open,
      acknowledge_by: toIso(state.acknowledgeBy),
      acknowledged_at: state.acknowledgedAt === null ? null : toIso(state.acknowledgedAt),
      acknowledged_in_time: state.acknowledgedInTime,
      last_update_at: state.lastUpdateAt === null ? null : toIso(state.lastUpdateAt),
      next_update_due_at: state.nextUpdateDueAt === null ? null : toIso(state.nextUpdateDueAt),
      promised_by: state.promisedBy === null ? null : toIso(state.promisedBy),
      overdue: state.overdue,
      holding_updates: this.#options.holdingUpdates,
      reminders: state.checks
        .filter((c) => c.step === 'remind' && c.at >= now)
        .map((c) => ({ at: toIso(c.at), due: c.due, due_at: toIso(c.dueAt) })),
      deadline: deadline ? { at: toIso(deadline.at), due: deadline.due } : null,
      figures: {
        ack_seconds: state.figures.ackMs === null ? null : Math.round(state.figures.ackMs / 1000),
        longest_gap_seconds: state.figures.longestGapMs === null ? null : Math.round(state.figures.longestGapMs / 1000),
        late_updates: state.figures.lateUpdates,
      },
    };
  }

  jobHandlers(): JobHandler[] {
    return [
      defineJob({
        kind: CADENCE_JOB,
        payload: checkPayload,
        run: async (payload, ctx) => {
          await this.#runCheck(payload, ctx);
          return undefined;
        },
      }),
    ];
  }

  async #runCheck(check: CheckPayload, ctx: JobContext): Promise<void> {
    const loaded = await loadInput(this.#db.kysely, check.incidentId);
    // Resolved, or an update moved the due time since this job was scheduled: nothing to do.
    if (!loaded || !isCurrentCheck(check, loaded.input, this.#options.rules)) return;
    const { incident } = loaded;
    if (check.step === 'remind') {
      await ctx.transaction(async (trx) => {
        const slack = await this.#notifySlack(trx, this.#template('reminder'), incident, check, 'remind');
        await incidentsRepo.appendEvent(trx, {
          incidentId: incident.id,
          at: this.#clock.now(),
          type: REMINDER_EVENT,
          actor: CADENCE_ACTOR,
          public: false,
          data: {
            summary: `${dueLabel(check.due)} due by ${toIso(check.dueAt).slice(11, 16)} UTC`,
            due: check.due,
            due_at: toIso(check.dueAt),
            slack,
          },
        });
      });
      this.#bus.emit('incident.changed', incident.id);
      return;
    }

    let holdingRefused: string | null = null;
    if (this.#options.holdingUpdates) {
      const message = await this.#holdingText(incident);
      if ('text' in message) {
        await this.#incidents.postUpdate(HOLDING_ACTOR, incident.id, { message: message.text, status: incident.status });
        ctx.log.info({ incidentId: incident.id, due: check.due }, 'holding update published at the deadline');
        return;
      }
      holdingRefused = message.refused;
    }
    await ctx.transaction(async (trx) => {
      const slack = await this.#notifySlack(trx, this.#template('escalationSlack'), incident, check, 'escalate');
      const email = await this.#notifyBackups(trx, incident, check);
      await incidentsRepo.appendEvent(trx, {
        incidentId: incident.id,
        at: this.#clock.now(),
        type: ESCALATED_EVENT,
        actor: CADENCE_ACTOR,
        public: false,
        data: {
          summary: `No ${dueLabel(check.due).toLowerCase()} by ${toIso(check.dueAt).slice(11, 16)} UTC: escalated to ${this.#options.backupRole}`,
          due: check.due,
          due_at: toIso(check.dueAt),
          backup_role: this.#options.backupRole,
          notified: email.notified,
          ...(email.error && { email_error: email.error }),
          slack,
          ...(holdingRefused && { holding_update_refused: holdingRefused }),
        },
      });
    });
    this.#bus.emit('incident.changed', incident.id);
  }

  /** The holding update's text, rendered from the approved template, or why it cannot be. */
  async #holdingText(incident: incidentsRepo.IncidentRecord): Promise<{ text: string } | { refused: string }> {
    try {
      const template = await this.#templates.requireApproved(this.#db.kysely, this.#template('holding'));
      const next = this.#clock.now() + this.#options.rules.promiseMs;
      const rendered = this.#templates.render(template, {
        ...this.#options.variables,
        ...(this.#options.fallbackUrl && { fallback_url: this.#options.fallbackUrl }),
        incident_name: incident.name,
        status: incident.status,
        next_update_at: toIso(next),
      });
      return { text: rendered.text };
    } catch (err) {
      if (err instanceof AppError && err.status < 500) return { refused: err.message };
      throw err;
    }
  }

  #variables(incident: incidentsRepo.IncidentRecord, check: CheckPayload): Record<string, string> {
    return {
      incident_name: incident.name,
      status: incident.status,
      due_at: toIso(check.dueAt),
      console_url: `${this.#options.publicUrl.replace(/\/+$/, '')}/console/incidents/${incident.id}`,
      backup_role: this.#options.backupRole,
    };
  }

  /** Queue the internal Slack message; returns what happened, for the timeline. */
  async #notifySlack(
    trx: Executor,
    templateKey: string,
    incident: incidentsRepo.IncidentRecord,
    check: CheckPayload,
    step: string,
  ): Promise<string> {
    if (this.#outbox.providers.chain('slack', incident.drill).length === 0) return 'not sent: no Slack webhook is configured';
    try {
      const result = await this.#outbox.dispatch(trx, {
        templateKey,
        recipients: [{ address: 'slack' }],
        variables: this.#variables(incident, check),
        incidentId: incident.id,
        step: `cadence:${step}:${check.due}:${check.dueAt}`,
        drill: incident.drill,
      });
      return result.messageIds.length > 0 ? `queued (${templateKey})` : 'already queued';
    } catch (err) {
      if (err instanceof AppError && err.status < 500) return `not sent: ${err.message}`;
      throw err;
    }
  }

  /** Email every active user with the backup role. */
  async #notifyBackups(
    trx: Executor,
    incident: incidentsRepo.IncidentRecord,
    check: CheckPayload,
  ): Promise<{ notified: string[]; error?: string }> {
    const users = await trx
      .selectFrom('users')
      .select(['id', 'email', 'name'])
      .where('role', '=', this.#options.backupRole)
      .where('disabled_at', 'is', null)
      .orderBy('email')
      .execute();
    const recipients = users.filter((u) => u.email.includes('@'));
    if (recipients.length === 0) return { notified: [] };
    try {
      await this.#outbox.dispatch(trx, {
        templateKey: this.#template('escalationEmail'),
        recipients: recipients.map((u) => ({ address: u.email, name: u.name, ref: `user:${u.id}` })),
        variables: this.#variables(incident, check),
        incidentId: incident.id,
        step: `cadence:escalate:${check.due}:${check.dueAt}`,
        drill: incident.drill,
      });
      return { notified: recipients.map((u) => u.email) };
    } catch (err) {
      if (err instanceof AppError && err.status < 500) return { notified: [], error: err.message };
      throw err;
    }
  }
}

function dueLabel(due: DueKind): string {
  return due === 'acknowledge' ? 'Acknowledgement' : due === 'target' ? 'Update (team target)' : 'Update (public promise)';
}

function checkKey(incidentId: string, check: PlannedCheck): string {
  return `${CADENCE_JOB}:${incidentId}:${check.step}:${check.due}:${check.dueAt}`;
}

async function loadInput(
  ex: Executor,
  incidentId: string,
): Promise<{ incident: incidentsRepo.IncidentRecord; input: CadenceInput } | undefined> {
  const incident = await incidentsRepo.findIncident(ex, incidentId);
  if (!incident) return undefined;
  const events = await incidentsRepo.listEvents(ex, [incidentId], { publicOnly: true });
  const updates = events.filter((e) => e.type === UPDATE_EVENT).map((e) => e.at);
  return { incident, input: { declaredAt: incident.declaredAt, updates, resolvedAt: incident.resolvedAt } };
}
