import { z } from 'zod';
import { defineAdapter } from '../adapter.js';
import { finishAlert, isoTime, type Normalized, nothingToNull } from '../alert.js';

/** A field real payloads may fill with "None" or "": read as absent. */
const maybe = <S extends z.ZodType>(schema: S) => z.preprocess(nothingToNull, schema.nullable().optional());

const reference = z.looseObject({
  id: maybe(z.string()),
  summary: maybe(z.string()),
  type: maybe(z.string()),
  html_url: maybe(z.string()),
});

/** `event.data`: an incident for incident.* events (other resources are accepted and ignored). */
const data = z.looseObject({
  id: maybe(z.string()).describe('The incident id: the signal fingerprint'),
  type: maybe(z.string()).describe('"incident" for the events Keepwarm reads'),
  number: maybe(z.number()),
  status: maybe(z.string()).describe('triggered, acknowledged or resolved'),
  title: maybe(z.string()),
  urgency: maybe(z.string()).describe('high or low'),
  priority: maybe(z.union([reference, z.string()])),
  service: maybe(reference),
  escalation_policy: maybe(reference),
  teams: maybe(z.array(reference)),
  html_url: maybe(z.string()),
  created_at: maybe(z.string()),
  incident_key: maybe(z.string()),
});

/** A PagerDuty V3 webhook: {event: {id, event_type, resource_type, occurred_at, agent, data}}. */
export const pagerDutyPayload = z.looseObject({
  event: z
    .looseObject({
      id: maybe(z.string()),
      event_type: z.string().min(1).describe('incident.triggered, incident.acknowledged, incident.resolved, …, pagey.ping'),
      resource_type: maybe(z.string()).describe('incident, service, pagey'),
      occurred_at: maybe(z.string()),
      data: maybe(data),
    })
    .superRefine((event, ctx) => {
      if (isIncidentEvent(event) && !event.data?.id) {
        ctx.addIssue({ code: 'custom', path: ['data', 'id'], message: 'expected the incident id of an incident event' });
      }
    }),
});

type PagerDutyEvent = z.output<typeof pagerDutyPayload>['event'];

/** incident.* events whose data is the incident itself (not a note, responder or status update). */
function isIncidentEvent(event: {
  event_type: string;
  resource_type?: string | null | undefined;
  data?: { type?: string | null | undefined } | null | undefined;
}) {
  return (
    event.event_type.startsWith('incident.') &&
    (event.resource_type ?? 'incident') === 'incident' &&
    (event.data?.type ?? 'incident') === 'incident'
  );
}

function labelsOf(event: PagerDutyEvent): Record<string, string> {
  const d = event.data;
  const labels: Record<string, string> = { event_type: event.event_type };
  if (!d) return labels;
  if (d.service?.id) labels.service_id = d.service.id;
  if (d.service?.summary) labels.service_name = d.service.summary;
  if (d.urgency) labels.urgency = d.urgency;
  const priority = typeof d.priority === 'string' ? d.priority : d.priority?.summary;
  if (priority) labels.priority = priority;
  if (d.status) labels.status = d.status;
  if (d.escalation_policy?.summary) labels.escalation_policy = d.escalation_policy.summary;
  const teams = (d.teams ?? []).map((t) => t.summary).filter((t): t is string => !!t);
  if (teams.length > 0) labels.teams = teams.join(', ');
  if (d.number != null) labels.incident_number = String(d.number);
  return labels;
}

export const pagerDutyAdapter = defineAdapter({
  source: 'pagerduty',
  title: 'PagerDuty (V3 webhooks)',
  description:
    'A PagerDuty V3 webhook subscription. incident.* events carrying the incident are read (fingerprint = incident id): a resolved incident (incident.resolved, or status resolved) resolves the signal, any other incident event keeps it firing. Other events (notes, responders, status updates, service events, pagey.ping) are accepted and ignored. Labels: service_id, service_name, urgency, priority, status, escalation_policy, teams, incident_number, event_type. Authenticate with detection.intake.pagerduty.hmacSecret = the subscription\'s signing secret (X-PagerDuty-Signature: v1=<hex HMAC-SHA256 of the raw body>, several during rotation), and/or a token sent as a custom header "Authorization: Bearer …".',
  methods: ['POST'],
  schema: pagerDutyPayload,
  signature: { header: 'x-pagerduty-signature', prefix: 'v1=' },
  normalize(payload): Normalized {
    const event = payload.event;
    const d = event.data;
    if (!isIncidentEvent(event) || !d?.id) {
      return { alerts: [], ignored: [`${event.event_type}: not an incident state change`] };
    }
    const resolved = event.event_type === 'incident.resolved' || d.status === 'resolved';
    const title = d.title?.trim() || `PagerDuty incident ${d.number ?? d.id}`;
    return {
      alerts: [
        finishAlert({
          fingerprint: d.id,
          state: resolved ? 'resolved' : 'firing',
          labels: labelsOf(event),
          summary: d.number != null ? `#${d.number} ${title}` : title,
          startsAt: isoTime(d.created_at),
          url: d.html_url ?? undefined,
          details: { event_id: event.id ?? null, occurred_at: event.occurred_at ?? null },
        }),
      ],
      ignored: [],
    };
  },
});
