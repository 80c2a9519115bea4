import type { Logger } from 'pino';
import { z } from 'zod';
import type { Actor } from '../app/actor.js';
import type { Role } from '../app/roles.js';
import { recordAudit } from '../audit/audit.repo.js';
import type { Bus } from '../core/bus.js';
import { type Clock, toIso } from '../core/clock.js';
import { AppError, conflict, notFound, unprocessable } from '../core/errors.js';
import type { Database, Executor } from '../db/database.js';
import type { JobQueue } from '../db/jobs/job-queue.js';
import { defineJob, type JobContext, type JobHandler } from '../db/jobs/worker.js';
import { excerpt } from '../fallback/pdf/document.js';
import { isOpen } from '../incidents/incident.js';
import * as incidentsRepo from '../incidents/incidents.repo.js';
import type { IncidentChange, IncidentDetail, UpdateInput } from '../incidents/incidents.service.js';
import type { OutboxService } from '../messaging/outbox.service.js';
import type { CadenceRules } from '../status/cadence/cadence.js';
import { renderReportHtml } from './html.js';
import { renderMarkdown } from './markdown.js';
import { renderReportPdf } from './pdf.js';
import { buildReport, EMPTY_EDITS, type ReportAction, type ReportEdits, type ReportModel, type Variant } from './report.js';
import { findReport, loadReportFacts, markPublished, type StoredReport, saveReport } from './report.repo.js';

export const REPORT_JOB = 'report.deadline';
export const REPORT_REMINDER_EVENT = 'report.reminder';
export const REPORT_ESCALATED_EVENT = 'report.escalated';
export const REPORT_PUBLISHED_EVENT = 'report.published';
export const REPORT_REMINDER_TEMPLATE = 'slack.report_reminder';
export const REPORT_ESCALATION_SLACK_TEMPLATE = 'slack.report_escalation';
export const REPORT_ESCALATION_EMAIL_TEMPLATE = 'email.report_escalation';

/** Who the deadline job acts as on the timeline. */
export const REPORT_ACTOR: Actor = { type: 'system', id: null, name: 'Keepwarm report deadline', role: 'admin', ip: null };

export const FORMATS = ['md', 'html', 'pdf', 'json'] as const;
export type Format = (typeof FORMATS)[number];

export interface ReportOptions {
  publicUrl: string;
  /** The report is due this long after resolution (the playbook's "report" checklist item; 72 h). */
  deadlineMs: number;
  /** The reminder goes this long before the deadline (24 h: at 48 h). */
  remindBeforeMs: number;
  backupRole: Role;
}

export interface ReportEditInput {
  summary?: string | null | undefined;
  root_cause?: string | undefined;
  actions?: ReportAction[] | undefined;
  /** The revision the editor started from; a newer stored one refuses the edit (409). */
  revision?: number | undefined;
}

/** What the API returns about a report: its state, what people wrote, and the live figures. */
export interface ReportView {
  incident_id: string;
  incident_name: string;
  state: 'draft' | 'published';
  revision: number;
  updated_at: string | null;
  updated_by: string | null;
  published_at: string | null;
  published_by: string | null;
  due_at: string | null;
  summary: string | null;
  generated_summary: string;
  root_cause: string;
  actions: ReportAction[];
  figures: { service: Array<{ label: string; value: string }>; pipeline: Array<{ label: string; value: string }> };
  links: { markdown: string; html: string; pdf: string; executive: string; public: string };
}

export interface RenderedReport {
  body: string | Buffer;
  contentType: string;
  filename: string;
}

const deadlinePayload = z.object({ incidentId: z.string().min(1), step: z.enum(['remind', 'escalate']) });
type DeadlinePayload = z.output<typeof deadlinePayload>;

/**
 * The incident report: generated from the timeline, edited (summary, root cause, actions) and
 * published as the incident's Statuspage postmortem. Publishing goes through the same "publish
 * everywhere" path as every update, and the incident change hook marks the report published in
 * that update's own transaction, so the report and the postmortem are never out of step. On
 * resolution the hook schedules the deadline jobs: a reminder, then an escalation, both skipped
 * once the report is published.
 */
export class ReportService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #bus: Bus;
  readonly #jobs: JobQueue;
  readonly #outbox: OutboxService;
  readonly #log: Logger;
  readonly #rules: () => CadenceRules;
  readonly #publishUpdate: (actor: Actor, id: string, input: UpdateInput) => Promise<IncidentDetail>;
  readonly #options: ReportOptions;

  constructor(deps: {
    db: Database;
    clock: Clock;
    bus: Bus;
    jobs: JobQueue;
    outbox: OutboxService;
    log: Logger;
    /** The cadence's rules (acknowledgement, promise): the figures use the cadence's own maths. */
    rules: () => CadenceRules;
    /** Publish everywhere (the broadcast service): the postmortem goes out like any update. */
    publishUpdate: (actor: Actor, id: string, input: UpdateInput) => Promise<IncidentDetail>;
    options: ReportOptions;
  }) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#bus = deps.bus;
    this.#jobs = deps.jobs;
    this.#outbox = deps.outbox;
    this.#log = deps.log;
    this.#rules = deps.rules;
    this.#publishUpdate = deps.publishUpdate;
    this.#options = deps.options;
  }

  #base(): string {
    return this.#options.publicUrl.replace(/\/+$/, '');
  }

  /** Where the published report is public (linked from the postmortem on the status page). */
  publicUrl(incidentId: string): string {
    return `${this.#base()}/status/incidents/${encodeURIComponent(incidentId)}/report`;
  }

  editorUrl(incidentId: string): string {
    return `${this.#base()}/console/incidents/${encodeURIComponent(incidentId)}/report`;
  }

  async #load(incidentId: string, edits?: ReportEdits) {
    const now = this.#clock.now();
    const ex = this.#db.kysely;
    const [facts, stored] = await Promise.all([
      loadReportFacts(ex, incidentId, { rules: this.#rules(), now }),
      findReport(ex, incidentId),
    ]);
    if (!facts) throw notFound('Incident', incidentId);
    const state = stored?.state ?? { state: 'draft' as const, publishedAt: null, revision: 0, updatedAt: null };
    return { facts, stored, state, edits: edits ?? stored?.edits ?? EMPTY_EDITS, now };
  }

  /** The report model (figures computed now). `edits` previews unsaved text. */
  async model(incidentId: string, variant: Variant, edits?: ReportEdits): Promise<ReportModel> {
    const { facts, state, edits: e, now } = await this.#load(incidentId, edits);
    return buildReport(facts, e, state, { now, variant });
  }

  /** The public report: only once published, and without sales figures or owners. */
  async publicReport(incidentId: string): Promise<string> {
    const stored = await findReport(this.#db.kysely, incidentId);
    if (stored?.state.state !== 'published') {
      throw new AppError(404, 'not_found', `No incident report is published for incident ${JSON.stringify(incidentId)}.`);
    }
    return renderReportHtml(await this.model(incidentId, 'public'));
  }

  async render(incidentId: string, format: Format, variant: Variant): Promise<RenderedReport> {
    const model = await this.model(incidentId, variant);
    const name = `incident-report-${incidentId}${variant === 'full' ? '' : `-${variant}`}`;
    switch (format) {
      case 'md':
        return { body: renderMarkdown(model), contentType: 'text/markdown; charset=utf-8', filename: `${name}.md` };
      case 'html':
        return { body: renderReportHtml(model), contentType: 'text/html; charset=utf-8', filename: `${name}.html` };
      case 'pdf':
        return { body: renderReportPdf(model).pdf, contentType: 'application/pdf', filename: `${name}.pdf` };
      default:
        return { body: JSON.stringify(model), contentType: 'application/json; charset=utf-8', filename: `${name}.json` };
    }
  }

  async view(incidentId: string): Promise<ReportView> {
    const { facts, stored, state, edits, now } = await this.#load(incidentId);
    const model = buildReport(facts, edits, state, { now, variant: 'full' });
    const generated = buildReport(facts, { ...edits, summary: null }, state, { now, variant: 'full' }).summary;
    const q = (query: string) => `/api/v1/incidents/${encodeURIComponent(incidentId)}/report?${query}`;
    return {
      incident_id: incidentId,
      incident_name: facts.incident.name,
      state: state.state,
      revision: state.revision,
      updated_at: state.updatedAt === null ? null : toIso(state.updatedAt),
      updated_by: stored?.updatedBy ?? null,
      published_at: state.publishedAt === null ? null : toIso(state.publishedAt),
      published_by: stored?.publishedBy ?? null,
      due_at: facts.incident.resolvedAt === null ? null : toIso(facts.incident.resolvedAt + this.#options.deadlineMs),
      summary: edits.summary,
      generated_summary: generated,
      root_cause: edits.rootCause,
      actions: edits.actions,
      figures: { service: model.service, pipeline: model.pipeline },
      links: {
        markdown: q('format=md'),
        html: q('format=html'),
        pdf: q('format=pdf'),
        executive: q('format=pdf&variant=executive'),
        public: this.publicUrl(incidentId),
      },
    };
  }

  /** Apply an edit: fields left out keep their value; the figures stay live (never stored). */
  async edit(actor: Actor, incidentId: string, input: ReportEditInput): Promise<ReportView> {
    const now = this.#clock.now();
    await this.#db.tx(async (trx) => {
      if (!(await incidentsRepo.findIncident(trx, incidentId))) throw notFound('Incident', incidentId);
      const previous = await findReport(trx, incidentId, this.#db.dialect);
      if (previous?.state.state === 'published') {
        throw conflict('report_published', 'The report is published; it can no longer be edited.');
      }
      const current = previous?.state.revision ?? 0;
      if (input.revision !== undefined && input.revision !== current) {
        throw conflict(
          'stale_revision',
          `The report changed since you opened it (revision ${current}, yours ${input.revision}); reload it and apply your edit again.`,
          { field: 'revision', current },
        );
      }
      const base = previous?.edits ?? EMPTY_EDITS;
      const summary = input.summary === undefined ? base.summary : input.summary?.trim() ? input.summary.trim() : null;
      const edits: ReportEdits = {
        summary,
        rootCause: input.root_cause === undefined ? base.rootCause : input.root_cause.trim(),
        actions: input.actions ?? base.actions,
      };
      await saveReport(trx, incidentId, edits, { at: now, by: actor.name, previous });
      await recordAudit(trx, {
        at: now,
        actor,
        action: 'report.edit',
        target: { type: 'incident', id: incidentId },
        details: {
          revision: current + 1,
          fields: Object.keys(input).filter((k) => k !== 'revision' && input[k as keyof ReportEditInput] !== undefined),
        },
      });
    });
    this.#bus.emit('incident.changed', incidentId);
    return this.view(incidentId);
  }

  /** The postmortem update's text: the public summary and the link to the full report. */
  async postmortemMessage(incidentId: string): Promise<string> {
    const model = await this.model(incidentId, 'public');
    return `Incident report: ${excerpt(model.summary, 280)} Read the full report: ${this.publicUrl(incidentId)}`;
  }

  /**
   * Publish: the incident gains its Statuspage postmortem (through publish-everywhere, so the
   * status page, JSON, feeds and subscribers update as for any update), and the change hook marks
   * the report published in that transaction.
   */
  async publish(actor: Actor, incidentId: string): Promise<ReportView> {
    const { facts, stored } = await this.#load(incidentId);
    if (stored?.state.state === 'published') throw conflict('report_published', 'The report is already published.');
    if (isOpen(facts.incident.status)) {
      throw conflict(
        'incident_open',
        `The incident is still ${facts.incident.status}; resolve it before publishing its report.`,
        { status: facts.incident.status },
      );
    }
    if (!stored?.edits.rootCause.trim()) {
      throw unprocessable('root_cause_missing', 'Write the root cause before publishing the report.', { field: 'root_cause' });
    }
    await this.#publishUpdate(actor, incidentId, { status: 'postmortem', message: await this.postmortemMessage(incidentId) });
    return this.view(incidentId);
  }

  /** The incident change hook: register with `incidents.onChange(reports.onIncidentChange)`. */
  readonly onIncidentChange = async (trx: Executor, change: IncidentChange): Promise<void> => {
    if (change.type !== 'update') return;
    if (change.update.status === 'resolved' && change.update.previous_status !== 'resolved') {
      await this.#scheduleDeadline(trx, change.incidentId, change.at);
      return;
    }
    // A postmortem that links the report publishes it (the publish action writes exactly that).
    if (change.update.status === 'postmortem' && change.update.message.includes(this.publicUrl(change.incidentId))) {
      const existing = await findReport(trx, change.incidentId, this.#db.dialect);
      if (existing?.state.state === 'published') return;
      await markPublished(trx, change.incidentId, { at: change.at, by: change.actor.name });
      await incidentsRepo.appendEvent(trx, {
        incidentId: change.incidentId,
        at: change.at,
        type: REPORT_PUBLISHED_EVENT,
        actor: change.actor,
        public: false,
        data: { summary: 'Incident report published on the status page (postmortem).', url: this.publicUrl(change.incidentId) },
      });
      await recordAudit(trx, {
        at: change.at,
        actor: change.actor,
        action: 'report.publish',
        target: { type: 'incident', id: change.incidentId },
        details: { revision: (existing?.state.revision ?? 0) + 1 },
      });
    }
  };

  async #scheduleDeadline(trx: Executor, incidentId: string, resolvedAt: number): Promise<void> {
    const { deadlineMs, remindBeforeMs } = this.#options;
    const steps: Array<{ step: DeadlinePayload['step']; at: number }> = [{ step: 'escalate', at: resolvedAt + deadlineMs }];
    if (remindBeforeMs > 0 && remindBeforeMs < deadlineMs)
      steps.unshift({ step: 'remind', at: resolvedAt + deadlineMs - remindBeforeMs });
    for (const s of steps) {
      await this.#jobs.enqueue(trx, {
        kind: REPORT_JOB,
        payload: { incidentId, step: s.step } satisfies DeadlinePayload,
        key: `${REPORT_JOB}:${incidentId}:${s.step}`,
        runAt: s.at,
      });
    }
  }

  jobHandlers(): JobHandler[] {
    return [
      defineJob({
        kind: REPORT_JOB,
        payload: deadlinePayload,
        run: async (payload, ctx) => {
          await this.#runDeadline(payload, ctx);
          return undefined;
        },
      }),
    ];
  }

  async #runDeadline(p: DeadlinePayload, ctx: JobContext): Promise<void> {
    const ex = this.#db.kysely;
    const incident = await incidentsRepo.findIncident(ex, p.incidentId);
    if (!incident || incident.resolvedAt === null) return;
    const stored = await findReport(ex, p.incidentId);
    if (stored?.state.state === 'published') return;
    const dueAt = incident.resolvedAt + this.#options.deadlineMs;
    const variables = {
      incident_name: incident.name,
      status: incident.status,
      due_at: toIso(dueAt),
      console_url: this.editorUrl(incident.id),
      backup_role: this.#options.backupRole,
    };
    await ctx.transaction(async (trx) => {
      const slack = await this.#notifySlack(
        trx,
        p.step === 'remind' ? REPORT_REMINDER_TEMPLATE : REPORT_ESCALATION_SLACK_TEMPLATE,
        incident,
        variables,
        p.step,
      );
      const email = p.step === 'escalate' ? await this.#notifyBackups(trx, incident, variables) : null;
      await incidentsRepo.appendEvent(trx, {
        incidentId: incident.id,
        at: this.#clock.now(),
        type: p.step === 'remind' ? REPORT_REMINDER_EVENT : REPORT_ESCALATED_EVENT,
        actor: REPORT_ACTOR,
        public: false,
        data: {
          summary:
            p.step === 'remind'
              ? `Incident report due by ${toIso(dueAt).slice(0, 16).replace('T', ' ')} UTC and not published yet`
              : `Incident report not published by ${toIso(dueAt).slice(0, 16).replace('T', ' ')} UTC: escalated to ${this.#options.backupRole}`,
          due_at: toIso(dueAt),
          slack,
          ...(email && { notified: email.notified, ...(email.error && { email_error: email.error }) }),
        },
      });
    });
    ctx.log.info({ incidentId: incident.id, step: p.step }, 'incident report deadline');
    this.#bus.emit('incident.changed', incident.id);
  }

  async #notifySlack(
    trx: Executor,
    templateKey: string,
    incident: incidentsRepo.IncidentRecord,
    variables: Record<string, string>,
    step: string,
  ): Promise<string> {
    if (this.#outbox.providers.chain('slack', incident.drill).length === 0) return 'not sent: no Slack webhook is configured';
    try {
      const result = await this.#outbox.dispatch(trx, {
        templateKey,
        recipients: [{ address: 'slack' }],
        variables,
        incidentId: incident.id,
        step: `report:${step}`,
        drill: incident.drill,
      });
      return result.messageIds.length > 0 ? `queued (${templateKey})` : 'already queued';
    } catch (err) {
      if (err instanceof AppError && err.status < 500) return `not sent: ${err.message}`;
      throw err;
    }
  }

  /** Email every active user with the backup role (as the cadence's escalation does). */
  async #notifyBackups(
    trx: Executor,
    incident: incidentsRepo.IncidentRecord,
    variables: Record<string, string>,
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
        templateKey: REPORT_ESCALATION_EMAIL_TEMPLATE,
        recipients: recipients.map((u) => ({ address: u.email, name: u.name, ref: `user:${u.id}` })),
        variables,
        incidentId: incident.id,
        step: 'report:escalate',
        drill: incident.drill,
      });
      return { notified: recipients.map((u) => u.email) };
    } catch (err) {
      if (err instanceof AppError && err.status < 500) {
        this.#log.warn({ incidentId: incident.id, err: err.message }, 'report escalation email not sent');
        return { notified: [], error: err.message };
      }
      throw err;
    }
  }
}

export type { StoredReport };
