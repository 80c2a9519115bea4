import { z } from 'zod';
import { retentionDays } from '../config/config.js';
import { DAY } from '../core/clock.js';

/**
 * Retention: how many days each kind of personal data is kept before the purge job removes it.
 * The pure part: the four settings, their checks (each fault named by field) and the cutoffs.
 */
export const RETENTION_KEYS = ['messageBodiesDays', 'beaconsDays', 'eventsDays', 'conversationsDays'] as const;
export type RetentionKey = (typeof RETENTION_KEYS)[number];

/** Days per kind; null keeps that data for good. */
export type Retention = Record<RetentionKey, number | null>;

/** What each setting covers, for the console, the API description and the docs. */
export const RETENTION_FIELDS: Record<RetentionKey, { label: string; covers: string }> = {
  messageBodiesDays: {
    label: 'Message bodies',
    covers:
      'Outbound messages in a final state: subject, body, recipient and name are removed; channel, purpose, template, incident, status and delivery times stay for reporting.',
  },
  beaconsDays: {
    label: 'Browser beacons',
    covers: 'Resolved beacon signals (counts per window and sample failing URLs) on the health board.',
  },
  eventsDays: {
    label: 'Intent events',
    covers: "Events posted by the showroom SDK's event buffer (views, carts, demo bookings, forms).",
  },
  conversationsDays: {
    label: 'Conversation logs',
    covers: 'SMS and chat conversations (per-address menu state) and the inbound texts received, once handled.',
  },
};

/** A whole update or part of one: absent keys stay as they are. */
export const retentionPatchSchema = z.strictObject({
  messageBodiesDays: retentionDays.optional(),
  beaconsDays: retentionDays.optional(),
  eventsDays: retentionDays.optional(),
  conversationsDays: retentionDays.optional(),
});
export type RetentionPatch = z.output<typeof retentionPatchSchema>;

export const retentionSchema = z.strictObject({
  messageBodiesDays: retentionDays,
  beaconsDays: retentionDays,
  eventsDays: retentionDays,
  conversationsDays: retentionDays,
});

export function applyPatch(current: Retention, patch: RetentionPatch): Retention {
  const next = { ...current };
  for (const key of RETENTION_KEYS) {
    const value = patch[key];
    if (value !== undefined) next[key] = value;
  }
  return next;
}

export interface FieldError {
  field: string;
  message: string;
}

/** The console form: every field present, an empty one keeps the data; every fault named. */
export function parseRetentionForm(
  form: Record<string, string | undefined>,
): { ok: true; value: Retention } | { ok: false; errors: FieldError[] } {
  const raw: Record<string, unknown> = {};
  for (const key of RETENTION_KEYS) raw[key] = form[key] ?? '';
  const parsed = retentionSchema.safeParse(raw);
  if (parsed.success) return { ok: true, value: parsed.data };
  return {
    ok: false,
    errors: parsed.error.issues.map((i) => ({ field: i.path.map(String).join('.'), message: i.message })),
  };
}

/** The moment before which each kind of data goes (null: kept). */
export function cutoffs(retention: Retention, now: number): Record<RetentionKey, number | null> {
  const out = {} as Record<RetentionKey, number | null>;
  for (const key of RETENTION_KEYS) {
    const days = retention[key];
    out[key] = days === null ? null : now - days * DAY;
  }
  return out;
}

/** Stored settings, read back leniently: a value that no longer parses falls back to `fallback`. */
export function decodeRetention(text: string | undefined, fallback: Retention): Retention | null {
  if (text === undefined) return null;
  try {
    const value = JSON.parse(text) as unknown;
    const parsed = retentionSchema.safeParse(value);
    return parsed.success ? parsed.data : fallback;
  } catch {
    return fallback;
  }
}

export function describeDays(days: number | null): string {
  return days === null ? 'kept' : `${days} day${days === 1 ? '' : 's'}`;
}
