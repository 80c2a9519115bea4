/** Pure rules of messaging: channels, message states, consent and quiet hours. */

/** Channels a template can be written for. */
export const TEMPLATE_CHANNELS = ['email', 'sms', 'status', 'banner', 'call', 'chat', 'social', 'slack', 'webhook'] as const;
export type TemplateChannel = (typeof TEMPLATE_CHANNELS)[number];

/** Channels the outbox delivers through providers (the others are rendered where they are shown). */
export const OUTBOUND_CHANNELS = ['email', 'sms', 'slack', 'social', 'webhook'] as const;
export type OutboundChannel = (typeof OUTBOUND_CHANNELS)[number];

export function isOutbound(channel: string): channel is OutboundChannel {
  return (OUTBOUND_CHANNELS as readonly string[]).includes(channel);
}

/**
 * Channels sent one message per recipient (thousands in an outage): their deliveries are bulk
 * jobs, queued behind the status page and the playbook. Slack and social posts are the public
 * acknowledgement itself and go first.
 */
export function isBulkChannel(channel: OutboundChannel): boolean {
  return channel === 'email' || channel === 'sms' || channel === 'webhook';
}

export const PURPOSES = ['transactional', 'marketing'] as const;
export type Purpose = (typeof PURPOSES)[number];

export const MESSAGE_STATUSES = ['queued', 'sending', 'sent', 'delivered', 'bounced', 'failed', 'suppressed', 'dead'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/** States a message never leaves (the outbox will not send it again). */
export const FINAL_STATUSES: ReadonlySet<MessageStatus> = new Set([
  'sent',
  'delivered',
  'bounced',
  'failed',
  'suppressed',
  'dead',
]);

const RANK: Record<MessageStatus, number> = {
  queued: 0,
  sending: 1,
  sent: 2,
  delivered: 3,
  bounced: 3,
  failed: 3,
  suppressed: 3,
  dead: 3,
};

/**
 * Whether a provider's status report may move a message from `current` to `next`. Reports arrive
 * late, twice and out of order: only forward moves count, and an outcome is never replaced.
 */
export function acceptsProviderStatus(current: MessageStatus, next: MessageStatus): boolean {
  if (current === 'suppressed' || current === 'dead') return false;
  return RANK[next] > RANK[current];
}

/** Twilio's message statuses in Keepwarm's vocabulary (null: not a state worth recording). */
export function fromTwilioStatus(status: string): MessageStatus | null {
  switch (status) {
    case 'accepted':
    case 'scheduled':
    case 'queued':
    case 'sending':
      return 'sending';
    case 'sent':
      return 'sent';
    case 'delivered':
    case 'read':
      return 'delivered';
    case 'undelivered':
      return 'bounced';
    case 'failed':
    case 'canceled':
      return 'failed';
    default:
      return null;
  }
}

export interface Consent {
  email?: boolean | undefined;
  sms?: boolean | undefined;
}

/**
 * Why a message may not be sent at all (null: it may). Transactional service notices about an
 * outage go to anyone with an address unless they opted out; marketing needs explicit consent.
 */
export function consentRefusal(input: {
  channel: OutboundChannel;
  purpose: Purpose;
  consent: Consent | undefined;
  suppressed: boolean;
}): string | null {
  if (input.suppressed) return `recipient opted out of ${input.channel}`;
  if (input.channel !== 'email' && input.channel !== 'sms') return null;
  const given = input.consent?.[input.channel];
  if (given === false) return `no ${input.channel} consent`;
  if (input.purpose === 'marketing' && given !== true) return `marketing ${input.channel} needs recorded consent`;
  return null;
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

/** Local wall-clock parts of an instant in a time zone. */
export function localParts(at: number, timeZone: string): { year: number; month: number; day: number; minutes: number } {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  }).formatToParts(new Date(at));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return { year: get('year'), month: get('month'), day: get('day'), minutes: get('hour') * 60 + get('minute') };
}

const knownZones = new Map<string, boolean>();

export function isValidTimeZone(timeZone: string): boolean {
  let valid = knownZones.get(timeZone);
  if (valid === undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone });
      valid = true;
    } catch {
      valid = false;
    }
    if (knownZones.size < 1000) knownZones.set(timeZone, valid);
  }
  return valid;
}

/**
 * Quiet hours for marketing SMS: allowed from `start` to `end` local time. Returns null when a
 * message may go now, or the first instant it may (the next local `start`), so it is deferred,
 * never dropped.
 */
export function quietHoursDeferral(at: number, timeZone: string, start: string, end: string): number | null {
  const startMin = minutesOf(start);
  const endMin = minutesOf(end);
  const local = localParts(at, timeZone).minutes;
  const allowed = startMin <= endMin ? local >= startMin && local < endMin : local >= startMin || local < endMin;
  if (allowed) return null;
  // Step forward minute by minute over at most a day: exact across DST changes and odd offsets.
  const minute = 60_000;
  let t = Math.ceil(at / minute) * minute;
  for (let i = 0; i < 24 * 60 + 1; i++, t += minute) {
    if (localParts(t, timeZone).minutes === startMin) return t;
  }
  return at + 24 * 60 * minute;
}
