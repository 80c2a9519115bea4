import { z } from 'zod';
import { COMPONENT_STATUS_LABELS, type ComponentStatus } from '../../../incidents/incident.js';
import { defineAdapter } from '../adapter.js';
import { type AlertState, finishAlert, isoTime, type Normalized, type NormalizedAlert, type Severity } from '../alert.js';

const componentStatus = z.enum(['operational', 'degraded_performance', 'partial_outage', 'major_outage', 'under_maintenance']);

const affected = z.looseObject({
  id: z.string().nullable().optional(),
  name: z.string().nullable().optional(),
  status: z.string().nullable().optional(),
});

/**
 * An Atlassian Statuspage webhook notification, as an upstream provider's status page (your CDN's,
 * say) sends it to its webhook subscribers: a component update or an incident.
 */
export const statuspagePayload = z
  .looseObject({
    meta: z
      .looseObject({ unsubscribe: z.string().nullable().optional(), documentation: z.string().nullable().optional() })
      .nullable()
      .optional(),
    page: z
      .looseObject({
        id: z.string().min(1).describe('The upstream page id'),
        status_indicator: z.string().nullable().optional(),
        status_description: z.string().nullable().optional(),
      })
      .describe('The upstream page'),
    component_update: z
      .looseObject({
        id: z.string().nullable().optional(),
        component_id: z.string().nullable().optional(),
        created_at: z.string().nullable().optional(),
        old_status: z.string().nullable().optional(),
        new_status: componentStatus.describe('The component status after the change'),
      })
      .nullable()
      .optional(),
    component: z
      .looseObject({
        id: z.string().min(1),
        name: z.string().nullable().optional(),
        status: z.string().nullable().optional(),
        created_at: z.string().nullable().optional(),
      })
      .nullable()
      .optional(),
    incident: z
      .looseObject({
        id: z.string().min(1).describe('The upstream incident id: the signal fingerprint'),
        name: z.string().nullable().optional(),
        status: z
          .string()
          .min(1)
          .describe('investigating, identified, monitoring, resolved, postmortem (or a maintenance status)'),
        impact: z.string().nullable().optional().describe('none, minor, major, critical (older pages: high), maintenance'),
        shortlink: z.string().nullable().optional(),
        created_at: z.string().nullable().optional(),
        started_at: z.string().nullable().optional(),
        resolved_at: z.string().nullable().optional(),
        incident_updates: z
          .array(z.looseObject({ body: z.string().nullable().optional(), status: z.string().nullable().optional() }))
          .nullable()
          .optional(),
        components: z.array(affected).nullable().optional().describe('Affected components, when the page includes them'),
      })
      .nullable()
      .optional(),
  })
  .superRefine((value, ctx) => {
    if (!value.component_update && !value.incident) {
      ctx.addIssue({ code: 'custom', path: ['incident'], message: 'expected an incident or a component_update' });
    }
    if (value.component_update && !value.component?.id && !value.component_update.component_id) {
      ctx.addIssue({ code: 'custom', path: ['component', 'id'], message: 'expected the id of the updated component' });
    }
  });

type StatuspagePayload = z.output<typeof statuspagePayload>;

/** Incident statuses of scheduled maintenance: planned, not an outage. */
const MAINTENANCE_STATUSES = new Set(['scheduled', 'in_progress', 'verifying', 'completed']);
const RESOLVED_STATUSES = new Set(['resolved', 'postmortem']);
/** "high" is what the older Statuspage documentation example (and some pages) send for major. */
const DOWN_IMPACTS = new Set(['major', 'critical', 'high']);

/** The upstream page's host (from the unsubscribe link): "www.cloudflarestatus.com". */
function pageHost(payload: StatuspagePayload): string | undefined {
  const link = payload.meta?.unsubscribe;
  if (!link) return undefined;
  try {
    return new URL(link).hostname || undefined;
  } catch {
    return undefined;
  }
}

function pageLabels(payload: StatuspagePayload, kind: string): Record<string, string> {
  const host = pageHost(payload);
  return { kind, page_id: payload.page.id, ...(host && { page_host: host }) };
}

function componentAlert(payload: StatuspagePayload): NormalizedAlert | null {
  const update = payload.component_update;
  if (!update) return null;
  const id = payload.component?.id ?? update.component_id;
  if (!id) return null;
  const status: ComponentStatus = update.new_status;
  const name = payload.component?.name?.trim() || `Component ${id}`;
  const firing = status === 'major_outage' || status === 'partial_outage' || status === 'degraded_performance';
  const labels: Record<string, string> = {
    ...pageLabels(payload, 'component'),
    component_id: id,
    component_name: name,
    component_status: status,
    ...(update.old_status && { old_status: update.old_status }),
  };
  return finishAlert({
    fingerprint: `component:${id}`,
    state: firing ? 'firing' : 'resolved',
    labels,
    summary: `${name}: ${COMPONENT_STATUS_LABELS[status]}${update.old_status ? ` (was ${update.old_status.replaceAll('_', ' ')})` : ''}`,
    severityHint: firing ? (status === 'degraded_performance' ? 'degraded' : 'down') : undefined,
    startsAt: firing ? isoTime(update.created_at) : undefined,
  });
}

function incidentAlert(payload: StatuspagePayload, ignored: string[]): NormalizedAlert | null {
  const incident = payload.incident;
  if (!incident) return null;
  const status = incident.status.trim().toLowerCase();
  const impact = incident.impact?.trim().toLowerCase() || undefined;
  if (MAINTENANCE_STATUSES.has(status) || impact === 'maintenance') {
    ignored.push(`incident ${incident.id}: scheduled maintenance (${status})`);
    return null;
  }
  const resolved = RESOLVED_STATUSES.has(status);
  const names = (incident.components ?? []).map((c) => c.name?.trim()).filter((n): n is string => !!n);
  const labels: Record<string, string> = {
    ...pageLabels(payload, 'incident'),
    incident_id: incident.id,
    ...(incident.name && { incident_name: incident.name }),
    incident_status: status,
    ...(impact && { impact }),
    ...(names.length > 0 && { components: names.join(', ') }),
  };
  const latest = incident.incident_updates?.[0]?.body?.trim();
  const name = incident.name?.trim() || `Incident ${incident.id}`;
  const hint: Severity = impact && DOWN_IMPACTS.has(impact) ? 'down' : 'degraded';
  const state: AlertState = resolved ? 'resolved' : 'firing';
  return finishAlert({
    fingerprint: `incident:${incident.id}`,
    state,
    labels,
    summary: `${name} (${status}${impact ? `, impact ${impact}` : ''})${latest ? `: ${latest}` : ''}`,
    severityHint: resolved ? undefined : hint,
    startsAt: resolved ? undefined : isoTime(incident.started_at ?? incident.created_at),
    url: incident.shortlink ?? undefined,
  });
}

export const statuspageAdapter = defineAdapter({
  source: 'statuspage',
  title: 'Atlassian Statuspage (upstream providers)',
  description:
    "Webhook notifications from an upstream provider's Statuspage (your CDN's status page): subscribe this URL with ?token=<detection.intake.statuspage.token> (Statuspage cannot send headers; Authorization: Bearer works too). component_update: major_outage and partial_outage fire as down, degraded_performance as degraded, operational and under_maintenance resolve (fingerprint component:<id>). Incidents: unresolved fires (down when impact is major or critical, else degraded), resolved and postmortem resolve (fingerprint incident:<id>); scheduled maintenance is ignored. Labels: kind, page_id, page_host, component_id, component_name, component_status, old_status, incident_id, incident_name, incident_status, impact, components.",
  methods: ['POST'],
  schema: statuspagePayload,
  tokenInQuery: true,
  normalize(payload): Normalized {
    const ignored: string[] = [];
    const alerts = [componentAlert(payload), incidentAlert(payload, ignored)].filter((a): a is NormalizedAlert => a !== null);
    return { alerts, ignored };
  },
});
