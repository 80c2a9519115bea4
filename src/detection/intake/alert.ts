import { z } from 'zod';

/** The URL segment of each intake endpoint: /api/v1/hooks/<source>. Also the signals' `source`. */
export const INTAKE_SOURCES = ['alertmanager', 'grafana', 'uptime-kuma', 'pagerduty', 'statuspage', 'generic'] as const;
export type IntakeSource = (typeof INTAKE_SOURCES)[number];

export type AlertState = 'firing' | 'resolved';
export type Severity = 'down' | 'degraded';

/**
 * One alert as every adapter hands it over: what it is (fingerprint), whether it is firing,
 * flat labels to map it to a component, and a short text for people.
 */
export interface NormalizedAlert {
  /** Stable identity across notifications: a firing alert and its resolution share it. */
  fingerprint: string;
  state: AlertState;
  /** Flat string labels the mapping rules match against. */
  labels: Record<string, string>;
  /** Short human text (at most SUMMARY_MAX characters). */
  summary: string;
  /** From a `region` label: the outage is regional (partial), not global. */
  region?: string;
  /** What the source itself says about severity (beats the rule's severity). */
  severityHint?: Severity;
  /** When the problem started, ISO-8601 (only when the source says). */
  startsAt?: string;
  /** A link back to the alert in the source. */
  url?: string;
  /** Extra context kept with the signal (annotations, values), never matched. */
  details?: Record<string, unknown>;
}

/** An adapter's answer: the alerts, and why anything in the payload was left alone. */
export interface Normalized {
  alerts: NormalizedAlert[];
  ignored: string[];
}

/** Alerts in one payload: Alertmanager's own default is unlimited, but a group this big is a misconfiguration. */
export const MAX_ALERTS = 1000;
export const SUMMARY_MAX = 300;
const LABEL_VALUE_MAX = 1000;
const MAX_LABELS = 100;

/** Collapse whitespace and cut to `max` characters with an ellipsis. */
export function shorten(text: string, max = SUMMARY_MAX): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1).trimEnd()}…`;
}

/** Real senders put "None" (a Python artefact) or "" where they mean nothing. */
export function nothingToNull(value: unknown): unknown {
  return value === 'None' || value === '' ? null : value;
}

/**
 * A label map as senders really send it: strings, but numbers and booleans are taken as text and
 * nulls dropped. Values are cut to 1,000 characters; at most 100 labels.
 */
export const labelMap = z
  .record(z.string().max(200), z.union([z.string(), z.number(), z.boolean(), z.null()]))
  .refine((v) => Object.keys(v).length <= MAX_LABELS, { error: `expected at most ${MAX_LABELS} labels` })
  .transform((record) => toLabels(record));

export function toLabels(record: Record<string, string | number | boolean | null | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(record)) {
    if (value === null || value === undefined) continue;
    out[key] = String(value).slice(0, LABEL_VALUE_MAX);
  }
  return out;
}

const FNV_OFFSET = 14695981039346656037n;
const FNV_PRIME = 1099511628211n;
const MASK_64 = (1n << 64n) - 1n;

/**
 * Prometheus's label-set fingerprint (FNV-1a 64 over the sorted names and values, each followed by
 * a 0xff byte), as 16 hex digits: the same value Alertmanager sends in `fingerprint`, so an alert
 * is the same signal whether or not the sender included it.
 */
export function labelFingerprint(labels: Readonly<Record<string, string>>): string {
  let hash = FNV_OFFSET;
  const add = (bytes: Uint8Array) => {
    for (const byte of bytes) {
      hash ^= BigInt(byte);
      hash = (hash * FNV_PRIME) & MASK_64;
    }
  };
  const separator = Uint8Array.of(0xff);
  for (const name of Object.keys(labels).sort()) {
    add(Buffer.from(name, 'utf8'));
    add(separator);
    add(Buffer.from(labels[name] ?? '', 'utf8'));
    add(separator);
  }
  return hash.toString(16).padStart(16, '0');
}

/**
 * A time as ISO-8601, or undefined when absent, unreadable or Go's zero time
 * ("0001-01-01T00:00:00Z", which Alertmanager sends for "not ended").
 */
export function isoTime(text: string | null | undefined): string | undefined {
  if (!text) return undefined;
  const ms = Date.parse(text);
  if (!Number.isFinite(ms) || new Date(ms).getUTCFullYear() <= 1) return undefined;
  return new Date(ms).toISOString();
}

/** The common finishing touches: region from the `region` label, a short summary, no undefined fields. */
export function finishAlert(alert: {
  fingerprint: string;
  state: AlertState;
  labels: Record<string, string>;
  summary: string;
  region?: string | undefined;
  severityHint?: Severity | undefined;
  startsAt?: string | undefined;
  url?: string | undefined;
  details?: Record<string, unknown> | undefined;
}): NormalizedAlert {
  const region = alert.region?.trim() || alert.labels.region?.trim() || undefined;
  const url = alert.url?.trim() || undefined;
  const details = alert.details && Object.keys(alert.details).length > 0 ? alert.details : undefined;
  return {
    fingerprint: alert.fingerprint,
    state: alert.state,
    labels: alert.labels,
    summary: shorten(alert.summary) || alert.fingerprint,
    ...(region && { region: region.slice(0, 100) }),
    ...(alert.severityHint && { severityHint: alert.severityHint }),
    ...(alert.startsAt && { startsAt: alert.startsAt }),
    ...(url && { url }),
    ...(details && { details }),
  };
}
