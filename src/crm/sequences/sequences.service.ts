import type { Logger } from 'pino';
import { z } from 'zod';
import type { InstallationSecret } from '../../app/secret.js';
import type { Clock } from '../../core/clock.js';
import type { Database, Executor } from '../../db/database.js';
import type { JobQueue } from '../../db/jobs/job-queue.js';
import { defineJob, type JobHandler } from '../../db/jobs/worker.js';
import type { Consent } from '../../messaging/messaging.js';
import type { OutboxService, Recipient } from '../../messaging/outbox.service.js';
import { normalizeAddress, suppressedAmong } from '../../messaging/suppressions.repo.js';
import { isLinkTarget, type LinkKind, signLink } from '../links.js';
import {
  planStep,
  SEQUENCES,
  type SequenceChannel,
  type SequenceDefinition,
  stepKey,
  stopReasonBeforeSend,
} from './definitions.js';
import * as repo from './sequences.repo.js';

export const SEQUENCES_RUN_JOB = 'crm.sequences.run';
/** Due enrollments handled per transaction. */
export const SEQUENCE_BATCH = 1_000;
/** Batches per job run before it hands over to a fresh run (keeps one run bounded). */
const MAX_BATCHES_PER_RUN = 200;

/**
 * Stop active enrollments of an incident and/or a lead, in one statement. P2 calls it when an
 * incident resolves (reason 'resolved') and on a demo_booked outcome; the conversation engine
 * when a lead replies ('replied'). Returns how many were stopped.
 */
export async function stopEnrollments(
  trx: Executor,
  filter: { incidentId?: string; leadId?: string },
  reason: string,
  now: number,
): Promise<number> {
  if (!filter.incidentId && !filter.leadId) throw new Error('stopEnrollments needs an incidentId or a leadId');
  let q = trx
    .updateTable('enrollments')
    .set({ state: 'stopped', stop_reason: reason, next_at: null, updated_at: now })
    .where('state', '=', 'active');
  if (filter.incidentId) q = q.where('incident_id', '=', filter.incidentId);
  if (filter.leadId) q = q.where('lead_id', '=', filter.leadId);
  const result = await q.executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** A lead's consent column (granted | denied | unknown) as the outbox reads it. */
export function consentOf(value: string): boolean | undefined {
  return value === 'granted' ? true : value === 'denied' ? false : undefined;
}

export interface LinkTargets {
  /** The spec pack: the fallback catalog (status.fallbackUrl or messaging.variables.fallback_url). */
  fallbackUrl: string | null;
  /** The team's booking page when the owner has none (messaging.variables.calendar_link). */
  calendarLink: string | null;
  comparisonUrl: string | null;
  assetsUrl: string | null;
  webinarUrl: string | null;
}

/** Link targets from the configuration. */
export function linkTargetsFrom(input: { fallbackUrl?: string | undefined; variables: Record<string, string> }): LinkTargets {
  const url = (v: string | undefined) => (v && isLinkTarget(v) ? v : null);
  const fallbackUrl = url(input.fallbackUrl) ?? url(input.variables.fallback_url);
  return {
    fallbackUrl,
    calendarLink: url(input.variables.calendar_link),
    comparisonUrl: url(input.variables.comparison_url) ?? fallbackUrl,
    assetsUrl: url(input.variables.assets_url),
    webinarUrl: url(input.variables.webinar_url),
  };
}

/**
 * The signed links of one lead, as template variables: spec_pack_url, booking_url (and
 * calendar_link, so any template linking the calendar is tracked too), comparison_url, assets_url,
 * webinar_url. A target that is not configured is left out (a template needing it fails loudly).
 */
export function leadLinkVariables(
  publicUrl: string,
  secret: string,
  targets: LinkTargets,
  lead: { leadId: string; incidentId: string | null; ownerCalendarLink: string | null },
  now: number,
): Record<string, string> {
  return linkVariables(targets, lead.ownerCalendarLink, (url, kind) =>
    signLink(publicUrl, secret, { leadId: lead.leadId, incidentId: lead.incidentId, url, kind, now }),
  );
}

/**
 * The same link variables with the targets themselves, untracked: a drill's messages (sinks only)
 * must not carry links that would mark a real lead re-engaged when someone follows them.
 */
export function untrackedLinkVariables(targets: LinkTargets, ownerCalendarLink: string | null): Record<string, string> {
  return linkVariables(targets, ownerCalendarLink, (url) => url);
}

function linkVariables(
  targets: LinkTargets,
  ownerCalendarLink: string | null,
  link: (url: string, kind: LinkKind) => string,
): Record<string, string> {
  const out: Record<string, string> = {};
  const add = (names: string[], kind: LinkKind, url: string | null) => {
    if (!url) return;
    const value = link(url, kind);
    for (const name of names) out[name] = value;
  };
  const calendar = ownerCalendarLink && isLinkTarget(ownerCalendarLink) ? ownerCalendarLink : targets.calendarLink;
  add(['spec_pack_url'], 'spec', targets.fallbackUrl);
  add(['booking_url', 'calendar_link'], 'booking', calendar);
  add(['comparison_url'], 'comparison', targets.comparisonUrl);
  add(['assets_url'], 'assets', targets.assetsUrl);
  add(['webinar_url'], 'webinar', targets.webinarUrl);
  return out;
}

export interface RunResult {
  /** Enrollments whose step was sent (queued in the outbox). */
  sent: number;
  /** Enrollments stopped at send time (re-engaged, booked, resolved, unsubscribed). */
  stopped: number;
  /** Messages queued. */
  messages: number;
}

/**
 * Runs the outage sequences: due enrollments in batches, each step's messages through the outbox
 * (idempotent per incident, address, template and step, so a re-run never sends twice), then the
 * next step's due time, or completion. One job kind, re-enqueued for the earliest due step.
 */
export class SequenceService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #jobs: JobQueue;
  readonly #outbox: Pick<OutboxService, 'dispatch'>;
  readonly #secret: InstallationSecret;
  readonly #log: Logger;
  readonly #publicUrl: string;
  readonly #targets: LinkTargets;
  readonly #batchSize: number;
  readonly #sequences: Readonly<Record<string, SequenceDefinition>>;

  constructor(deps: {
    db: Database;
    clock: Clock;
    jobs: JobQueue;
    outbox: Pick<OutboxService, 'dispatch'>;
    secret: InstallationSecret;
    log: Logger;
    /** `sequences`: the playbook's (the built-in SEQUENCES when absent). */
    options: { publicUrl: string; targets: LinkTargets; batchSize?: number; sequences?: Record<string, SequenceDefinition> };
  }) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#jobs = deps.jobs;
    this.#outbox = deps.outbox;
    this.#secret = deps.secret;
    this.#log = deps.log;
    this.#publicUrl = deps.options.publicUrl;
    this.#targets = deps.options.targets;
    this.#batchSize = deps.options.batchSize ?? SEQUENCE_BATCH;
    this.#sequences = deps.options.sequences ?? SEQUENCES;
  }

  jobHandlers(): JobHandler[] {
    return [
      defineJob({
        kind: SEQUENCES_RUN_JOB,
        payload: z.object({}).passthrough(),
        backoff: { baseMs: 30_000, maxMs: 30 * 60_000 },
        run: async (_payload, ctx) => {
          const result = await this.run(ctx.job.idempotencyKey);
          if (result.sent + result.stopped > 0) ctx.log.info(result, 'sequence steps processed');
          return undefined;
        },
      }),
    ];
  }

  /** Schedule a run (P2 does this after enrolling; the run re-enqueues itself). */
  async schedule(trx: Executor, at: number, key = `${SEQUENCES_RUN_JOB}@${at}`): Promise<void> {
    await this.#jobs.enqueue(trx, { kind: SEQUENCES_RUN_JOB, payload: {}, key, runAt: at });
  }

  /**
   * Process every due enrollment, then schedule the next run for the earliest due step. A batch
   * that cannot be queued (a template not approved, a variable missing) rolls back whole and
   * throws: its enrollments stay due and the job retries with backoff.
   */
  async run(currentKey?: string | null): Promise<RunResult> {
    const secret = await this.#secret.get();
    const total: RunResult = { sent: 0, stopped: 0, messages: 0 };
    let batches = 0;
    for (;;) {
      const now = this.#clock.now();
      let result: RunResult & { processed: number };
      try {
        result = await this.#db.tx((trx) => this.#processBatch(trx, now, secret));
      } catch (err) {
        this.#log.error({ err }, 'sequence batch not sent; its enrollments stay due and the run is retried');
        throw err;
      }
      total.sent += result.sent;
      total.stopped += result.stopped;
      total.messages += result.messages;
      batches += 1;
      if (result.processed < this.#batchSize || batches >= MAX_BATCHES_PER_RUN) break;
    }
    await this.#db.tx(async (trx) => {
      const earliest = await repo.earliestNextAt(trx);
      if (earliest === null) return;
      const at = Math.max(earliest, this.#clock.now());
      let key = `${SEQUENCES_RUN_JOB}@${at}`;
      if (key === currentKey) key = `${key}#${this.#clock.now()}`;
      await this.schedule(trx, at, key);
    });
    return total;
  }

  async #processBatch(trx: Executor, now: number, secret: string): Promise<RunResult & { processed: number }> {
    const due = await repo.findDueEnrollments(trx, now, this.#batchSize);
    const result = { sent: 0, stopped: 0, messages: 0, processed: due.length };
    if (due.length === 0) return result;

    const booked = await repo.bookedAmong(
      trx,
      due.filter((d) => d.reEngagedAt !== null).map((d) => d.leadId),
    );
    const suppressed: Record<SequenceChannel, Set<string>> = {
      email: await suppressedAmong(
        trx,
        'email',
        due.flatMap((d) => (d.email ? [d.email] : [])),
      ),
      sms: await suppressedAmong(
        trx,
        'sms',
        due.flatMap((d) => (d.phone ? [d.phone] : [])),
      ),
    };
    const addressOf = (d: repo.DueEnrollment, channel: SequenceChannel) => (channel === 'email' ? d.email : d.phone);
    const isSuppressed = (channel: SequenceChannel, address: string | null) =>
      address !== null && suppressed[channel].has(normalizeAddress(channel, address));

    const stops = new Map<string, string[]>();
    const advances = new Map<string, { ids: string[]; next: { step: number; nextAt: number } | null }>();
    const dispatches = new Map<
      string,
      { templateKey: string; step: string; incidentId: string; drill: boolean; recipients: Recipient[]; fallback: boolean }
    >();
    const fallbackLeads: string[] = [];
    const stop = (id: string, reason: string) => stops.set(reason, [...(stops.get(reason) ?? []), id]);

    for (const d of due) {
      const plan = planStep(d.sequence, d.step, now, this.#sequences);
      if (plan.kind === 'unknown') {
        stop(d.id, `unknown step ${d.sequence}:${d.step}`);
        continue;
      }
      const channels = (['email', 'sms'] as const).map((channel) => {
        const address = addressOf(d, channel);
        return { channel, address, suppressed: isSuppressed(channel, address) };
      });
      const reason = stopReasonBeforeSend({
        booked: booked.has(d.leadId),
        outageActive: d.outageStatus === 'active',
        channels,
      });
      if (reason) {
        stop(d.id, reason);
        continue;
      }
      const variables = {
        first_name: d.firstName?.trim() || 'there',
        lead_company: d.company ?? '',
        ...leadLinkVariables(
          this.#publicUrl,
          secret,
          this.#targets,
          { leadId: d.leadId, incidentId: d.incidentId, ownerCalendarLink: d.calendarLink },
          now,
        ),
      };
      const consent: Consent = { email: consentOf(d.consentEmail), sms: consentOf(d.consentSms) };
      for (const m of plan.step.messages) {
        const address = addressOf(d, m.channel);
        // No address for the channel, or opted out of it: that message is skipped for this lead.
        if (!address || isSuppressed(m.channel, address)) continue;
        const step = stepKey(d.sequence, d.step);
        const key = [m.templateKey, step, d.incidentId, d.drill].join('|');
        const group = dispatches.get(key) ?? {
          templateKey: m.templateKey,
          step,
          incidentId: d.incidentId,
          drill: d.drill,
          recipients: [],
          fallback: m.carriesFallback,
        };
        group.recipients.push({
          address,
          name: [d.firstName].filter(Boolean).join(' ') || undefined,
          ref: `lead:${d.leadId}`,
          timezone: d.timezone ?? undefined,
          consent,
          variables,
        });
        dispatches.set(key, group);
        if (m.carriesFallback) fallbackLeads.push(d.leadId);
      }
      const advanceKey = `${d.sequence}|${d.step}`;
      const advance = advances.get(advanceKey) ?? { ids: [], next: plan.next };
      advance.ids.push(d.id);
      advances.set(advanceKey, advance);
      result.sent += 1;
    }

    for (const group of dispatches.values()) {
      for (let i = 0; i < group.recipients.length; i += 500) {
        const queued = await this.#outbox.dispatch(trx, {
          templateKey: group.templateKey,
          recipients: group.recipients.slice(i, i + 500),
          incidentId: group.incidentId,
          step: group.step,
          drill: group.drill,
        });
        result.messages += queued.created;
      }
    }
    if (fallbackLeads.length > 0) await repo.markFallbackSent(trx, fallbackLeads, now);
    for (const { ids, next } of advances.values()) await repo.advanceEnrollments(trx, ids, next, now);
    for (const [reason, ids] of stops) result.stopped += await repo.stopEnrollmentsById(trx, ids, reason, now);
    return result;
  }
}
