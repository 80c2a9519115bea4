import { z } from 'zod';

/** Intent signals from the showroom SDK's event buffer. */
export const EVENT_TYPES = ['product_viewed', 'cart_updated', 'demo_booked', 'form_submitted'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const MAX_EVENTS_PER_BATCH = 500;

/**
 * One event, loosely typed so a bad event is reported by its index without refusing the batch
 * (the SDK retries the whole batch; the good events in it must not be lost).
 */
export const eventSchema = z.strictObject({
  messageId: z.string().trim().min(1).max(200),
  type: z.enum(EVENT_TYPES),
  leadId: z.string().trim().min(1).max(100).optional(),
  email: z.string().trim().max(254).optional(),
  anonymousId: z.string().trim().min(1).max(200).optional(),
  product: z.string().trim().max(500).optional(),
  /** Whole dollars (cart value for cart_updated). */
  value: z.number().min(0).max(1e12).optional(),
  at: z.iso.datetime({ offset: true }).optional(),
  properties: z.record(z.string(), z.unknown()).optional(),
});
export type IntentEvent = z.output<typeof eventSchema>;

/** When the sender sent the batch (its own clock): lets the server correct a skewed device clock. */
const sentAtSchema = z.iso.datetime({ offset: true }).optional();

export const eventBatchSchema = z.strictObject({
  events: z.array(z.unknown()).min(1).max(MAX_EVENTS_PER_BATCH),
  sentAt: sentAtSchema,
});

/** The browser path: smaller batches (sendBeacon and keepalive fetches carry at most 64 KiB). */
export const MAX_BROWSER_EVENTS = 100;
export const MAX_BROWSER_BATCH_BYTES = 64 * 1024;

export const browserBatchSchema = z.strictObject({
  events: z.array(z.unknown()).min(1).max(MAX_BROWSER_EVENTS),
  sentAt: sentAtSchema,
});

/** Below this, the gap between the sender's clock and ours is network delay, not a wrong clock. */
export const SKEW_TOLERANCE_MS = 5_000;

/**
 * How far the sender's clock is behind ours (positive) or ahead (negative), from the batch's
 * sentAt; 0 when unknown or within the tolerance.
 */
export function clockSkew(sentAt: string | undefined, receivedAt: number): number {
  if (sentAt === undefined) return 0;
  const sent = Date.parse(sentAt);
  if (Number.isNaN(sent)) return 0;
  const skew = receivedAt - sent;
  return Math.abs(skew) < SKEW_TOLERANCE_MS ? 0 : skew;
}

/**
 * An event's time: given (shifted by the sender's clock skew), unless missing or in the future
 * (then the time of receipt).
 */
export function eventTime(event: Pick<IntentEvent, 'at'>, now: number, skewMs = 0): number {
  if (event.at === undefined) return now;
  const at = Date.parse(event.at) + skewMs;
  return Math.min(at, now);
}

/** An incident's window for attribution: started_at until resolved_at (open: no end yet). */
export interface IncidentWindow {
  id: string;
  drill: boolean;
  start: number;
  end: number | null;
}

/**
 * The incident an event at `at` is attributed to: among the windows covering it, a real incident
 * before a drill, then the one that started last (the narrower window); null when none covers it.
 */
export function attributeIncident(windows: readonly IncidentWindow[], at: number): IncidentWindow | null {
  let best: IncidentWindow | null = null;
  for (const w of windows) {
    if (at < w.start || (w.end !== null && at > w.end)) continue;
    if (
      best === null ||
      (best.drill && !w.drill) ||
      (best.drill === w.drill && (w.start > best.start || (w.start === best.start && w.id > best.id)))
    )
      best = w;
  }
  return best;
}

/** Where an event came from, as stored: an API token, or a site's public key. */
export function sourceOfSite(site: string | null): string {
  return site === null ? 'api' : `site:${site}`;
}

export interface SiteKey {
  name: string;
  key: string;
  origins: readonly string[];
}

/** scheme://host[:port] in lower case without a trailing slash, or null when it is not one. */
export function normaliseOrigin(origin: string): string | null {
  try {
    const url = new URL(origin);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    return url.origin;
  } catch {
    return null;
  }
}

export type SiteCheck =
  | { ok: true; site: SiteKey }
  | { ok: false; status: 401 | 403; code: 'site_key_missing' | 'unknown_site_key' | 'origin_not_allowed'; message: string };

/**
 * Whether a browser batch may be taken: a known public site key, and (when the browser says where
 * the page is from) an Origin among the site's. A request without Origin (a server, curl) passes:
 * Origin is no authentication; the key, the limits and the size caps are what hold.
 */
export function checkSite(sites: readonly SiteKey[], key: string | undefined, origin: string | undefined): SiteCheck {
  if (key === undefined || key === '')
    return {
      ok: false,
      status: 401,
      code: 'site_key_missing',
      message: 'The query parameter "key" must be the site\'s public key (crm.events.sites[].key).',
    };
  const site = sites.find((s) => s.key === key);
  if (!site)
    return { ok: false, status: 403, code: 'unknown_site_key', message: 'That site key is unknown (crm.events.sites[].key).' };
  if (origin !== undefined) {
    const normal = normaliseOrigin(origin);
    if (normal === null || !site.origins.some((o) => normaliseOrigin(o) === normal))
      return {
        ok: false,
        status: 403,
        code: 'origin_not_allowed',
        message: `Events from ${JSON.stringify(origin)} are not accepted with this key: add the origin to crm.events.sites[].origins of site "${site.name}".`,
      };
  }
  return { ok: true, site };
}

/** properties.scheduled_at of a demo_booked event, when it is a valid time. */
export function scheduledAt(event: IntentEvent): number | null {
  const raw = event.properties?.scheduled_at;
  if (typeof raw === 'string') {
    const ms = Date.parse(raw);
    return Number.isNaN(ms) ? null : ms;
  }
  if (typeof raw === 'number' && Number.isFinite(raw) && raw > 0) return raw;
  return null;
}
