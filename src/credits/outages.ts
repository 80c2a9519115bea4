/**
 * Per-component outage spans, rebuilt from incident timelines (pure). For each incident and
 * component the status changes are, in order:
 *
 * - `incident.declared`: the components named at declaration, from the incident's start
 *   (started_at: when the outage began, which detection may put before the declaration);
 * - `update.published` (affected_components) and `detection.signal` / `detection.recovered`
 *   (components): the component's new status in this incident, from the event's time;
 * - a component linked to the incident that no event mentions: its stored status from when it
 *   was added.
 *
 * Everything ends when the incident is resolved (still open: at `now`). Drills never count.
 * Operational and under_maintenance are not outages (planned maintenance is excluded).
 */
import type { ComponentStatus, Scope } from '../incidents/incident.js';
import type { OutageSpan, OutageStatus } from './credits.js';

export interface IncidentFacts {
  id: string;
  startedAt: number;
  resolvedAt: number | null;
  drill: boolean;
  scope: Scope;
}

export interface EventFacts {
  incidentId: string;
  at: number;
  type: string;
  data: Record<string, unknown>;
}

export interface LinkFacts {
  incidentId: string;
  componentId: string;
  status: ComponentStatus;
  addedAt: number;
}

function asOutage(status: unknown): OutageStatus | null {
  return status === 'degraded_performance' || status === 'partial_outage' || status === 'major_outage' ? status : null;
}

function isStatus(value: unknown): value is ComponentStatus {
  return (
    value === 'operational' ||
    value === 'under_maintenance' ||
    value === 'degraded_performance' ||
    value === 'partial_outage' ||
    value === 'major_outage'
  );
}

/** The (component, status) pairs an event records, whatever its type. */
function changesOf(event: EventFacts): Array<{ id: string; status: ComponentStatus }> {
  const list =
    event.type === 'incident.declared'
      ? event.data.components
      : event.type === 'update.published'
        ? event.data.affected_components
        : event.type === 'detection.signal' || event.type === 'detection.recovered'
          ? event.data.components
          : undefined;
  if (!Array.isArray(list)) return [];
  const out: Array<{ id: string; status: ComponentStatus }> = [];
  for (const item of list as Array<Record<string, unknown>>) {
    const status = event.type === 'incident.declared' ? item.status : item.new_status;
    if (typeof item.id === 'string' && isStatus(status)) out.push({ id: item.id, status });
  }
  return out;
}

export function outageSpans(
  incidents: readonly IncidentFacts[],
  events: readonly EventFacts[],
  links: readonly LinkFacts[],
  now: number,
): OutageSpan[] {
  const eventsOf = new Map<string, EventFacts[]>();
  for (const e of events) eventsOf.set(e.incidentId, [...(eventsOf.get(e.incidentId) ?? []), e]);
  const linksOf = new Map<string, LinkFacts[]>();
  for (const l of links) linksOf.set(l.incidentId, [...(linksOf.get(l.incidentId) ?? []), l]);

  const spans: OutageSpan[] = [];
  for (const incident of incidents) {
    if (incident.drill) continue;
    const end = incident.resolvedAt ?? now;
    const changes = new Map<string, Array<{ at: number; status: ComponentStatus }>>();
    const add = (componentId: string, at: number, status: ComponentStatus) =>
      changes.set(componentId, [...(changes.get(componentId) ?? []), { at, status }]);
    const ordered = [...(eventsOf.get(incident.id) ?? [])].sort((a, b) => a.at - b.at);
    for (const e of ordered) {
      const at = e.type === 'incident.declared' ? Math.min(incident.startedAt, e.at) : e.at;
      for (const c of changesOf(e)) add(c.id, at, c.status);
    }
    for (const l of linksOf.get(incident.id) ?? []) {
      if (!changes.has(l.componentId)) add(l.componentId, Math.max(l.addedAt, incident.startedAt), l.status);
    }
    for (const [componentId, list] of changes) {
      list.forEach((change, i) => {
        const status = asOutage(change.status);
        const to = Math.min(list[i + 1]?.at ?? end, end);
        if (status && to > change.at)
          spans.push({ incidentId: incident.id, componentId, status, from: change.at, to, scope: incident.scope });
      });
    }
  }
  return spans;
}
