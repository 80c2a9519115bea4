import type { Logger } from 'pino';
import type { InstallationSecret } from '../../app/secret.js';
import { type Clock, MINUTE } from '../../core/clock.js';
import type { Database, Executor } from '../../db/database.js';
import type { ConversationHandler, ConversationOutcome, InboundSms } from '../../messaging/inbound/conversation.js';
import type { OutboxService } from '../../messaging/outbox.service.js';
import { normalizeAddress } from '../../messaging/suppressions.repo.js';
import type { TemplateSource } from '../../messaging/templates.contract.js';
import { createOwnerTask } from '../outage/outage.service.js';
import { consentOf, type LinkTargets, leadLinkVariables, stopEnrollments } from '../sequences/sequences.service.js';
import { type ConversationState, decideChat, decideSms, followupTitle } from './conversations.js';
import {
  type ConversationLead,
  findConversation,
  findLeadByEmail,
  findLeadById,
  findLeadByPhone,
  markReEngaged,
  recordTurn,
} from './conversations.repo.js';

export interface OwnerTaskInput {
  incidentId: string | null;
  leadId: string;
  kind: 'reply_followup';
  title: string;
  script?: string;
  dueAt: number;
  now: number;
}

/** Creates an owner task (default: the outage engine's createOwnerTask, idempotent per incident, lead and kind; owner or round robin). */
export type CreateOwnerTask = (trx: Executor, input: OwnerTaskInput) => Promise<unknown>;

/** A reply_followup task is due this soon. */
export const REPLY_FOLLOWUP_WITHIN = 15 * MINUTE;

export interface ChatInput {
  session: string;
  text: string;
  email?: string | undefined;
}

export interface ChatAnswer {
  reply: string;
  choice: string;
  state: ConversationState;
  /** The visitor is a known lead (by the email given now or earlier in the session). */
  identified: boolean;
}

function nameOf(lead: ConversationLead): string {
  return [lead.firstName, lead.lastName].filter(Boolean).join(' ') || 'A lead';
}

/**
 * The conversation engine: SMS replies (the inbound service's handler for anything that is not a
 * keyword) and the chat widget, one set of rules (conversations.ts). A reply from a known lead
 * re-engages them (re_engaged_at, first time only), stops their sequences ('replied') and, for
 * a booking request or free text, gives their owner a reply_followup task.
 */
export class ConversationService implements ConversationHandler {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #outbox: Pick<OutboxService, 'dispatch'>;
  readonly #templates: TemplateSource;
  readonly #secret: InstallationSecret;
  readonly #log: Logger;
  readonly #createOwnerTask: CreateOwnerTask;
  readonly #publicUrl: string;
  readonly #targets: LinkTargets;
  readonly #variables: Record<string, string>;

  constructor(deps: {
    db: Database;
    clock: Clock;
    outbox: Pick<OutboxService, 'dispatch'>;
    templates: TemplateSource;
    secret: InstallationSecret;
    log: Logger;
    createOwnerTask?: CreateOwnerTask;
    options: { publicUrl: string; targets: LinkTargets; variables: Record<string, string> };
  }) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#outbox = deps.outbox;
    this.#templates = deps.templates;
    this.#secret = deps.secret;
    this.#log = deps.log;
    this.#createOwnerTask = deps.createOwnerTask ?? ((trx, input) => createOwnerTask(trx, input));
    this.#publicUrl = deps.options.publicUrl;
    this.#targets = deps.options.targets;
    this.#variables = deps.options.variables;
  }

  /** An inbound SMS that is not STOP/START/HELP (the inbound service calls this inside its transaction). */
  async handle(trx: Executor, inbound: InboundSms): Promise<ConversationOutcome> {
    const now = this.#clock.now();
    const phone = normalizeAddress('sms', inbound.from);
    const lead = await findLeadByPhone(trx, phone);
    if (!lead) return { handled: false, outcome: 'no lead with this number; kept for a person' };
    const decision = decideSms(inbound.body);
    const secret = await this.#secret.get();
    const links = this.#links(secret, lead, now);
    const queued = await this.#outbox.dispatch(trx, {
      templateKey: decision.templateKey,
      recipients: [
        {
          address: phone,
          ref: `lead:${lead.id}`,
          timezone: lead.timezone ?? undefined,
          consent: { sms: consentOf(lead.consentSms) },
          variables: { first_name: lead.firstName?.trim() || 'there', ...links },
        },
      ],
      incidentId: lead.outageIncidentId,
      step: `inbound:${inbound.messageSid}`,
      drill: lead.drill,
      metadata: { reply_to_inbound: inbound.messageSid },
    });
    await recordTurn(trx, {
      channel: 'sms',
      address: phone,
      leadId: lead.id,
      incidentId: lead.outageIncidentId,
      state: decision.state,
      choice: decision.choice,
      now,
    });
    const after = await this.#reEngage(trx, lead, 'sms', decision.choice, decision.ownerTask, now);
    return {
      handled: true,
      outcome: `menu reply ${decision.choice}: ${decision.templateKey} ${queued.created > 0 ? 'queued' : 'queued already'}${after}`,
    };
  }

  /** One chat message from the showroom's widget; answers with the menu or a link. */
  async chat(input: ChatInput): Promise<ChatAnswer> {
    const now = this.#clock.now();
    const secret = await this.#secret.get();
    return this.#db.tx(async (trx) => {
      const conversation = await findConversation(trx, 'chat', input.session);
      const lead =
        (input.email ? await findLeadByEmail(trx, input.email) : undefined) ??
        (conversation?.leadId ? await findLeadById(trx, conversation.leadId) : undefined);
      const decision = decideChat({
        state: (conversation?.state as ConversationState | undefined) ?? null,
        text: input.text,
        identified: lead !== undefined,
      });
      const template = await this.#templates.requireApproved(trx, decision.templateKey);
      const links = lead ? this.#links(secret, lead, now) : this.#plainLinks();
      const rendered = this.#templates.render(template, {
        ...this.#variables,
        ...(this.#targets.fallbackUrl && { fallback_url: this.#targets.fallbackUrl }),
        first_name: lead?.firstName?.trim() || 'there',
        ...links,
      });
      await recordTurn(trx, {
        channel: 'chat',
        address: input.session,
        leadId: lead?.id ?? null,
        incidentId: lead?.outageIncidentId ?? null,
        state: decision.state,
        choice: decision.choice,
        now,
      });
      if (lead && decision.choice !== 'menu') {
        await this.#reEngage(trx, lead, 'chat', decision.choice, decision.ownerTask, now);
      }
      return { reply: rendered.text, choice: decision.choice, state: decision.state, identified: lead !== undefined };
    });
  }

  #links(secret: string, lead: ConversationLead, now: number): Record<string, string> {
    return leadLinkVariables(
      this.#publicUrl,
      secret,
      this.#targets,
      { leadId: lead.id, incidentId: lead.outageIncidentId, ownerCalendarLink: lead.calendarLink },
      now,
    );
  }

  /** For an anonymous visitor there is no one to attribute a click to: plain links. */
  #plainLinks(): Record<string, string> {
    const t = this.#targets;
    const out: Record<string, string> = {};
    if (t.fallbackUrl) out.spec_pack_url = t.fallbackUrl;
    if (t.calendarLink) {
      out.booking_url = t.calendarLink;
      out.calendar_link = t.calendarLink;
    }
    if (t.comparisonUrl) out.comparison_url = t.comparisonUrl;
    return out;
  }

  async #reEngage(
    trx: Executor,
    lead: ConversationLead,
    channel: 'sms' | 'chat',
    choice: string,
    ownerTask: boolean,
    now: number,
  ): Promise<string> {
    const first = await markReEngaged(trx, lead.id, now);
    const stopped = await stopEnrollments(trx, { leadId: lead.id }, 'replied', now);
    if (ownerTask) {
      await this.#createOwnerTask(trx, {
        incidentId: lead.outageIncidentId,
        leadId: lead.id,
        kind: 'reply_followup',
        title: followupTitle(channel, choice as 'booking' | 'person', nameOf(lead)),
        dueAt: now + REPLY_FOLLOWUP_WITHIN,
        now,
      });
    }
    if (first) this.#log.info({ leadId: lead.id, channel }, 'lead re-engaged');
    return `${stopped > 0 ? `; ${stopped} sequence(s) stopped` : ''}${ownerTask ? '; owner task' : ''}`;
  }
}
