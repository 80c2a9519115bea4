import { DAY, MINUTE, toIso } from '../../core/clock.js';
import type { ComponentStatus, Impact, IncidentStatus } from '../../incidents/incident.js';
import { isOpen } from '../../incidents/incident.js';
import type { PublishedUpdate } from '../../incidents/incidents.service.js';
import type { HistoryData } from './history.repo.js';

/** The status page's view of an incident: plain data, built once per rendering. */
export interface SiteIncident {
  id: string;
  name: string;
  status: IncidentStatus;
  impact: Impact;
  open: boolean;
  startedAt: number;
  declaredAt: number;
  resolvedAt: number | null;
  componentNames: string[];
  /** Public updates, newest first. */
  updates: SiteUpdate[];
}

export interface SiteUpdate {
  id: string;
  status: IncidentStatus;
  body: string;
  at: number;
}

/** A day's bar: the worst status any incident gave the component that day. */
export type DayStatus = 'operational' | 'degraded_performance' | 'partial_outage' | 'major_outage' | 'no_data';

export interface UptimeDay {
  /** YYYY-MM-DD (UTC). */
  date: string;
  status: DayStatus;
  /** Minutes the component was in partial or major outage that day. */
  outageMinutes: number;
  /** Minutes any incident affected it that day (degraded included). */
  affectedMinutes: number;
}

export interface ComponentUptime {
  days: UptimeDay[];
  /** Share of the window without outage, 0–100, two decimals. */
  percent: number;
}

export const UPTIME_DAYS = 90;

const SEVERITY: Record<DayStatus, number> = {
  no_data: -1,
  operational: 0,
  degraded_performance: 1,
  partial_outage: 2,
  major_outage: 3,
};

export function buildSiteIncidents(history: HistoryData): SiteIncident[] {
  const names = new Map(history.components.map((c) => [c.id, c.name]));
  const links = new Map<string, string[]>();
  for (const l of history.incidentComponents) links.set(l.incidentId, [...(links.get(l.incidentId) ?? []), l.componentId]);
  const updates = new Map<string, SiteUpdate[]>();
  for (const e of history.events) {
    if (e.type !== 'update.published') continue;
    const u = e.data as unknown as PublishedUpdate;
    updates.set(e.incidentId, [{ id: e.id, status: u.status, body: u.message, at: e.at }, ...(updates.get(e.incidentId) ?? [])]);
  }
  return history.incidents.map((i) => ({
    id: i.id,
    name: i.name,
    status: i.status,
    impact: i.impact,
    open: isOpen(i.status),
    startedAt: i.startedAt,
    declaredAt: i.declaredAt,
    resolvedAt: i.resolvedAt,
    componentNames: (links.get(i.id) ?? []).flatMap((id) => {
      const n = names.get(id);
      return n === undefined ? [] : [n];
    }),
    updates: updates.get(i.id) ?? [],
  }));
}

interface Interval {
  from: number;
  to: number;
  status: Exclude<DayStatus, 'no_data' | 'operational'>;
}

function asAffecting(status: ComponentStatus): Interval['status'] | null {
  return status === 'degraded_performance' || status === 'partial_outage' || status === 'major_outage' ? status : null;
}

/** Total length of the union of [from, to) intervals clipped to [start, end). */
function unionLength(intervals: Interval[], start: number, end: number): number {
  const clipped = intervals
    .map((i) => [Math.max(i.from, start), Math.min(i.to, end)] as const)
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let total = 0;
  let curFrom = -1;
  let curTo = -1;
  for (const [a, b] of clipped) {
    if (a > curTo) {
      total += curTo - curFrom;
      curFrom = a;
      curTo = b;
    } else if (b > curTo) curTo = b;
  }
  return total + (curTo - curFrom);
}

/**
 * 90 daily bars per component (UTC days, the last one is today): the worst status an incident
 * gave the component that day, with the minutes of outage. An incident affects a component from
 * its start to its resolution with the worst status it ever recorded for it (the links plus every
 * update's affected components).
 */
export function computeUptime(history: HistoryData, now: number, days = UPTIME_DAYS): Map<string, ComponentUptime> {
  const byComponent = new Map<string, Interval[]>();
  const incidentById = new Map(history.incidents.map((i) => [i.id, i]));
  const worst = new Map<string, Interval['status']>(); // key: incident|component
  const note = (incidentId: string, componentId: string, status: ComponentStatus) => {
    const s = asAffecting(status);
    if (!s) return;
    const key = `${incidentId}|${componentId}`;
    const prev = worst.get(key);
    if (!prev || SEVERITY[s] > SEVERITY[prev]) worst.set(key, s);
  };
  for (const l of history.incidentComponents) note(l.incidentId, l.componentId, l.status);
  for (const e of history.events) {
    if (e.type !== 'update.published') continue;
    const u = e.data as unknown as PublishedUpdate;
    for (const a of u.affected_components ?? []) note(e.incidentId, a.id, a.new_status);
  }
  for (const [key, status] of worst) {
    const [incidentId, componentId] = key.split('|') as [string, string];
    const incident = incidentById.get(incidentId);
    if (!incident) continue;
    const interval = { from: incident.startedAt, to: incident.resolvedAt ?? now, status };
    byComponent.set(componentId, [...(byComponent.get(componentId) ?? []), interval]);
  }

  const today = Math.floor(now / DAY) * DAY;
  const first = today - (days - 1) * DAY;
  const out = new Map<string, ComponentUptime>();
  for (const component of history.components) {
    const intervals = byComponent.get(component.id) ?? [];
    const outages = intervals.filter((i) => i.status !== 'degraded_performance');
    const bars: UptimeDay[] = [];
    let observed = 0;
    let down = 0;
    for (let d = 0; d < days; d++) {
      const start = first + d * DAY;
      const end = Math.min(start + DAY, now);
      const date = toIso(start).slice(0, 10);
      if (component.createdAt >= start + DAY && intervals.every((i) => i.from >= start + DAY)) {
        bars.push({ date, status: 'no_data', outageMinutes: 0, affectedMinutes: 0 });
        continue;
      }
      let status: DayStatus = 'operational';
      for (const i of intervals) {
        if (i.from < start + DAY && i.to > start && SEVERITY[i.status] > SEVERITY[status]) status = i.status;
      }
      const outageMs = end > start ? unionLength(outages, start, end) : 0;
      const affectedMs = end > start ? unionLength(intervals, start, end) : 0;
      observed += Math.max(0, end - start);
      down += outageMs;
      bars.push({
        date,
        status,
        outageMinutes: Math.round(outageMs / MINUTE),
        affectedMinutes: Math.round(affectedMs / MINUTE),
      });
    }
    const percent = observed > 0 ? Math.floor((1 - down / observed) * 10_000) / 100 : 100;
    out.set(component.id, { days: bars, percent });
  }
  return out;
}
