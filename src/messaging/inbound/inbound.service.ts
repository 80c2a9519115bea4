import type { Logger } from 'pino';
import type { Actor } from '../../app/actor.js';
import { recordAudit } from '../../audit/audit.repo.js';
import type { Bus } from '../../core/bus.js';
import type { Clock } from '../../core/clock.js';
import { AppError, errorMessage } from '../../core/errors.js';
import type { Database, Executor } from '../../db/database.js';
import { applyProviderStatus } from '../messages.repo.js';
import { fromTwilioStatus, type MessageStatus } from '../messaging.js';
import type { DispatchRequest, OutboxService } from '../outbox.service.js';
import { addSuppression, removeSuppression, type SuppressionChannel } from '../suppressions.repo.js';
import type { UnsubscribeClaim } from '../unsubscribe.js';
import type { ConversationHandler, ConversationOutcome, InboundSms } from './conversation.js';
import { findInboundByProviderId, type InboundKind, insertInbound, markInboundHandled } from './inbound.repo.js';
import { classifyKeyword, type KeywordKind } from './keywords.js';
import type { TwilioParams } from './twilio-signature.js';

/** The approved templates keyword replies use (the default library provides them). */
export const KEYWORD_REPLY_TEMPLATES: Record<KeywordKind, string> = {
  stop: 'sms.stop_confirmation',
  start: 'sms.start_confirmation',
  help: 'sms.help',
};

/** The person behind an inbound keyword or an unsubscribe link: no id, no address in the audit log. */
export const RECIPIENT_ACTOR: Actor = { type: 'anonymous', id: null, name: 'recipient', role: 'viewer', ip: null };

/** A Twilio error code with its title, for a message's status reason ("30003 Unreachable destination handset"). */
const TWILIO_ERRORS: Record<string, string> = {
  '21610': 'Attempt to send to unsubscribed recipient',
  '21614': "'To' number is not a valid mobile number",
  '30001': 'Queue overflow',
  '30002': 'Account suspended',
  '30003': 'Unreachable destination handset',
  '30004': 'Message blocked',
  '30005': 'Unknown destination handset',
  '30006': 'Landline or unreachable carrier',
  '30007': 'Message filtered',
  '30008': 'Unknown error',
};

/** Twilio's error code that means the recipient opted out at the carrier or at Twilio. */
export const TWILIO_OPTED_OUT = '21610';

export function describeTwilioError(code: string, message?: string | undefined): string {
  const title = message?.trim() || TWILIO_ERRORS[code];
  return title ? `${code} ${title}` : `${code} (Twilio error, see twilio.com/docs/api/errors/${code})`;
}

export interface IncomingSms {
  messageSid: string;
  from: string;
  to: string;
  body: string;
  numMedia: number;
  params: TwilioParams;
}

export interface ReceiveResult {
  /** The inbound_messages row. */
  id: string | null;
  /** A retried webhook: nothing was done again. */
  duplicate: boolean;
  kind: InboundKind | null;
  outcome: string;
}

export interface StatusReport {
  messageSid: string;
  /** Twilio's MessageStatus (queued, sent, delivered, undelivered, failed, read, …). */
  status: string;
  errorCode?: string | undefined;
  errorMessage?: string | undefined;
}

export type StatusResult =
  | { outcome: 'ignored_status'; status: string }
  | { outcome: 'unknown_message' }
  | { outcome: 'unchanged' | 'changed'; messageId: string; status: MessageStatus; suppressed: boolean };

/**
 * Everything that arrives from outside about messaging: inbound SMS (compliance keywords first,
 * then the conversation handler), provider status callbacks, and unsubscribe requests.
 */
export class InboundService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #bus: Bus;
  readonly #log: Logger;
  readonly #outbox: Pick<OutboxService, 'dispatch'>;
  readonly #conversation: ConversationHandler;

  constructor(deps: {
    db: Database;
    clock: Clock;
    bus: Bus;
    log: Logger;
    outbox: Pick<OutboxService, 'dispatch'>;
    conversation: ConversationHandler;
  }) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#bus = deps.bus;
    this.#log = deps.log;
    this.#outbox = deps.outbox;
    this.#conversation = deps.conversation;
  }

  /**
   * An inbound SMS. Recorded once per MessageSid (a retried webhook does nothing again). A
   * keyword is acted on in the same transaction as the record: STOP suppresses the sender and
   * queues the confirmation, START lifts their suppression, HELP queues the help reply. Anything
   * else (and START/YES from someone who is not suppressed: "yes" answers a question) goes to the
   * conversation handler in a transaction of its own, so a failing handler never loses the message.
   */
  async receiveSms(sms: IncomingSms): Promise<ReceiveResult> {
    const now = this.#clock.now();
    const match = classifyKeyword(sms.body);
    const first = await this.#db.tx(async (trx): Promise<ReceiveResult> => {
      const id = await insertInbound(trx, {
        providerMessageId: sms.messageSid,
        from: sms.from,
        to: sms.to,
        body: sms.body,
        kind: match?.kind ?? 'conversation',
        receivedAt: now,
        params: sms.params,
      });
      if (id === null) {
        const existing = await findInboundByProviderId(trx, sms.messageSid);
        return {
          id: existing?.id ?? null,
          duplicate: true,
          kind: existing?.kind ?? null,
          outcome: 'duplicate webhook: already recorded',
        };
      }
      if (!match) return { id, duplicate: false, kind: 'conversation', outcome: 'conversation' };

      let outcome: string;
      switch (match.kind) {
        case 'stop': {
          const added = await addSuppression(trx, {
            channel: 'sms',
            address: sms.from,
            reason: 'stop_keyword',
            source: sms.messageSid,
            at: now,
          });
          if (!added) {
            // Suppressed already (an earlier STOP, or the provider told us): the confirmation went then.
            outcome = `${match.keyword}: already suppressed; no confirmation`;
            break;
          }
          await this.#auditSuppression(trx, now, 'suppression.add', id, 'stop_keyword');
          const reply = await this.#reply(trx, 'stop', sms);
          outcome = `${match.keyword}: suppressed; ${reply}`;
          break;
        }
        case 'start': {
          const lifted = await removeSuppression(trx, 'sms', sms.from);
          if (!lifted) {
            // Not an opt-in: nothing was suppressed. "Yes" is an answer; let the conversation have it.
            await markInboundHandled(trx, id, { kind: 'conversation', handledAt: null, outcome: null });
            return { id, duplicate: false, kind: 'conversation', outcome: 'conversation' };
          }
          await this.#auditSuppression(trx, now, 'suppression.remove', id, 'start_keyword');
          outcome = `${match.keyword}: suppression lifted; ${await this.#reply(trx, 'start', sms)}`;
          break;
        }
        case 'help':
          outcome = `${match.keyword}: ${await this.#reply(trx, 'help', sms)}`;
          break;
      }
      await markInboundHandled(trx, id, { handledAt: now, outcome });
      return { id, duplicate: false, kind: match.kind, outcome };
    });
    if (first.duplicate || first.kind !== 'conversation' || first.id === null) return first;
    return { ...first, outcome: await this.#converse(first.id, sms, now) };
  }

  async #converse(id: string, sms: IncomingSms, receivedAt: number): Promise<string> {
    const inbound: InboundSms = {
      id,
      from: sms.from,
      to: sms.to,
      body: sms.body,
      messageSid: sms.messageSid,
      receivedAt,
      numMedia: sms.numMedia,
      params: sms.params,
    };
    try {
      const result: ConversationOutcome = await this.#db.tx(async (trx) => {
        const outcome = await this.#conversation.handle(trx, inbound);
        await markInboundHandled(trx, id, {
          handledAt: outcome.handled ? this.#clock.now() : null,
          outcome: outcome.outcome ?? (outcome.handled ? 'handled' : null),
        });
        return outcome;
      });
      return result.outcome ?? (result.handled ? 'handled' : 'recorded');
    } catch (err) {
      // The message is recorded (committed before the handler ran) and stays unhandled.
      this.#log.error({ err, inboundId: id }, 'conversation handler failed; the message is kept unhandled');
      const outcome = `conversation handler failed: ${errorMessage(err)}`;
      await this.#db
        .tx((trx) => markInboundHandled(trx, id, { handledAt: null, outcome }))
        .catch((e: unknown) => this.#log.error({ err: e, inboundId: id }, 'could not record the handler failure'));
      return outcome;
    }
  }

  /**
   * Queue a keyword reply through the outbox, keyed by the inbound MessageSid (a retried webhook
   * never replies twice). A reply that cannot be queued (template not approved, a variable
   * missing) is logged and skipped: the opt-out or opt-in itself must never be lost over it.
   */
  async #reply(trx: Executor, kind: KeywordKind, sms: IncomingSms): Promise<string> {
    const templateKey = KEYWORD_REPLY_TEMPLATES[kind];
    // The answer to STOP or HELP reaches the number even though it opted out (the outbox checks
    // that it answers this very inbound text); every other message to it stays suppressed.
    const request: DispatchRequest = {
      templateKey,
      recipients: [{ address: sms.from }],
      variables: { keyword: kind.toUpperCase() },
      incidentId: null,
      step: `inbound:${sms.messageSid}`,
      metadata: { reply_to_inbound: sms.messageSid },
    };
    try {
      const result = await this.#outbox.dispatch(trx, request);
      return result.created > 0 ? `reply ${templateKey} queued` : `reply ${templateKey} queued already`;
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      const missing = err.code === 'template_not_approved';
      if (kind === 'start' && missing) {
        // Optional: no approved opt-in confirmation is a choice, not a fault.
        this.#log.info({ template: templateKey }, 'no approved opt-in confirmation template; none sent');
      } else {
        this.#log.warn(
          { template: templateKey, code: err.code, reason: err.message },
          `SMS ${kind.toUpperCase()} reply not sent: carriers expect one; approve template ${templateKey}`,
        );
      }
      return `no reply (${templateKey}: ${err.code})`;
    }
  }

  async #auditSuppression(trx: Executor, at: number, action: string, inboundId: string, reason: string): Promise<void> {
    await recordAudit(trx, {
      at,
      actor: RECIPIENT_ACTOR,
      action,
      target: { type: 'inbound_message', id: inboundId },
      details: { channel: 'sms', reason },
    });
  }

  /**
   * A provider's status callback. Idempotent and tolerant of reordering (only forward moves are
   * applied). 21610 (the recipient opted out) also suppresses the number. An unknown message is
   * not an error: there is nothing to do, and the provider must not retry forever.
   */
  async applyStatus(report: StatusReport): Promise<StatusResult> {
    const status = fromTwilioStatus(report.status);
    if (status === null) return { outcome: 'ignored_status', status: report.status };
    const now = this.#clock.now();
    // Twilio may send ErrorCode=0 (or empty) for "no error".
    const code = report.errorCode?.trim().replace(/^0+$/, '') || undefined;
    const reason = code ? describeTwilioError(code, report.errorMessage) : null;
    const result = await this.#db.tx(async (trx) => {
      const applied = await applyProviderStatus(trx, { providerMessageId: report.messageSid, status, reason, at: now });
      if (!applied) return undefined;
      let suppressed = false;
      if (code === TWILIO_OPTED_OUT) {
        suppressed = await addSuppression(trx, {
          channel: 'sms',
          address: applied.message.recipient,
          reason: `provider ${TWILIO_OPTED_OUT}`,
          source: applied.message.id,
          at: now,
        });
      }
      return { ...applied, suppressed };
    });
    if (!result) {
      this.#log.warn({ messageSid: report.messageSid, status: report.status }, 'status callback for an unknown message; ignored');
      return { outcome: 'unknown_message' };
    }
    if (result.changed) this.#bus.emit('message.changed', result.message.id);
    return {
      outcome: result.changed ? 'changed' : 'unchanged',
      messageId: result.message.id,
      status: result.message.status,
      suppressed: result.suppressed,
    };
  }

  /**
   * Unsubscribe from a signed link: RFC 8058 one-click POST or the page's button. Idempotent;
   * returns whether the address was suppressed now (false: it already was).
   */
  async unsubscribe(claim: UnsubscribeClaim, source: 'one-click' | 'page'): Promise<boolean> {
    const now = this.#clock.now();
    const channel: SuppressionChannel = claim.c;
    return this.#db.tx(async (trx) => {
      const added = await addSuppression(trx, { channel, address: claim.a, reason: 'unsubscribe', source, at: now });
      if (added) {
        await recordAudit(trx, {
          at: now,
          actor: RECIPIENT_ACTOR,
          action: 'suppression.add',
          ...(claim.m && { target: { type: 'message', id: claim.m } }),
          details: { channel, reason: 'unsubscribe', source },
        });
      }
      return added;
    });
  }
}
