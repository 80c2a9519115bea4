import type { Logger } from 'pino';
import { z } from 'zod';
import type { Actor } from '../../app/actor.js';
import { SYSTEM_ACTOR } from '../../app/actor.js';
import type { Config } from '../../config/config.js';
import type { Clock } from '../../core/clock.js';
import { DAY, toIso, toIsoOrNull } from '../../core/clock.js';
import { AppError, conflict, errorMessage, forbidden, notFound } from '../../core/errors.js';
import { newId } from '../../core/ids.js';
import type { Database, Executor } from '../../db/database.js';
import type { JobQueue } from '../../db/jobs/job-queue.js';
import { defineJob, type JobHandler } from '../../db/jobs/worker.js';
import type { NewRow } from '../../db/schema.js';
import { type ComponentKind, outageChannel } from '../../incidents/incident.js';
import { appendEvent, findIncident, listIncidentComponents } from '../../incidents/incidents.repo.js';
import type { IncidentChange } from '../../incidents/incidents.service.js';
import type { OutboxService, Recipient } from '../../messaging/outbox.service.js';
import { normalizeAddress, suppressedAmong } from '../../messaging/suppressions.repo.js';
import type { TemplateSource } from '../../messaging/templates.contract.js';
import { loadOwnerDirectory, type OwnerDirectory } from '../owners.repo.js';
import { planStep, type SequenceChannel, sequencesFromPlaybook, stepKey } from '../sequences/definitions.js';
import { consentOf, linkTargetsFrom, stopEnrollments, untrackedLinkVariables } from '../sequences/sequences.service.js';
import * as repo from './outage.repo.js';
import type { Tier } from './tiers.js';

export const DECLARED_JOB = 'crm.outage.declared';
export const RESOLVED_JOB = 'crm.outage.resolved';
export const SEQUENCES_JOB = 'crm.sequences.run';
export const CONNECTORS_JOB = 'crm.connectors.sync';

export const TASK_KINDS = ['call_now', 'account_call', 'reply_followup', 'recovery_followup'] as const;
export type TaskKind = (typeof TASK_KINDS)[number];
export const OUTCOMES = ['reached', 'voicemail', 'demo_booked', 'no_answer'] as const;
export type Outcome = (typeof OUTCOMES)[number];

const OUTCOME_LABELS: Record<Outcome, string> = {
  reached: 'reached',
  voicemail: 'left a voicemail',
  demo_booked: 'booked a demo',
  no_answer: 'no answer',
};

/** Products viewed this recently go into the call script. */
const PRODUCTS_WINDOW_MS = 30 * DAY;

/** Stops enrollments; the sequences engine's `stopEnrollments` has this shape. */
export type StopEnrollments = (
  trx: Executor,
  filter: { incidentId?: string; leadId?: string },
  reason: string,
  now: number,
) => Promise<number>;

export interface OwnerTaskInput {
  incidentId: string | null;
  leadId: string;
  kind: TaskKind;
  title: string;
  script?: string | null | undefined;
  dueAt: number;
  now: number;
}

/**
 * Create one owner task (idempotent per incident + lead + kind): the lead's owner when inside
 * working hours, else the next sales user in working hours (round robin), else unassigned.
 */
export async function createOwnerTask(
  trx: Executor,
  input: OwnerTaskInput,
  directory?: OwnerDirectory,
): Promise<{ id: string | null; created: boolean; ownerId: string | null; reason: string }> {
  const lead = await trx.selectFrom('leads').select(['id', 'owner_id']).where('id', '=', input.leadId).executeTakeFirst();
  if (!lead) throw notFound('lead', input.leadId);
  const dir = directory ?? (await loadOwnerDirectory(trx, input.now));
  const assignment = dir.assign(lead.owner_id);
  const id = newId(input.now);
  const created = await repo.insertTasks(trx, [taskRow(id, input, assignment.ownerId, assignment.reason)]);
  if (created > 0 && !directory) await dir.save(trx, input.now);
  if (created === 0) {
    let q = trx
      .selectFrom('tasks')
      .select(['id', 'owner_id', 'assigned_reason'])
      .where('lead_id', '=', input.leadId)
      .where('kind', '=', input.kind);
    q = input.incidentId === null ? q.where('incident_id', 'is', null) : q.where('incident_id', '=', input.incidentId);
    const existing = await q.executeTakeFirst();
    return {
      id: existing?.id ?? null,
      created: false,
      ownerId: existing?.owner_id ?? null,
      reason: existing?.assigned_reason ?? '',
    };
  }
  return { id, created: true, ownerId: assignment.ownerId, reason: assignment.reason };
}

function taskRow(id: string, input: OwnerTaskInput, ownerId: string | null, reason: string): NewRow<'tasks'> {
  return {
    id,
    incident_id: input.incidentId,
    lead_id: input.leadId,
    owner_id: ownerId,
    kind: input.kind,
    title: input.title,
    script: input.script ?? null,
    due_at: input.dueAt,
    state: 'open',
    outcome: null,
    outcome_note: null,
    assigned_reason: reason,
    created_at: input.now,
    updated_at: input.now,
    done_at: null,
  };
}

export interface TaskView {
  id: string;
  incident_id: string | null;
  /** A drill's task: a rehearsal, the lead is never changed by it. */
  drill: boolean;
  lead: {
    id: string;
    name: string;
    company: string | null;
    phone: string | null;
    email: string | null;
    tier: string | null;
    tier_rule: string | null;
  };
  owner_id: string | null;
  kind: string;
  title: string;
  script: string | null;
  due_at: string;
  state: string;
  outcome: string | null;
  outcome_note: string | null;
  assigned_reason: string | null;
  created_at: string;
  done_at: string | null;
}

export interface DeclaredSummary {
  tagged: number;
  tiers: { A: number; B: number; C: number };
  tasks: { call_now: number; account_call: number; round_robin: number; unassigned: number };
  enrollments: number;
  script_fallbacks: number;
}

/** What a drill's rehearsal did (the leads and the CRM are never changed). */
export interface DrillSummary {
  drill: true;
  /** Leads a real incident would have tagged, per tier. */
  leads: number;
  tiers: { A: number; B: number; C: number };
  tasks: DeclaredSummary['tasks'];
  /** First-step sequence messages queued for the sinks, in all and per tier. */
  messages: number;
  messages_by_tier: Partial<Record<Tier, number>>;
  script_fallbacks: number;
  /** Templates that could not be sent (not approved, a variable missing). */
  send_problems: string[];
}

/** Prefix of a drill task's title, and the first line of its script. */
export const DRILL_TASK_PREFIX = 'Drill: ';
const DRILL_SCRIPT_NOTE =
  'DRILL: a rehearsal. Do not call the lead: walk through the script, then record an outcome (the lead is not changed).';

export interface OutageDeps {
  db: Database;
  clock: Clock;
  jobs: JobQueue;
  templates: TemplateSource;
  outbox: OutboxService;
  log: Logger;
  config: Pick<Config, 'messaging' | 'status' | 'playbook'>;
  /** Stops enrollments (default: the sequences engine's stopEnrollments). */
  stopEnrollments?: StopEnrollments;
}

/**
 * The outage engine of the CRM: on declaration, tag and tier the pipeline, create owner tasks
 * with call scripts and enroll Tier B/C leads in their sequences; on resolution, recover. All of
 * it runs in jobs, set-based, so the declaration itself stays fast. A drill incident rehearses
 * instead (rehearseDrill, endDrill): drill tiers, drill tasks, first steps to the sinks, and never
 * a change to a lead or the team's CRM.
 */
export class OutageService {
  readonly #d: OutageDeps;
  readonly #stop: StopEnrollments;

  constructor(deps: OutageDeps) {
    this.#d = deps;
    this.#stop = deps.stopEnrollments ?? stopEnrollments;
  }

  /**
   * Incident hook: enqueue one job per declaration / resolution. A drill rehearses (tiers in
   * drill_leads, drill tasks, first sequence step to the sinks) on every declaration, whatever
   * crm.tagOnDeclare says: the playbook's tag_crm action is simulated for drills.
   */
  async onIncidentChange(trx: Executor, change: IncidentChange): Promise<void> {
    if (change.type === 'declared') {
      // The playbook may leave tagging to a tag_crm action (crm.tagOnDeclare: false).
      if (change.drill || this.#d.config.playbook.crm.tagOnDeclare) await this.enqueueTagging(trx, change.incidentId);
    } else if (change.update.status === 'resolved') {
      await this.#d.jobs.enqueue(trx, {
        kind: RESOLVED_JOB,
        payload: { incidentId: change.incidentId },
        key: `${RESOLVED_JOB}@${change.incidentId}@${change.eventId}`,
      });
    }
  }

  /** Queue tagging, tiers, tasks and enrollments (a drill's rehearsal for a drill), once per incident: the key says so. */
  async enqueueTagging(trx: Executor, incidentId: string): Promise<{ created: boolean }> {
    return this.#d.jobs.enqueue(trx, { kind: DECLARED_JOB, payload: { incidentId }, key: `${DECLARED_JOB}@${incidentId}` });
  }

  jobHandlers(): JobHandler[] {
    const payload = z.object({ incidentId: z.string().min(1) });
    return [
      defineJob({
        kind: DECLARED_JOB,
        payload,
        run: async (p, ctx) => {
          await ctx.transaction((trx) => this.runDeclared(trx, p.incidentId));
          return undefined;
        },
      }),
      defineJob({
        kind: RESOLVED_JOB,
        payload,
        run: async (p, ctx) => {
          await ctx.transaction((trx) => this.runResolved(trx, p.incidentId));
          return undefined;
        },
      }),
    ];
  }

  /**
   * Tagging, tiers, owner tasks and enrollments for a declared incident, in the caller's
   * transaction. A drill incident is rehearsed instead (rehearseDrill) and returns null.
   */
  async runDeclared(trx: Executor, incidentId: string): Promise<DeclaredSummary | null> {
    const { config } = this.#d;
    const incident = await findIncident(trx, incidentId);
    if (!incident) return null;
    if (incident.drill) {
      await this.rehearseDrill(trx, incidentId);
      return null;
    }
    const at = incident.declaredAt;
    const now = this.#d.clock.now();
    const components = await listIncidentComponents(trx, [incidentId]);
    const kinds = components.length
      ? await trx
          .selectFrom('components')
          .select(['id', 'kind'])
          .where(
            'id',
            'in',
            components.map((c) => c.componentId),
          )
          .execute()
      : [];
    const firstKind = components.map((c) => kinds.find((k) => k.id === c.componentId)?.kind).find((k) => k !== undefined);
    const channel = firstKind ? outageChannel(firstKind as ComponentKind) : 'API';

    const tiers = await repo.tagLeads(trx, { incidentId, channel, rules: config.playbook.crm.tiers, at });
    const tasks = await this.#createDeclarationTasks(trx, incident.name, incidentId, at, now, false);
    const enrollments = await repo.insertEnrollments(trx, incidentId, now, newId(now));
    if (enrollments > 0) {
      await this.#d.jobs.enqueue(trx, { kind: SEQUENCES_JOB, payload: {}, key: `${SEQUENCES_JOB}@${incidentId}` });
    }
    await this.#d.jobs.enqueue(trx, {
      kind: CONNECTORS_JOB,
      payload: { incidentId },
      key: `${CONNECTORS_JOB}@${incidentId}@declared`,
    });
    const tagged = tiers.A + tiers.B + tiers.C;
    const summary: DeclaredSummary = {
      tagged,
      tiers,
      tasks: tasks.counts,
      enrollments,
      script_fallbacks: tasks.fallbacks,
    };
    // No pipeline (no CRM data, or every lead already in another outage): nothing to say.
    if (tagged === 0 && tasks.counts.call_now + tasks.counts.account_call === 0) return summary;
    const n = (v: number) => v.toLocaleString('en-US');
    let message = `CRM: ${n(tagged)} leads tagged (${channel}) — A ${n(tiers.A)} (${n(tasks.counts.call_now)} call tasks), B ${n(tiers.B)}, C ${n(tiers.C)}; ${n(tasks.counts.account_call)} account tasks, ${n(enrollments)} sequence enrollments.`;
    if (tasks.counts.round_robin > 0)
      message += ` ${n(tasks.counts.round_robin)} tasks reassigned round robin (owner off hours).`;
    if (tasks.counts.unassigned > 0) message += ` ${n(tasks.counts.unassigned)} tasks unassigned (no owner).`;
    if (tasks.fallbackReason) message += ` Call scripts use the built-in text: ${tasks.fallbackReason}`;
    await appendEvent(trx, {
      incidentId,
      at: now,
      type: 'crm.leads_tagged',
      actor: SYSTEM_ACTOR,
      public: false,
      data: { message, channel, ...summary },
    });
    return summary;
  }

  /**
   * A drill's rehearsal, in the caller's transaction: the tiers the same rules give (drill_leads,
   * the leads' outage fields untouched), the owner tasks as for a real incident (marked by their
   * drill incident), and the first step of the Tier B/C sequences as drill messages (sinks only,
   * `metadata.tier`), without enrollments, connector sync or anything recorded on a lead.
   * Idempotent: a replay adds no lead, task, message or timeline entry.
   */
  async rehearseDrill(trx: Executor, incidentId: string): Promise<DrillSummary | null> {
    const { config } = this.#d;
    const incident = await findIncident(trx, incidentId);
    if (!incident?.drill) return null;
    const at = incident.declaredAt;
    const now = this.#d.clock.now();
    await repo.rehearseTiers(trx, { incidentId, rules: config.playbook.crm.tiers, at });
    const tiers = await repo.countDrillTiers(trx, incidentId);
    const tasks = await this.#createDeclarationTasks(trx, incident.name, incidentId, at, now, true);
    const sent = await this.#sendDrillMessages(trx, incident.name, incidentId);
    const summary: DrillSummary = {
      drill: true,
      leads: tiers.A + tiers.B + tiers.C,
      tiers,
      tasks: tasks.counts,
      messages: sent.total,
      messages_by_tier: sent.byTier,
      script_fallbacks: tasks.fallbacks,
      send_problems: sent.problems,
    };
    const recorded = await trx
      .selectFrom('incident_events')
      .select('id')
      .where('incident_id', '=', incidentId)
      .where('type', '=', 'crm.skipped')
      .executeTakeFirst();
    if (recorded) return summary;
    const n = (v: number) => v.toLocaleString('en-US');
    const calls = tasks.counts.call_now + tasks.counts.account_call;
    let message = `CRM (drill): ${n(summary.leads)} leads would be tagged — A ${n(tiers.A)}, B ${n(tiers.B)}, C ${n(tiers.C)}; ${n(calls)} call tasks for the rehearsal (${n(tasks.counts.call_now)} Tier A, ${n(tasks.counts.account_call)} account); ${n(sent.total)} messages to the sinks; leads and the CRM were not changed.`;
    if (tasks.counts.round_robin > 0)
      message += ` ${n(tasks.counts.round_robin)} tasks reassigned round robin (owner off hours).`;
    if (tasks.counts.unassigned > 0) message += ` ${n(tasks.counts.unassigned)} tasks unassigned (no owner).`;
    if (tasks.fallbackReason) message += ` Call scripts use the built-in text: ${tasks.fallbackReason}`;
    if (sent.problems.length > 0) message += ` Not sent: ${sent.problems.join('; ')}`;
    // crm.skipped: the leads and the CRM are skipped (the playbook's crm checklist item completes on it).
    await appendEvent(trx, {
      incidentId,
      at: now,
      type: 'crm.skipped',
      actor: SYSTEM_ACTOR,
      public: false,
      data: { message, ...summary },
    });
    return summary;
  }

  /**
   * The first step of each tier's sequence (config.playbook.sequences) for a drill's Tier B/C
   * leads, as drill messages: the provider registry routes them to the sinks. Links are the
   * targets themselves (untracked), and nothing is recorded on the leads (fallback_sent stays).
   */
  async #sendDrillMessages(trx: Executor, incidentName: string, incidentId: string) {
    const { config } = this.#d;
    const now = this.#d.clock.now();
    const definitions = sequencesFromPlaybook(config.playbook.sequences);
    const targets = linkTargetsFrom({ fallbackUrl: config.status.fallbackUrl, variables: config.messaging.variables });
    const byTier: Partial<Record<Tier, number>> = {};
    const problems: string[] = [];
    let total = 0;
    for (const [tier, sequence] of Object.entries(repo.SEQUENCE_OF_TIER) as Array<[Tier, string]>) {
      const plan = planStep(sequence, 0, now, definitions);
      if (plan.kind !== 'send') continue;
      const step = stepKey(sequence, 0);
      const sendable = new Set<string>();
      for (const m of plan.step.messages) {
        try {
          await this.#d.templates.requireApproved(trx, m.templateKey);
          sendable.add(m.templateKey);
        } catch (err) {
          problems.push(`${m.templateKey} (${errorMessage(err)})`);
        }
      }
      let after = '';
      for (;;) {
        const leads = await repo.drillLeadsOfTier(trx, incidentId, tier, after);
        if (leads.length === 0) break;
        after = (leads[leads.length - 1] as repo.DrillMessageLead).id;
        const addressOf = (l: repo.DrillMessageLead, channel: SequenceChannel) => (channel === 'email' ? l.email : l.phone);
        const suppressed: Record<SequenceChannel, Set<string>> = {
          email: await suppressedAmong(
            trx,
            'email',
            leads.flatMap((l) => (l.email ? [l.email] : [])),
          ),
          sms: await suppressedAmong(
            trx,
            'sms',
            leads.flatMap((l) => (l.phone ? [l.phone] : [])),
          ),
        };
        for (const m of plan.step.messages) {
          if (!sendable.has(m.templateKey)) continue;
          const recipients: Recipient[] = [];
          for (const l of leads) {
            const address = addressOf(l, m.channel);
            // As the sequences do: no address for the channel, or opted out of it, skips the lead.
            if (!address || suppressed[m.channel].has(normalizeAddress(m.channel, address))) continue;
            recipients.push({
              address,
              name: l.first_name || undefined,
              ref: `lead:${l.id}`,
              timezone: l.timezone ?? undefined,
              consent: { email: consentOf(l.consent_email), sms: consentOf(l.consent_sms) },
              variables: {
                first_name: l.first_name?.trim() || 'there',
                lead_company: l.company ?? '',
                ...untrackedLinkVariables(targets, l.calendar_link),
              },
            });
          }
          if (recipients.length === 0) continue;
          try {
            const res = await this.#d.outbox.dispatch(trx, {
              templateKey: m.templateKey,
              recipients,
              variables: { incident_name: incidentName },
              incidentId,
              step,
              drill: true,
              metadata: { tier, sequence, rehearsal: true },
            });
            const queued = res.created + res.existing;
            total += queued;
            byTier[tier] = (byTier[tier] ?? 0) + queued;
          } catch (err) {
            // A recipient that cannot be rendered fails the template (before anything is written).
            if (!(err instanceof AppError) || err.status >= 500) throw err;
            problems.push(`${m.templateKey} (${errorMessage(err)})`);
            sendable.delete(m.templateKey);
          }
        }
      }
    }
    return { total, byTier, problems };
  }

  async #createDeclarationTasks(
    trx: Executor,
    incidentName: string,
    incidentId: string,
    at: number,
    now: number,
    drill: boolean,
  ) {
    const { config } = this.#d;
    const candidates = await repo.listTaskCandidates(trx, incidentId, config.playbook.crm.taskArrAbove, at, { drill });
    const tierA = candidates.filter((c) => c.tier === 'A');
    const products = await repo.productsViewed(
      trx,
      tierA.map((c) => c.id),
      at - PRODUCTS_WINDOW_MS,
    );
    const dir = await loadOwnerDirectory(trx, now);
    const script = await this.#scriptRenderer(trx, incidentName, dir);
    const counts = { call_now: 0, account_call: 0, round_robin: 0, unassigned: 0 };
    const rows: NewRow<'tasks'>[] = [];
    const dueCall = at + config.playbook.crm.callWithin;
    const prefix = drill ? DRILL_TASK_PREFIX : '';
    for (const lead of candidates) {
      const a = dir.assign(lead.owner_id);
      if (a.reason.startsWith('round robin')) counts.round_robin += 1;
      if (a.ownerId === null) counts.unassigned += 1;
      const name = displayName(lead);
      if (lead.tier === 'A') {
        counts.call_now += 1;
        rows.push(
          taskRow(
            newId(now),
            {
              incidentId,
              leadId: lead.id,
              kind: 'call_now',
              title: `${prefix}Call ${name} now${lead.company ? ` (${lead.company})` : ''}`,
              script: drill
                ? `${DRILL_SCRIPT_NOTE}\n\n${script.render(lead, a.ownerId, products.get(lead.id) ?? [])}`
                : script.render(lead, a.ownerId, products.get(lead.id) ?? []),
              dueAt: dueCall,
              now,
            },
            a.ownerId,
            a.reason,
          ),
        );
      } else {
        counts.account_call += 1;
        const why =
          lead.demo_scheduled_at !== null && lead.demo_scheduled_at >= at
            ? `demo scheduled ${toIso(lead.demo_scheduled_at).slice(0, 16).replace('T', ' ')} UTC`
            : `account ARR $${(lead.account_arr ?? 0).toLocaleString('en-US')}`;
        rows.push(
          taskRow(
            newId(now),
            {
              incidentId,
              leadId: lead.id,
              kind: 'account_call',
              title: `${prefix}Check in with ${name}${lead.company ? ` (${lead.company})` : ''}: ${why}`,
              script: drill ? DRILL_SCRIPT_NOTE : null,
              dueAt: at + 60 * 60_000,
              now,
            },
            a.ownerId,
            a.reason,
          ),
        );
      }
    }
    await repo.insertTasks(trx, rows);
    // A drill assigns as a real incident would, without moving the real round-robin rotation.
    if (!drill) await dir.save(trx, now);
    return { counts, fallbacks: script.fallbacks(), fallbackReason: script.fallbackReason() };
  }

  /** Renders the approved 'call.script' per lead; the built-in text when it is not approved or cannot render. */
  async #scriptRenderer(trx: Executor, incidentName: string, dir: OwnerDirectory) {
    const vars = this.#d.config.messaging.variables;
    const fallbackUrl = this.#d.config.status.fallbackUrl ?? vars.fallback_url ?? null;
    let template: Awaited<ReturnType<TemplateSource['requireApproved']>> | null = null;
    let reason: string | null = null;
    let fallbacks = 0;
    try {
      template = await this.#d.templates.requireApproved(trx, 'call.script');
    } catch (err) {
      reason = `the call.script template is not approved (${errorMessage(err)})`;
    }
    return {
      fallbacks: () => fallbacks,
      fallbackReason: () => reason,
      render: (lead: repo.TaskCandidate, ownerId: string | null, viewed: string[]): string => {
        const profile = ownerId ? dir.profiles.get(ownerId) : undefined;
        const calendar = profile?.calendar_link ?? vars.calendar_link ?? null;
        const facts = [
          `Lead: ${displayName(lead)}${lead.company ? `, ${lead.company}` : ''}`,
          lead.demo_scheduled_at !== null ? `Demo scheduled: ${toIso(lead.demo_scheduled_at)}` : null,
          `Products viewed (last 30 days): ${viewed.length ? viewed.join(', ') : 'none recorded'}`,
        ]
          .filter((l) => l !== null)
          .join('\n');
        if (template) {
          try {
            const body = this.#d.templates.render(template, {
              ...vars,
              incident_name: incidentName,
              first_name: lead.first_name || 'there',
              lead_company: lead.company ?? '',
              products_viewed: viewed.join(', '),
              ...(fallbackUrl && { fallback_url: fallbackUrl }),
              ...(calendar && { calendar_link: calendar }),
              ...(ownerId && dir.names.get(ownerId) && { sender_name: dir.names.get(ownerId) }),
            }).text;
            return `${facts}\n\n${body}`;
          } catch (err) {
            reason ??= `call.script could not be rendered (${errorMessage(err)})`;
          }
        }
        fallbacks += 1;
        return [
          facts,
          '',
          `Opening: introduce yourself, say our online showroom is down (${incidentName}) and that you called so it does not slow them down.`,
          fallbackUrl
            ? `Offer the backup catalog and spec sheets: ${fallbackUrl}`
            : 'Offer to email spec sheets and the price list.',
          calendar ? `Offer a live walkthrough instead: ${calendar}` : 'Offer a live walkthrough by video call.',
          'Close: note what they need and by when; log the outcome on the task.',
        ].join('\n');
      },
    };
  }

  /** Recovery: resolve tags, stop sequences, "we're back" to everyone messaged, follow-ups for re-engaged leads. */
  async runResolved(trx: Executor, incidentId: string) {
    const incident = await findIncident(trx, incidentId);
    if (!incident) return null;
    if (incident.drill) {
      await this.endDrill(trx, incidentId);
      return null;
    }
    const now = this.#d.clock.now();
    const resolved = await repo.resolveLeads(trx, incidentId, now);
    const stopped = await this.#stop(trx, { incidentId }, 'resolved', now);

    const messagedIds = await repo.leadsMessaged(trx, incidentId, 'email.resolved');
    let emailed = 0;
    let sendProblem: string | null = null;
    const recipients: Array<{
      address: string;
      name?: string;
      ref: string;
      timezone?: string;
      variables: Record<string, unknown>;
    }> = [];
    for (const ids of repo.chunks(messagedIds)) {
      const leads = await trx
        .selectFrom('leads')
        .select(['id', 'email', 'first_name', 'last_name', 'timezone'])
        .where('id', 'in', ids)
        .where('email', 'is not', null)
        .orderBy('id')
        .execute();
      for (const l of leads) {
        recipients.push({
          address: l.email as string,
          ...(displayNameOrNull(l) && { name: displayNameOrNull(l) as string }),
          ref: `lead:${l.id}`,
          ...(l.timezone && { timezone: l.timezone }),
          variables: { first_name: l.first_name || 'there' },
        });
      }
    }
    if (recipients.length > 0) {
      try {
        await this.#d.templates.requireApproved(trx, 'email.resolved');
        for (const batch of repo.chunks(recipients)) {
          const res = await this.#d.outbox.dispatch(trx, {
            templateKey: 'email.resolved',
            recipients: batch,
            variables: { incident_name: incident.name },
            incidentId,
            step: 'crm.resolved',
            drill: incident.drill,
          });
          emailed += res.created;
        }
      } catch (err) {
        sendProblem = errorMessage(err);
        this.#d.log.warn({ incidentId, err: sendProblem }, "we're back messages not sent");
      }
    }

    const reengaged = await trx
      .selectFrom('leads')
      .select(['id', 'first_name', 'last_name', 'company'])
      .where('outage_incident_id', '=', incidentId)
      .where('re_engaged_at', 'is not', null)
      .where((eb) => eb.or([eb('tagged_at', 'is', null), eb('re_engaged_at', '>=', eb.ref('tagged_at'))]))
      .orderBy('id')
      .execute();
    let followups = 0;
    if (reengaged.length > 0) {
      const dir = await loadOwnerDirectory(trx, now);
      for (const lead of reengaged) {
        const r = await createOwnerTask(
          trx,
          {
            incidentId,
            leadId: lead.id,
            kind: 'recovery_followup',
            title: `Follow up with ${displayName(lead)}${lead.company ? ` (${lead.company})` : ''}: re-engaged during the outage, service is back`,
            dueAt: now + 60 * 60_000,
            now,
          },
          dir,
        );
        if (r.created) followups += 1;
      }
      await dir.save(trx, now);
    }
    await this.#d.jobs.enqueue(trx, {
      kind: CONNECTORS_JOB,
      payload: { incidentId },
      key: `${CONNECTORS_JOB}@${incidentId}@resolved@${now}`,
    });
    const n = (v: number) => v.toLocaleString('en-US');
    let message = `CRM recovery: ${n(resolved)} leads marked resolved, ${n(stopped)} sequence enrollments stopped, ${n(emailed)} "we're back" emails queued, ${n(followups)} follow-up tasks for re-engaged leads.`;
    if (sendProblem) message += ` "We're back" emails not sent: ${sendProblem}`;
    const summary = { resolved, stopped, emailed, followups };
    await appendEvent(trx, {
      incidentId,
      at: now,
      type: 'crm.recovered',
      actor: SYSTEM_ACTOR,
      public: false,
      data: { message, ...summary, ...(sendProblem && { send_problem: sendProblem }) },
    });
    return summary;
  }

  /** A drill is over: its open tasks are cancelled ("drill over"); the leads stay exactly as they were. */
  async endDrill(trx: Executor, incidentId: string): Promise<{ cancelled: number; done: number } | null> {
    const incident = await findIncident(trx, incidentId);
    if (!incident?.drill) return null;
    const now = this.#d.clock.now();
    const cancelled = await repo.cancelDrillTasks(trx, incidentId, now);
    const row = await trx
      .selectFrom('tasks')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('incident_id', '=', incidentId)
      .where('state', '=', 'done')
      .executeTakeFirst();
    const done = Number(row?.n ?? 0);
    const n = (v: number) => v.toLocaleString('en-US');
    await appendEvent(trx, {
      incidentId,
      at: now,
      type: 'crm.drill_over',
      actor: SYSTEM_ACTOR,
      public: false,
      data: {
        message: `CRM (drill) over: ${n(done)} rehearsal tasks done, ${n(cancelled)} still open cancelled (drill over); leads and the CRM were not changed.`,
        drill: true,
        done,
        cancelled,
      },
    });
    return { cancelled, done };
  }

  // ---- Tasks API ----

  async listTasks(
    actor: Actor,
    filter: { owner?: string | undefined; state?: string | undefined; incident?: string | undefined; limit?: number | undefined },
  ): Promise<TaskView[]> {
    const me = actor.type === 'user' ? actor.id : null;
    let owner = filter.owner ?? (actor.role === 'sales' ? 'me' : 'all');
    if (owner === 'me') {
      if (!me)
        throw forbidden('needs_user', 'owner=me needs a signed-in user (an API token belongs to nobody); pass an owner id.');
      owner = me;
    }
    if (actor.role === 'sales' && owner !== me) throw forbidden('own_tasks_only', 'Sales users see their own tasks (owner=me).');
    const records = await repo.findTasks(this.#d.db.kysely, {
      owner: owner === 'all' ? undefined : owner,
      state: filter.state === 'all' ? undefined : filter.state,
      incidentId: filter.incident,
      order: 'due',
      limit: filter.limit ?? 200,
    });
    return records.map(taskView);
  }

  /**
   * Record a call's outcome: the task is done and the outcome goes on the incident timeline.
   * demo_booked marks the lead re-engaged and stops its sequences. voicemail and no_answer only
   * close the task (the lead stays in any sequence it is in; recovery follows up on re-engaged leads).
   * A drill's task is only closed: the outcome goes on the drill's timeline, never on the lead.
   */
  async recordOutcome(actor: Actor, taskId: string, input: { outcome: Outcome; note?: string | undefined }): Promise<TaskView> {
    const now = this.#d.clock.now();
    await this.#d.db.tx(async (trx) => {
      const task = await trx.selectFrom('tasks').selectAll().where('id', '=', taskId).executeTakeFirst();
      if (!task) throw notFound('task', taskId);
      const me = actor.type === 'user' ? actor.id : null;
      if (actor.role === 'sales' && task.owner_id !== null && task.owner_id !== me) {
        throw forbidden('not_your_task', 'This task belongs to another owner.');
      }
      if (task.state !== 'open') throw conflict('task_closed', `The task is already ${task.state}.`, { state: task.state });
      const drill = task.incident_id !== null && ((await findIncident(trx, task.incident_id))?.drill ?? false);
      await trx
        .updateTable('tasks')
        .set({
          state: 'done',
          outcome: input.outcome,
          outcome_note: input.note ?? null,
          done_at: now,
          updated_at: now,
          ...(task.owner_id === null &&
            actor.role === 'sales' &&
            me && { owner_id: me, assigned_reason: 'taken from the queue' }),
        })
        .where('id', '=', taskId)
        .execute();
      let stopped = 0;
      if (input.outcome === 'demo_booked' && !drill) {
        await trx
          .updateTable('leads')
          .set({ re_engaged_at: now, updated_at: now })
          .where('id', '=', task.lead_id)
          .where('re_engaged_at', 'is', null)
          .execute();
        stopped = await this.#stop(trx, { leadId: task.lead_id }, 'booked', now);
      }
      if (task.incident_id) {
        const lead = await trx
          .selectFrom('leads')
          .select(['first_name', 'last_name', 'company'])
          .where('id', '=', task.lead_id)
          .executeTakeFirst();
        const who = lead ? `${displayName(lead)}${lead.company ? ` (${lead.company})` : ''}` : task.lead_id;
        await appendEvent(trx, {
          incidentId: task.incident_id,
          at: now,
          type: 'crm.task_outcome',
          actor,
          public: false,
          data: {
            message: `${drill ? 'Drill: ' : ''}${labelOfKind(task.kind)} ${who}: ${OUTCOME_LABELS[input.outcome]}${input.note ? ` — ${input.note}` : ''}`,
            task_id: task.id,
            lead_id: task.lead_id,
            kind: task.kind,
            outcome: input.outcome,
            ...(drill && { drill: true }),
            ...(stopped > 0 && { enrollments_stopped: stopped }),
          },
        });
      }
    });
    const [record] = await repo.findTasks(this.#d.db.kysely, { id: taskId, order: 'due', limit: 1 });
    if (!record) throw notFound('task', taskId);
    return taskView(record);
  }
}

function taskView(t: repo.TaskRecord): TaskView {
  return {
    id: t.id,
    incident_id: t.incidentId,
    drill: t.drill,
    lead: {
      id: t.lead.id,
      name: displayName({ first_name: t.lead.firstName, last_name: t.lead.lastName, company: t.lead.company }),
      company: t.lead.company,
      phone: t.lead.phone,
      email: t.lead.email,
      tier: t.lead.tier,
      tier_rule: t.lead.tierRule,
    },
    owner_id: t.ownerId,
    kind: t.kind,
    title: t.title,
    script: t.script,
    due_at: toIso(t.dueAt),
    state: t.state,
    outcome: t.outcome,
    outcome_note: t.outcomeNote,
    assigned_reason: t.assignedReason,
    created_at: toIso(t.createdAt),
    done_at: toIsoOrNull(t.doneAt),
  };
}

function labelOfKind(kind: string): string {
  if (kind === 'call_now') return 'Call to';
  if (kind === 'account_call') return 'Account call to';
  return 'Follow-up with';
}

function displayNameOrNull(l: { first_name: string | null; last_name: string | null }): string | null {
  const name = [l.first_name, l.last_name]
    .filter((p) => p?.trim())
    .join(' ')
    .trim();
  return name || null;
}

function displayName(l: { first_name: string | null; last_name: string | null; company?: string | null }): string {
  return displayNameOrNull(l) ?? l.company ?? 'lead';
}
