import { createHash } from 'node:crypto';

/**
 * Pure rules of the CRM connectors: what a tag change looks like on the wire (the outbound
 * webhook and HubSpot), how changes are cut into batches, and how an HTTP answer is classified.
 */

export const CRM_TAGS_EVENT_TYPE = 'keepwarm.crm.tags';
/** Leads per webhook request. */
export const WEBHOOK_BATCH_SIZE = 500;
/** HubSpot's batch endpoints take at most 100 inputs. */
export const HUBSPOT_BATCH_SIZE = 100;
/** Emails per HubSpot search (the IN operator takes at most 100 values). */
export const HUBSPOT_SEARCH_SIZE = 100;
/** The contact properties Keepwarm writes in HubSpot (custom properties the team creates once). */
export const HUBSPOT_OUTAGE_PROPERTIES = ['outage_status', 'outage_channel', 'outage_priority', 'fallback_sent'] as const;

/** A lead as the connectors read it (the outage fields and what identifies it in the CRM). */
export interface SyncLead {
  id: string;
  externalId: string | null;
  email: string | null;
  outageStatus: string | null;
  outageChannel: string | null;
  outagePriority: string | null;
  fallbackSent: boolean;
  tier: string | null;
  tierRule: string | null;
  reEngagedAt: number | null;
  /** Keyset position: leads are read in (updated_at, id) order after the cursor. */
  updatedAt: number;
}

/** Where a connector stopped reading an incident's leads: the last lead sent, in (updated_at, id) order. */
export interface SyncCursor {
  updatedAt: number;
  id: string;
}

export const CURSOR_START: SyncCursor = { updatedAt: -1, id: '' };

export function encodeCursor(cursor: SyncCursor): string {
  return `${cursor.updatedAt}:${cursor.id}`;
}

export function decodeCursor(text: string | undefined): SyncCursor {
  if (!text) return CURSOR_START;
  const colon = text.indexOf(':');
  const updatedAt = Number(text.slice(0, colon));
  if (colon < 0 || !Number.isSafeInteger(updatedAt)) return CURSOR_START;
  return { updatedAt, id: text.slice(colon + 1) };
}

export function cursorAfter(leads: readonly SyncLead[], fallback: SyncCursor): SyncCursor {
  const last = leads[leads.length - 1];
  return last ? { updatedAt: last.updatedAt, id: last.id } : fallback;
}

export interface IncidentRef {
  id: string;
  name: string;
  status: string;
  /** CDN | API | Auth | Third-party, from the incident's first affected component; null when none. */
  channel: string | null;
}

export interface CrmTagsPayload {
  type: typeof CRM_TAGS_EVENT_TYPE;
  incident: IncidentRef;
  leads: Array<{
    id: string;
    external_id: string | null;
    email: string | null;
    outage_status: string | null;
    outage_channel: string | null;
    outage_priority: string | null;
    fallback_sent: boolean;
    tier: string | null;
    tier_rule: string | null;
    re_engaged_at: string | null;
  }>;
}

export function buildTagsPayload(incident: IncidentRef, leads: readonly SyncLead[]): CrmTagsPayload {
  return {
    type: CRM_TAGS_EVENT_TYPE,
    incident,
    leads: leads.map((l) => ({
      id: l.id,
      external_id: l.externalId,
      email: l.email,
      outage_status: l.outageStatus,
      outage_channel: l.outageChannel,
      outage_priority: l.outagePriority,
      fallback_sent: l.fallbackSent,
      tier: l.tier,
      tier_rule: l.tierRule,
      re_engaged_at: l.reEngagedAt === null ? null : new Date(l.reEngagedAt).toISOString(),
    })),
  };
}

/**
 * The webhook-id of one batch: the same batch (same incident, same cursor range) always gets the
 * same id, so a retry after a timeout or a 5xx lets the receiver drop the duplicate.
 */
export function batchWebhookId(incidentId: string, from: SyncCursor, to: SyncCursor): string {
  const digest = createHash('sha256')
    .update(`crm.tags\n${incidentId}\n${encodeCursor(from)}\n${encodeCursor(to)}`, 'utf8')
    .digest('hex');
  return `msg_${digest.slice(0, 32)}`;
}

/** HubSpot property values are strings; booleans are "true" / "false". Nulls clear the property. */
export function hubspotOutageProperties(lead: SyncLead): Record<(typeof HUBSPOT_OUTAGE_PROPERTIES)[number], string> {
  return {
    outage_status: lead.outageStatus ?? '',
    outage_channel: lead.outageChannel ?? '',
    outage_priority: lead.outagePriority ?? '',
    fallback_sent: lead.fallbackSent ? 'true' : 'false',
  };
}

export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** What to do after an HTTP answer from a CRM endpoint. */
export type HttpVerdict =
  | { kind: 'ok' }
  | { kind: 'rate_limited'; retryAfterMs: number }
  | { kind: 'transient'; retryAfterMs: number | undefined }
  | { kind: 'permanent' };

/**
 * 2xx ok; 429 rate limited (Retry-After, default 10 s); 408 and 5xx transient; any other answer
 * (3xx are not followed, 400, 401, 403, 404, 413, …) is permanent: retrying cannot fix it.
 */
export function classifyStatus(status: number, retryAfterMs: number | undefined): HttpVerdict {
  if (status >= 200 && status < 300) return { kind: 'ok' };
  if (status === 429) return { kind: 'rate_limited', retryAfterMs: retryAfterMs ?? 10_000 };
  if (status === 408 || status >= 500) return { kind: 'transient', retryAfterMs };
  return { kind: 'permanent' };
}

/**
 * HubSpot's rate-limit headers on a successful answer: when the current window has no request
 * left (X-HubSpot-RateLimit-Remaining: 0), wait for the window (X-HubSpot-RateLimit-Interval-
 * Milliseconds) before the next request; when the daily budget is spent, wait an hour. Returns the
 * pause in milliseconds, 0 when the next request may go at once.
 */
export function hubspotPauseMs(headers: { get(name: string): string | null }): number {
  const daily = headers.get('x-hubspot-ratelimit-daily-remaining');
  if (daily !== null && daily.trim() !== '' && Number(daily) <= 0) return 3_600_000;
  const remaining = headers.get('x-hubspot-ratelimit-remaining');
  if (remaining === null || remaining.trim() === '' || Number(remaining) > 0) return 0;
  const interval = Number(headers.get('x-hubspot-ratelimit-interval-milliseconds'));
  return Number.isFinite(interval) && interval > 0 ? interval : 10_000;
}

/** A HubSpot contact as the pull turns it into an import row (the field names of P1's lead rows). */
export interface PulledContact {
  external_id: string;
  email: string | null;
  first_name: string | null;
  last_name: string | null;
  phone: string | null;
  company: string | null;
  title: string | null;
  lifecycle: string | null;
}

/** The HubSpot contact properties the pull asks for. */
export const HUBSPOT_PULL_PROPERTIES = [
  'email',
  'firstname',
  'lastname',
  'phone',
  'company',
  'jobtitle',
  'lifecyclestage',
] as const;

const LIFECYCLE: Record<string, string> = {
  subscriber: 'lead',
  lead: 'lead',
  marketingqualifiedlead: 'mql',
  salesqualifiedlead: 'sql',
  opportunity: 'opportunity',
  customer: 'customer',
  evangelist: 'customer',
};

function text(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const trimmed = value.trim();
  return trimmed === '' ? null : trimmed;
}

export function contactToRow(contact: { id: string; properties: Record<string, unknown> }): PulledContact {
  const p = contact.properties;
  const stage = text(p.lifecyclestage)?.toLowerCase();
  return {
    external_id: contact.id,
    email: text(p.email)?.toLowerCase() ?? null,
    first_name: text(p.firstname),
    last_name: text(p.lastname),
    phone: text(p.phone),
    company: text(p.company),
    title: text(p.jobtitle),
    lifecycle: stage ? (LIFECYCLE[stage] ?? null) : null,
  };
}
