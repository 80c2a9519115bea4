import { z } from 'zod';
import { defineAdapter } from '../adapter.js';
import { finishAlert, isoTime, labelFingerprint, labelMap, MAX_ALERTS, type Normalized, type NormalizedAlert } from '../alert.js';

/** One alert of an Alertmanager webhook (webhook_config, payload version 4); Grafana sends the same shape. */
export const alertmanagerAlert = z.looseObject({
  status: z.enum(['firing', 'resolved']).describe('firing or resolved'),
  labels: labelMap.describe('Identifying labels; the mapping rules match these'),
  annotations: labelMap.optional().describe('summary, description, runbook_url…'),
  startsAt: z.string().nullable().optional(),
  endsAt: z.string().nullable().optional().describe('Go zero time "0001-01-01T00:00:00Z" while firing'),
  generatorURL: z.string().nullable().optional(),
  fingerprint: z.string().max(200).nullable().optional().describe('Hash of the labels; computed the same way when absent'),
});

export const alertmanagerPayload = z.looseObject({
  version: z.string().optional().describe('"4" (the exec notifier writes "1"; either is read)'),
  status: z.enum(['firing', 'resolved']).optional().describe('The group: firing while any alert fires'),
  receiver: z.string().nullable().optional(),
  groupKey: z.string().nullable().optional(),
  groupLabels: labelMap.optional(),
  commonLabels: labelMap.optional(),
  commonAnnotations: labelMap.optional(),
  externalURL: z.string().nullable().optional(),
  truncatedAlerts: z.number().int().min(0).optional(),
  alerts: z.array(alertmanagerAlert).max(MAX_ALERTS).describe('Every alert of the group, each firing or resolved'),
});

type AlertmanagerAlert = z.output<typeof alertmanagerAlert>;

/**
 * The summary people read: "alertname: summary" from the annotations (or a `summary` label, as some
 * setups put it there), else the description, else the alert name, else the labels.
 */
function summaryOf(alert: AlertmanagerAlert): string {
  const name = alert.labels.alertname?.trim();
  const text = (alert.annotations?.summary ?? alert.labels.summary ?? alert.annotations?.description ?? '').trim();
  if (name && text && !text.startsWith(name)) return `${name}: ${text}`;
  if (text || name) return text || name || '';
  // Neither a name nor a text: the labels themselves.
  return (
    Object.entries(alert.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(', ') || 'Alert'
  );
}

/** Alerts of an Alertmanager-shaped payload (Alertmanager itself, Grafana). */
export function normalizeAlertmanagerAlerts<A extends AlertmanagerAlert>(
  alerts: readonly A[],
  extra: (alert: A) => { url?: string | undefined; details?: Record<string, unknown> } = () => ({}),
): NormalizedAlert[] {
  return alerts.map((alert) => {
    const more = extra(alert);
    return finishAlert({
      fingerprint: alert.fingerprint?.trim() || labelFingerprint(alert.labels),
      state: alert.status,
      labels: alert.labels,
      summary: summaryOf(alert),
      startsAt: isoTime(alert.startsAt),
      url: more.url ?? alert.generatorURL ?? undefined,
      details: {
        ...(alert.annotations && Object.keys(alert.annotations).length > 0 && { annotations: alert.annotations }),
        ...more.details,
      },
    });
  });
}

export const alertmanagerAdapter = defineAdapter({
  source: 'alertmanager',
  title: 'Prometheus Alertmanager',
  description:
    'An Alertmanager webhook_config receiver (payload version 4; `send_resolved: true` so resolutions arrive). Each alert becomes a signal identified by its `fingerprint` (the hash of its labels; computed the same way when absent) and mapped to a component by its labels. Authenticate with `http_config.authorization.credentials` set to detection.intake.alertmanager.token (sent as `Authorization: Bearer …`).',
  methods: ['POST'],
  schema: alertmanagerPayload,
  normalize(payload): Normalized {
    return { alerts: normalizeAlertmanagerAlerts(payload.alerts), ignored: [] };
  },
});
