import { createHash } from 'node:crypto';
import { toIso, toIsoOrNull } from '../core/clock.js';
import type { Component } from './components.repo.js';
import {
  type ComponentStatus,
  computeIndicator,
  type Impact,
  INDICATOR_DESCRIPTIONS,
  type IncidentStatus,
  isOpen,
  worstComponentStatus,
} from './incident.js';
import type { IncidentRecord } from './incidents.repo.js';
import type { PublishedUpdate } from './incidents.service.js';
import type { PublicData } from './statuspage.repo.js';

/**
 * Statuspage v2 documents (summary, status, components, incidents, unresolved), with Atlassian's
 * exact field names and values, built from plain data. Pure: same input, same bytes.
 */

export interface SpPage {
  id: string;
  name: string;
  url: string;
  time_zone: string;
  updated_at: string;
}

export interface SpComponent {
  id: string;
  name: string;
  status: ComponentStatus;
  created_at: string;
  updated_at: string;
  position: number;
  description: string | null;
  showcase: boolean;
  start_date: string | null;
  group_id: string | null;
  page_id: string;
  group: boolean;
  only_show_if_degraded: boolean;
  components?: string[];
}

export interface SpIncidentUpdate {
  id: string;
  status: IncidentStatus;
  body: string;
  incident_id: string;
  created_at: string;
  updated_at: string;
  display_at: string;
  affected_components: Array<{ code: string; name: string; old_status: ComponentStatus; new_status: ComponentStatus }> | null;
  deliver_notifications: boolean;
  custom_tweet: string | null;
  tweet_id: string | null;
}

export interface SpIncident {
  id: string;
  name: string;
  status: IncidentStatus;
  created_at: string;
  updated_at: string;
  monitoring_at: string | null;
  resolved_at: string | null;
  impact: Impact;
  shortlink: string;
  started_at: string;
  page_id: string;
  incident_updates: SpIncidentUpdate[];
  components: SpComponent[];
}

export interface SpStatus {
  indicator: Impact;
  description: string;
}

export interface StatuspageDocuments {
  'summary.json': {
    page: SpPage;
    components: SpComponent[];
    incidents: SpIncident[];
    scheduled_maintenances: never[];
    status: SpStatus;
  };
  'status.json': { page: SpPage; status: SpStatus };
  'components.json': { page: SpPage; components: SpComponent[] };
  'incidents.json': { page: SpPage; incidents: SpIncident[] };
  'incidents/unresolved.json': { page: SpPage; incidents: SpIncident[] };
}

export type StatuspageDocumentName = keyof StatuspageDocuments;
export const STATUSPAGE_DOCUMENTS: readonly StatuspageDocumentName[] = [
  'summary.json',
  'status.json',
  'components.json',
  'incidents.json',
  'incidents/unresolved.json',
];

export const RECENT_INCIDENTS = 50;

/** A group's id, stable for its name, so clients can follow it across renders. */
export function groupId(name: string): string {
  return `group-${createHash('sha256').update(name).digest('hex').slice(0, 16)}`;
}

export function buildStatuspageDocuments(data: PublicData, page: { name: string; url: string }): StatuspageDocuments {
  const pageJson: SpPage = {
    id: data.pageId,
    name: page.name,
    url: page.url,
    time_zone: 'Etc/UTC',
    updated_at: toIso(Math.max(data.revisionAt, 0)),
  };

  const groups = new Map<string, Component[]>();
  for (const c of data.components) {
    if (c.group) groups.set(c.group, [...(groups.get(c.group) ?? []), c]);
  }
  const componentJson = (c: Component): SpComponent => ({
    id: c.id,
    name: c.name,
    status: c.status,
    created_at: toIso(c.createdAt),
    updated_at: toIso(c.updatedAt),
    position: c.position,
    description: c.description,
    showcase: true,
    start_date: null,
    group_id: c.group ? groupId(c.group) : null,
    page_id: data.pageId,
    group: false,
    only_show_if_degraded: c.onlyShowIfDegraded,
  });
  const components: SpComponent[] = [];
  const emitted = new Set<string>();
  for (const c of data.components) {
    if (c.group && !emitted.has(c.group)) {
      emitted.add(c.group);
      const members = groups.get(c.group) ?? [];
      components.push({
        id: groupId(c.group),
        name: c.group,
        status: worstComponentStatus(members.map((m) => m.status)),
        created_at: toIso(Math.min(...members.map((m) => m.createdAt))),
        updated_at: toIso(Math.max(...members.map((m) => m.updatedAt))),
        position: c.position,
        description: null,
        showcase: false,
        start_date: null,
        group_id: null,
        page_id: data.pageId,
        group: true,
        only_show_if_degraded: false,
        components: members.map((m) => m.id),
      });
    }
    components.push(componentJson(c));
  }

  const componentById = new Map(data.components.map((c) => [c.id, c]));
  const linksByIncident = new Map<string, string[]>();
  for (const link of data.incidentComponents) {
    linksByIncident.set(link.incidentId, [...(linksByIncident.get(link.incidentId) ?? []), link.componentId]);
  }
  const updatesByIncident = new Map<string, SpIncidentUpdate[]>();
  for (const event of data.events) {
    if (event.type !== 'update.published') continue;
    const u = event.data as unknown as PublishedUpdate;
    const at = toIso(event.at);
    const json: SpIncidentUpdate = {
      id: event.id,
      status: u.status,
      body: u.message,
      incident_id: event.incidentId,
      created_at: at,
      updated_at: at,
      display_at: at,
      affected_components:
        u.affected_components.length > 0
          ? u.affected_components.map((a) => ({ code: a.id, name: a.name, old_status: a.old_status, new_status: a.new_status }))
          : null,
      deliver_notifications: true,
      custom_tweet: null,
      tweet_id: null,
    };
    // Statuspage lists updates newest first.
    updatesByIncident.set(event.incidentId, [json, ...(updatesByIncident.get(event.incidentId) ?? [])]);
  }
  const incidentJson = (i: IncidentRecord): SpIncident => ({
    id: i.id,
    name: i.name,
    status: i.status,
    created_at: toIso(i.declaredAt),
    updated_at: toIso(i.updatedAt),
    monitoring_at: toIsoOrNull(i.monitoringAt),
    resolved_at: toIsoOrNull(i.resolvedAt),
    impact: i.impact,
    shortlink: `${page.url}/incidents/${i.id}`,
    started_at: toIso(i.startedAt),
    page_id: data.pageId,
    incident_updates: updatesByIncident.get(i.id) ?? [],
    components: (linksByIncident.get(i.id) ?? []).flatMap((id) => {
      const c = componentById.get(id);
      return c ? [componentJson(c)] : [];
    }),
  });

  const recent = data.incidents.slice(0, RECENT_INCIDENTS).map(incidentJson);
  const unresolvedRecords = data.incidents.filter((i) => isOpen(i.status));
  const unresolved = unresolvedRecords.map(incidentJson);
  const indicator = computeIndicator(
    unresolvedRecords.map((i) => i.impact),
    data.components.map((c) => c.status),
  );
  const status: SpStatus = { indicator, description: INDICATOR_DESCRIPTIONS[indicator] };

  return {
    'summary.json': { page: pageJson, components, incidents: unresolved, scheduled_maintenances: [], status },
    'status.json': { page: pageJson, status },
    'components.json': { page: pageJson, components },
    'incidents.json': { page: pageJson, incidents: recent },
    'incidents/unresolved.json': { page: pageJson, incidents: unresolved },
  };
}
