import { z } from 'zod';
import { defineAdapter } from '../adapter.js';
import { finishAlert, isoTime, labelFingerprint, labelMap, MAX_ALERTS, type Normalized } from '../alert.js';

const fields = {
  fingerprint: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .describe('Stable id of the problem; the firing and resolved notifications share it. Default: a hash of the labels'),
  status: z.enum(['firing', 'resolved']).describe('firing or resolved'),
  summary: z.string().trim().max(2000).optional().describe('Short text for people'),
  labels: labelMap.optional().describe('Flat labels the mapping rules match'),
  component: z.string().trim().min(1).max(200).optional().describe('Component name or id, used when no rule matches'),
  region: z.string().trim().min(1).max(100).optional().describe('The region affected; absent: global'),
  severity: z.enum(['down', 'degraded']).optional().describe("Default: the matching rule's severity, else down"),
  starts_at: z.string().optional().describe('ISO-8601'),
  url: z.string().max(2000).optional(),
};

type Identity = { fingerprint?: string | undefined; labels?: Record<string, string> | undefined; component?: string | undefined };

function requireIdentity(alert: Identity, ctx: z.RefinementCtx): void {
  if (!alert.fingerprint && Object.keys(alert.labels ?? {}).length === 0 && !alert.component) {
    ctx.addIssue({ code: 'custom', path: ['fingerprint'], message: 'expected a fingerprint (or labels to derive one from)' });
  }
}

const genericAlert = z.looseObject(fields).superRefine(requireIdentity);

/** One alert as the object itself, or several as {alerts: [...]}. */
export const genericPayload = z
  .looseObject({
    ...fields,
    status: fields.status.optional(),
    alerts: z
      .array(genericAlert)
      .min(1)
      .max(MAX_ALERTS)
      .optional()
      .describe('Several alerts at once (instead of the fields above)'),
  })
  .superRefine((value, ctx) => {
    if (value.alerts) return;
    if (!value.status)
      ctx.addIssue({ code: 'custom', path: ['status'], message: 'expected "firing" or "resolved" (or an alerts array)' });
    requireIdentity(value, ctx);
  });

type GenericAlert = z.output<typeof genericAlert>;

function normalizeOne(alert: GenericAlert) {
  const labels = { ...alert.labels };
  if (alert.component && labels.keepwarm_component === undefined) labels.keepwarm_component = alert.component;
  const fingerprint = alert.fingerprint ?? labelFingerprint(labels);
  return finishAlert({
    fingerprint,
    state: alert.status,
    labels,
    summary: alert.summary || labels.summary || labels.alertname || fingerprint,
    region: alert.region,
    severityHint: alert.severity,
    startsAt: isoTime(alert.starts_at),
    url: alert.url,
  });
}

export const genericAdapter = defineAdapter({
  source: 'generic',
  title: 'Generic JSON',
  description:
    'Any monitoring tool that can POST JSON: one alert {fingerprint?, status: firing|resolved, summary?, labels?, component?, region?, severity?: down|degraded, starts_at?, url?} or {alerts: [...]}. Without a fingerprint the labels are hashed (so the resolution must carry the same labels). `component` names the component directly (used when no rule matches). Authenticate with Authorization: Bearer <detection.intake.generic.token>, and/or sign with detection.intake.generic.hmacSecret: X-Keepwarm-Signature: sha256=<hex HMAC-SHA256 of the raw body>.',
  methods: ['POST'],
  schema: genericPayload,
  signature: { header: 'x-keepwarm-signature', prefix: 'sha256=' },
  normalize(payload): Normalized {
    if (payload.alerts) return { alerts: payload.alerts.map(normalizeOne), ignored: [] };
    return { alerts: [normalizeOne({ ...payload, status: payload.status ?? 'firing' })], ignored: [] };
  },
});
