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

export const eventBatchSchema = z.strictObject({
  events: z.array(z.unknown()).min(1).max(MAX_EVENTS_PER_BATCH),
});

/** An event's time: given, unless it claims to be from the future (clock skew) or missing. */
export function eventTime(event: Pick<IntentEvent, 'at'>, now: number): number {
  if (event.at === undefined) return now;
  const at = Date.parse(event.at);
  return Math.min(at, now);
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
