import { z } from 'zod';
import { defineAdapter } from '../adapter.js';
import { MAX_ALERTS, type Normalized } from '../alert.js';
import { alertmanagerAlert, normalizeAlertmanagerAlerts } from './alertmanager.js';

/** A Grafana-managed alert: Alertmanager's shape plus links and the query values. */
const grafanaAlert = alertmanagerAlert.extend({
  silenceURL: z.string().nullable().optional(),
  dashboardURL: z.string().nullable().optional(),
  panelURL: z.string().nullable().optional(),
  values: z.record(z.string(), z.unknown()).nullable().optional().describe('Query and expression values by refId'),
});

/** The Grafana alerting webhook contact point (unified alerting, Grafana 9 and later). */
export const grafanaPayload = z.looseObject({
  receiver: z.string().nullable().optional(),
  status: z.enum(['firing', 'resolved']).optional(),
  orgId: z.number().optional(),
  groupKey: z.string().nullable().optional(),
  externalURL: z.string().nullable().optional(),
  version: z.string().optional(),
  truncatedAlerts: z.number().int().min(0).optional(),
  title: z.string().nullable().optional(),
  state: z.string().nullable().optional().describe('alerting or ok'),
  message: z.string().nullable().optional(),
  alerts: z.array(grafanaAlert).max(MAX_ALERTS).describe('Every alert of the notification, each firing or resolved'),
});

export const grafanaAdapter = defineAdapter({
  source: 'grafana',
  title: 'Grafana alerting',
  description:
    "A Grafana webhook contact point (POST or PUT). Each alert becomes a signal identified by its `fingerprint` and mapped by its labels; the query values are kept with the signal. Authenticate with the contact point's Authorization header (scheme Bearer, credentials detection.intake.grafana.token).",
  methods: ['POST', 'PUT'],
  schema: grafanaPayload,
  normalize(payload): Normalized {
    const alerts = normalizeAlertmanagerAlerts(payload.alerts, (a) => ({
      url: a.panelURL || a.dashboardURL || a.generatorURL || undefined,
      details: a.values ? { values: a.values } : {},
    }));
    return { alerts, ignored: [] };
  },
});
