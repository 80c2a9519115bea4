import { DAY, HOUR } from '../../core/clock.js';
import type { Playbook } from '../../playbook/playbook.js';

/**
 * The outage sequences, as plain data. A step is sent when its enrollment's next_at is due; the
 * next step is due `delayMs` after the previous one was sent. Consent, suppression and quiet hours
 * for marketing SMS are the outbox's business: a step only names what to send.
 */

export type SequenceChannel = 'email' | 'sms';

export interface StepMessage {
  channel: SequenceChannel;
  templateKey: string;
  /** The message carries the fallback (spec pack) link: the lead's fallback_sent becomes true. */
  carriesFallback: boolean;
}

export interface SequenceStep {
  /** Wait this long after the previous step (ignored for step 0, due when enrolled). */
  delayMs: number;
  /** What the step is for, shown in the console and the docs. */
  purpose: string;
  messages: readonly StepMessage[];
}

export interface SequenceDefinition {
  name: string;
  steps: readonly SequenceStep[];
}

export const SEQUENCES: Readonly<Record<string, SequenceDefinition>> = {
  tier_b: {
    name: 'tier_b',
    steps: [
      {
        delayMs: 0,
        purpose: 'Reply menu by SMS (1 specs, 2 booking) and the spec pack with a booking link by email',
        messages: [
          { channel: 'sms', templateKey: 'sms.high_intent', carriesFallback: false },
          { channel: 'email', templateKey: 'email.spec_pack', carriesFallback: true },
        ],
      },
      {
        delayMs: 24 * HOUR,
        purpose: 'Follow-up email offering a live session',
        messages: [{ channel: 'email', templateKey: 'email.outage_followup', carriesFallback: true }],
      },
    ],
  },
  tier_c: {
    name: 'tier_c',
    steps: [
      {
        delayMs: 0,
        purpose: 'Nurture email: downloadable assets and a webinar invitation',
        messages: [{ channel: 'email', templateKey: 'email.nurture', carriesFallback: false }],
      },
      {
        delayMs: 3 * DAY,
        purpose: 'Second nurture email',
        messages: [{ channel: 'email', templateKey: 'email.nurture_2', carriesFallback: false }],
      },
    ],
  },
};

/** The step key given to the outbox: part of each message's idempotency key. */
export function stepKey(sequence: string, step: number): string {
  return `seq:${sequence}:${step}`;
}

export type StepPlan = { kind: 'send'; step: SequenceStep; next: { step: number; nextAt: number } | null } | { kind: 'unknown' };

/** The playbook's sequences section as definitions (the built-in SEQUENCES are the same as its defaults). */
export function sequencesFromPlaybook(sequences: Playbook['sequences']): Record<string, SequenceDefinition> {
  return Object.fromEntries(
    Object.entries(sequences).map(([name, def]) => [
      name,
      {
        name,
        steps: def.steps.map((s) => ({
          delayMs: s.after,
          purpose: s.purpose,
          messages: s.send.map((m) => ({ channel: m.channel, templateKey: m.template, carriesFallback: m.carriesFallback })),
        })),
      },
    ]),
  );
}

/** What to do for an enrollment at `step`: send it, then the next step's index and due time, or complete. */
export function planStep(
  sequence: string,
  step: number,
  now: number,
  definitions: Readonly<Record<string, SequenceDefinition>> = SEQUENCES,
): StepPlan {
  const def = definitions[sequence];
  const current = def?.steps[step];
  if (!def || !current) return { kind: 'unknown' };
  const following = def.steps[step + 1];
  return {
    kind: 'send',
    step: current,
    next: following ? { step: step + 1, nextAt: now + following.delayMs } : null,
  };
}

/**
 * Why a lead's enrollment stops before its step is sent, or null to send: the lead booked (a
 * person takes over; a click alone re-engages but does not stop the sequence, a reply stops it
 * when it arrives), the outage resolved, or the lead opted out of every channel we have an address
 * for (`channels`: the lead's email and phone).
 */
export function stopReasonBeforeSend(input: {
  booked: boolean;
  outageActive: boolean;
  channels: ReadonlyArray<{ channel: SequenceChannel; address: string | null; suppressed: boolean }>;
}): string | null {
  if (input.booked) return 'booked';
  if (!input.outageActive) return 'resolved';
  const withAddress = input.channels.filter((c) => c.address);
  if (withAddress.length > 0 && withAddress.every((c) => c.suppressed)) return 'unsubscribed';
  return null;
}
