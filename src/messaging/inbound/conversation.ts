import type { Executor } from '../../db/database.js';
import type { TwilioParams } from './twilio-signature.js';

/** An SMS someone sent to one of Keepwarm's numbers that is not a compliance keyword. */
export interface InboundSms {
  /** The inbound_messages row that records it (already committed). */
  id: string;
  /** Sender, E.164 as the provider gave it. */
  from: string;
  /** The Keepwarm number it was sent to. */
  to: string;
  body: string;
  /** The provider's id (Twilio MessageSid): stable across webhook retries. */
  messageSid: string;
  receivedAt: number;
  /** MMS attachments announced (their URLs are in params: MediaUrl0…). */
  numMedia: number;
  /** Every parameter the provider sent, as received. */
  params: TwilioParams;
}

export interface ConversationOutcome {
  /**
   * true: the handler acted (replied, routed to an owner, tagged a lead) and the message is done;
   * false: only recorded, still waiting for someone (it stays in the unhandled list).
   */
  handled: boolean;
  /** One line for the record and the console ("menu reply 1: spec pack queued"). No personal data. */
  outcome?: string | undefined;
}

/**
 * What answers SMS conversations ("1 for specs, 2 to book time"). It runs inside a transaction of
 * its own, after the message is recorded: it may read and write through `trx` and queue replies
 * with `outbox.dispatch(trx, …)` (use a step derived from `inbound.messageSid` so a retried
 * webhook never replies twice). If it throws, its writes are rolled back and the message stays
 * recorded and unhandled.
 */
export interface ConversationHandler {
  handle(trx: Executor, inbound: InboundSms): Promise<ConversationOutcome>;
}

/**
 * The default: keep the message (it is already recorded durably) and leave it unhandled for a
 * person or for the CRM's conversation handler, which replaces this one.
 */
export class RecordingConversationHandler implements ConversationHandler {
  async handle(_trx: Executor, _inbound: InboundSms): Promise<ConversationOutcome> {
    return { handled: false, outcome: 'recorded; no conversation handler is configured' };
  }
}
