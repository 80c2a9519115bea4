/**
 * The incident report, as plain data: built from the incident's facts (its timeline, the cadence
 * figures, the CRM, the outbox, the mirror's orders) and what people wrote (summary, root cause,
 * actions). Pure: same facts and edits, same report. The renderers (markdown.ts, html.tsx,
 * pdf.ts) only lay it out, so every format says the same thing.
 *
 * Blameless: the timeline names no people (what happened, not who did it); actions have owners.
 */
import { toIso } from '../core/clock.js';
import {
  COMPONENT_STATUS_LABELS,
  type ComponentStatus,
  describeScope,
  type Impact,
  type IncidentStatus,
  type Scope,
  STATUS_LABELS,
} from '../incidents/incident.js';
import type { TimelineEvent } from '../incidents/incidents.repo.js';
import type { CadenceFigures } from '../status/cadence/cadence.js';

export const ACTION_KINDS = ['remediation', 'preventive'] as const;
export type ActionKind = (typeof ACTION_KINDS)[number];

export interface ReportAction {
  kind: ActionKind;
  title: string;
  owner: string;
  /** YYYY-MM-DD. */
  due_date: string;
  done: boolean;
}

/** What people wrote. Everything else in the report is computed. */
export interface ReportEdits {
  /** null: the summary generated from the figures. */
  summary: string | null;
  rootCause: string;
  actions: ReportAction[];
}

export const EMPTY_EDITS: ReportEdits = { summary: null, rootCause: '', actions: [] };

export const VARIANTS = ['full', 'executive', 'public'] as const;
/** full: everything; executive: one page of figures and decisions; public: what the status page shows (no sales figures, no owners). */
export type Variant = (typeof VARIANTS)[number];

export const TIERS = ['A', 'B', 'C'] as const;
export type TierName = (typeof TIERS)[number];

export interface TierFacts {
  leads: number;
  /** Sum of the leads' ARR potential (whole dollars). */
  arr: number;
  reEngaged: number;
  reEngagedArr: number;
}

export interface ChannelFacts {
  channel: string;
  total: number;
  /** sent or delivered */
  sent: number;
  /** bounced, failed or dead */
  failed: number;
  suppressed: number;
}

/** Everything the report is computed from (loaded by report.repo.ts). */
export interface ReportFacts {
  incident: {
    id: string;
    name: string;
    status: IncidentStatus;
    impact: Impact;
    drill: boolean;
    scope: Scope;
    startedAt: number;
    detectedAt: number;
    declaredAt: number;
    acknowledgedAt: number | null;
    monitoringAt: number | null;
    resolvedAt: number | null;
  };
  /** Each component's status in the incident (its link); the worst ever is derived from the updates. */
  components: Array<{ id: string; name: string; status: ComponentStatus }>;
  /** The whole timeline, oldest first. */
  events: TimelineEvent[];
  /** From the cadence's own rules (src/status/cadence/cadence.ts), over the public updates up to resolution. */
  cadence: CadenceFigures;
  promiseMs: number;
  /** Leads tagged per tier when the outage was declared (the crm.leads_tagged record, else the leads now). */
  tagged: Record<TierName, number>;
  /** The leads still attributed to the incident, per tier: ARR at risk and what re-engaged. */
  pipeline: Record<TierName, TierFacts>;
  tasks: {
    /** Call tasks (call_now, account_call) created. */
    calls: number;
    /** Call tasks with an outcome logged. */
    callsLogged: number;
    reached: number;
    voicemail: number;
    noAnswer: number;
    demosBooked: number;
    followups: number;
  };
  messages: {
    byChannel: ChannelFacts[];
    /** Messages created per bucket from `from`. */
    overTime: { from: number; bucketMs: number; counts: number[] };
  };
  orders: { count: number; units: number; companies: number; unknownSkus: number };
  conversations: { count: number; withLead: number };
}

export interface ReportState {
  state: 'draft' | 'published';
  publishedAt: number | null;
  revision: number;
  updatedAt: number | null;
}

export interface Figure {
  label: string;
  value: string;
}

export interface Table {
  title: string;
  columns: string[];
  rows: string[][];
}

export interface TimelineEntry {
  at: number;
  text: string;
  public: boolean;
  automatic: boolean;
}

export interface TimelineChart {
  title: string;
  from: number;
  to: number;
  segments: Array<{ from: number; to: number; label: string; key: string }>;
  marks: Array<{ at: number; label: string }>;
}

export interface BarChart {
  title: string;
  categories: string[];
  series: Array<{ name: string; values: number[] }>;
  format: 'count' | 'money';
}

export interface ReportModel {
  variant: Variant;
  incidentId: string;
  title: string;
  incidentName: string;
  drill: boolean;
  state: ReportState['state'];
  publishedAt: number | null;
  generatedAt: number;
  /** Still open: the figures are provisional. */
  open: boolean;
  blameless: string;
  summary: string;
  summaryGenerated: boolean;
  /** null: not written yet (the template's prompt is shown instead). */
  rootCause: string | null;
  rootCausePrompt: string;
  timeline: TimelineEntry[];
  timelineOmitted: number;
  /** Customer impact in figures: the service, then (full and executive) the pipeline. */
  service: Figure[];
  pipeline: Figure[];
  tables: Table[];
  actions: Array<ReportAction & { overdue: boolean }>;
  charts: { timeline: TimelineChart; messages: BarChart | null; tiers: BarChart | null };
}

export const BLAMELESS =
  'This report is blameless: it describes what happened, why, and what will change, not who is at fault. The timeline names no one; actions have owners so they get done.';
export const ROOT_CAUSE_PROMPT =
  'Not written yet. Describe the conditions that let the failure happen and the factors that made it worse or shorter (systems, signals, decisions), not people.';

const MAX_TIMELINE = 250;
/** Task outcomes are counted in the figures, not listed (an outage can log thousands). */
const NOT_LISTED = new Set(['crm.task_outcome']);

const COMPONENT_RANK: Record<ComponentStatus, number> = {
  operational: 0,
  under_maintenance: 0,
  degraded_performance: 1,
  partial_outage: 2,
  major_outage: 3,
};

// ---- formatting (shared by every renderer) ----

export function formatDuration(ms: number | null): string {
  if (ms === null) return '—';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const min = Math.round(s / 60);
  if (min < 60) return `${min} min`;
  const h = Math.floor(min / 60);
  const rest = min % 60;
  if (h < 48) return rest === 0 ? `${h} h` : `${h} h ${rest} min`;
  const d = Math.floor(h / 24);
  return `${d} d ${h % 24} h`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function formatMoney(dollars: number): string {
  return `$${Math.round(dollars).toLocaleString('en-US')}`;
}

/** "2026-01-15 09:05 UTC" */
export function formatTime(ms: number): string {
  return `${toIso(ms).slice(0, 16).replace('T', ' ')} UTC`;
}

function percent(part: number, whole: number): string {
  if (whole <= 0) return '0%';
  return `${Math.round((part / whole) * 1000) / 10}%`;
}

function listWords(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

// ---- the model ----

interface UpdateData {
  status?: IncidentStatus;
  message?: string;
  affected_components?: Array<{ id: string; new_status: ComponentStatus }>;
}

/** Each component's worst status during the incident: its link and every update's changes. */
export function worstStatuses(facts: ReportFacts): Array<{ name: string; status: ComponentStatus }> {
  const worst = new Map<string, ComponentStatus>(facts.components.map((c) => [c.id, c.status]));
  for (const e of facts.events) {
    if (e.type !== 'update.published' && e.type !== 'incident.declared' && !e.type.startsWith('detection.')) continue;
    const data = e.data as UpdateData & {
      components?: Array<{ id: string; status?: ComponentStatus; new_status?: ComponentStatus }>;
    };
    const changes = [
      ...(data.affected_components ?? []).map((a) => ({ id: a.id, status: a.new_status })),
      ...(data.components ?? []).map((c) => ({ id: c.id, status: c.status ?? c.new_status })),
    ];
    for (const c of changes) {
      if (!c.status || !worst.has(c.id)) continue;
      const prev = worst.get(c.id) as ComponentStatus;
      if (COMPONENT_RANK[c.status] > COMPONENT_RANK[prev]) worst.set(c.id, c.status);
    }
  }
  return facts.components.map((c) => ({ name: c.name, status: worst.get(c.id) ?? c.status }));
}

function entryText(e: TimelineEvent): string | null {
  const d = e.data as Record<string, unknown> & UpdateData;
  const str = (v: unknown) => (typeof v === 'string' && v.trim() ? v.trim() : null);
  switch (e.type) {
    case 'incident.declared':
      return `Incident declared (${STATUS_LABELS[(d.status as IncidentStatus) ?? 'investigating'] ?? d.status}, impact ${String(d.impact ?? 'unknown')}, ${describeScope((d.scope as Scope) ?? 'global')}).`;
    case 'update.published':
      return `Public update — ${STATUS_LABELS[d.status ?? 'investigating'] ?? d.status}: ${d.message ?? ''}`.trim();
    case 'note.added':
      return `Internal note: ${str(d.message) ?? ''}`;
    default:
      return str(d.summary) ?? str(d.message) ?? e.type;
  }
}

export function buildTimeline(facts: ReportFacts, variant: Variant): { entries: TimelineEntry[]; omitted: number } {
  const { incident } = facts;
  const entries: TimelineEntry[] = [];
  if (incident.startedAt < incident.declaredAt) {
    entries.push({ at: incident.startedAt, text: 'Impact began.', public: true, automatic: true });
  }
  if (incident.detectedAt < incident.declaredAt && incident.detectedAt !== incident.startedAt) {
    entries.push({ at: incident.detectedAt, text: 'Outage detected.', public: true, automatic: true });
  }
  for (const e of facts.events) {
    if (NOT_LISTED.has(e.type)) continue;
    if (variant === 'public' && !e.public) continue;
    const text = entryText(e);
    if (text === null) continue;
    entries.push({ at: e.at, text, public: e.public, automatic: e.actor.type === 'system' });
  }
  entries.sort((a, b) => a.at - b.at);
  const limit = variant === 'executive' ? 0 : MAX_TIMELINE;
  return { entries: entries.slice(0, limit), omitted: Math.max(0, entries.length - limit) };
}

function timelineChart(facts: ReportFacts, end: number): TimelineChart {
  const { incident } = facts;
  const segments: TimelineChart['segments'] = [];
  let status = 'undeclared' as IncidentStatus | 'undeclared';
  let from = incident.startedAt;
  const push = (to: number, next: IncidentStatus) => {
    if (to > from)
      segments.push({ from, to, key: status, label: status === 'undeclared' ? 'Before declaration' : STATUS_LABELS[status] });
    if (to >= from) from = to;
    status = next;
  };
  for (const e of facts.events) {
    if (e.at > end) break;
    if (e.type === 'incident.declared') push(e.at, ((e.data as UpdateData).status ?? 'investigating') as IncidentStatus);
    else if (e.type === 'update.published') {
      const next = (e.data as UpdateData).status;
      if (next && next !== status && next !== 'postmortem') push(e.at, next);
    }
  }
  if (status !== 'resolved' && end > from) {
    segments.push({ from, to: end, key: status, label: status === 'undeclared' ? 'Before declaration' : STATUS_LABELS[status] });
  }
  const marks: TimelineChart['marks'] = [{ at: incident.declaredAt, label: 'Declared' }];
  if (incident.detectedAt !== incident.declaredAt) marks.unshift({ at: incident.detectedAt, label: 'Detected' });
  if (incident.acknowledgedAt !== null) marks.push({ at: incident.acknowledgedAt, label: 'Acknowledged' });
  if (incident.resolvedAt !== null) marks.push({ at: incident.resolvedAt, label: 'Resolved' });
  return { title: 'Timeline', from: incident.startedAt, to: Math.max(end, incident.startedAt + 1), segments, marks };
}

function messagesChart(facts: ReportFacts): BarChart | null {
  const { counts, from, bucketMs } = facts.messages.overTime;
  if (counts.length === 0 || counts.every((c) => c === 0)) return null;
  const label = (i: number) => toIso(from + i * bucketMs).slice(11, 16);
  return {
    title: `Messages over time (per ${formatDuration(bucketMs)}, UTC)`,
    categories: counts.map((_, i) => label(i)),
    series: [{ name: 'Messages', values: counts }],
    format: 'count',
  };
}

function tiersChart(facts: ReportFacts): BarChart | null {
  const total = TIERS.reduce((n, t) => n + facts.tagged[t], 0);
  if (total === 0) return null;
  return {
    title: 'Pipeline per tier: ARR at risk vs engaged',
    categories: TIERS.map((t) => `Tier ${t} (${formatCount(facts.tagged[t])} leads)`),
    series: [
      { name: 'ARR at risk', values: TIERS.map((t) => facts.pipeline[t].arr) },
      { name: 'ARR engaged', values: TIERS.map((t) => facts.pipeline[t].reEngagedArr) },
    ],
    format: 'money',
  };
}

function totals(facts: ReportFacts) {
  const tagged = TIERS.reduce((n, t) => n + facts.tagged[t], 0);
  const arr = TIERS.reduce((n, t) => n + facts.pipeline[t].arr, 0);
  const engagedArr = TIERS.reduce((n, t) => n + facts.pipeline[t].reEngagedArr, 0);
  const reEngaged = TIERS.reduce((n, t) => n + facts.pipeline[t].reEngaged, 0);
  const messages = facts.messages.byChannel.reduce((n, c) => n + c.total, 0);
  return { tagged, arr, engagedArr, reEngaged, messages };
}

/** The summary written from the figures (used until someone writes their own). */
export function generatedSummary(facts: ReportFacts, now: number, variant: Variant): string {
  const { incident } = facts;
  const end = incident.resolvedAt ?? now;
  const comps = worstStatuses(facts).filter((c) => COMPONENT_RANK[c.status] > 0);
  const affected =
    comps.length > 0
      ? `${listWords(comps.map((c) => `${c.name} (${COMPONENT_STATUS_LABELS[c.status].toLowerCase()})`))} ${comps.length > 1 ? 'were' : 'was'} affected`
      : 'The showroom was affected';
  const scope = incident.scope === 'global' ? 'in every region' : `in ${listWords(incident.scope)}`;
  const lasting =
    incident.resolvedAt === null
      ? `for ${formatDuration(end - incident.startedAt)} so far`
      : `for ${formatDuration(end - incident.startedAt)}`;
  const parts = [`${incident.name}: ${affected} ${scope} ${lasting}.`];
  const { ackMs, longestGapMs } = facts.cadence;
  parts.push(
    ackMs === null
      ? 'No public acknowledgement was published.'
      : `We acknowledged it publicly ${formatDuration(ackMs)} after declaring it; the longest wait between public updates was ${formatDuration(longestGapMs)}.`,
  );
  if (variant !== 'public') {
    const t = totals(facts);
    if (t.tagged > 0) {
      parts.push(
        `${formatCount(t.tagged)} leads were tagged (Tier A ${formatCount(facts.tagged.A)}, B ${formatCount(facts.tagged.B)}, C ${formatCount(facts.tagged.C)}); ${formatCount(facts.tasks.callsLogged)} calls were logged and ${formatCount(facts.tasks.demosBooked)} demos booked.`,
      );
    }
    const extras: string[] = [];
    if (t.messages > 0) extras.push(`${formatCount(t.messages)} messages went out`);
    if (facts.orders.count > 0)
      extras.push(`${formatCount(facts.orders.count)} purchase orders came in through the fallback catalog`);
    if (t.reEngaged > 0) extras.push(`${formatCount(t.reEngaged)} leads re-engaged`);
    if (extras.length > 0) {
      const sentence = listWords(extras);
      parts.push(`${sentence.charAt(0).toUpperCase()}${sentence.slice(1)}.`);
    }
    if (t.arr > 0)
      parts.push(
        `Of ${formatMoney(t.arr)} of pipeline ARR at risk, ${formatMoney(t.engagedArr)} (${percent(t.engagedArr, t.arr)}) engaged again.`,
      );
  }
  return parts.join(' ');
}

function serviceFigures(facts: ReportFacts, now: number): Figure[] {
  const { incident, cadence } = facts;
  const end = incident.resolvedAt ?? now;
  const comps = worstStatuses(facts);
  const publicUpdates = facts.events.filter(
    (e) => e.type === 'update.published' && (e.data as UpdateData).status !== 'postmortem',
  ).length;
  return [
    {
      label: 'Components',
      value:
        comps.length > 0
          ? comps.map((c) => `${c.name} (${COMPONENT_STATUS_LABELS[c.status].toLowerCase()})`).join(', ')
          : 'none recorded',
    },
    { label: 'Regions', value: incident.scope === 'global' ? 'all regions (global)' : incident.scope.join(', ') },
    { label: 'Impact', value: incident.impact },
    { label: 'Started', value: formatTime(incident.startedAt) },
    { label: 'Resolved', value: incident.resolvedAt === null ? 'not yet' : formatTime(incident.resolvedAt) },
    {
      label: 'Duration',
      value: `${formatDuration(end - incident.startedAt)}${incident.resolvedAt === null ? ' (still open)' : ''}`,
    },
    { label: 'Time to detect', value: formatDuration(incident.detectedAt - incident.startedAt) },
    { label: 'Time to declare', value: formatDuration(incident.declaredAt - incident.detectedAt) },
    { label: 'Time to acknowledge', value: cadence.ackMs === null ? 'never acknowledged' : formatDuration(cadence.ackMs) },
    { label: 'Public updates', value: formatCount(publicUpdates) },
    { label: 'Longest update gap', value: formatDuration(cadence.longestGapMs) },
    {
      label: 'Late updates',
      value: `${formatCount(cadence.lateUpdates)} (gaps over the ${formatDuration(facts.promiseMs)} promise)`,
    },
  ];
}

function pipelineFigures(facts: ReportFacts): Figure[] {
  const t = totals(facts);
  const { tasks, orders, conversations } = facts;
  return [
    {
      label: 'Leads tagged',
      value: `${formatCount(t.tagged)} (Tier A ${formatCount(facts.tagged.A)}, B ${formatCount(facts.tagged.B)}, C ${formatCount(facts.tagged.C)})`,
    },
    { label: 'Messages sent', value: formatCount(t.messages) },
    {
      label: 'Calls',
      value: `${formatCount(tasks.callsLogged)} logged of ${formatCount(tasks.calls)} call tasks (${formatCount(tasks.reached)} reached, ${formatCount(tasks.voicemail)} voicemail, ${formatCount(tasks.noAnswer)} no answer)`,
    },
    { label: 'Demos booked', value: formatCount(tasks.demosBooked) },
    {
      label: 'Purchase orders (mirror)',
      value: `${formatCount(orders.count)} from ${formatCount(orders.companies)} companies, ${formatCount(orders.units)} units${orders.unknownSkus > 0 ? `, ${formatCount(orders.unknownSkus)} unknown SKUs` : ''}`,
    },
    {
      label: 'Conversations (SMS/chat)',
      value: `${formatCount(conversations.count)} (${formatCount(conversations.withLead)} with a known lead)`,
    },
    { label: 'Re-engaged leads', value: `${formatCount(t.reEngaged)} (${percent(t.reEngaged, t.tagged)} of tagged)` },
    { label: 'Pipeline ARR at risk', value: formatMoney(t.arr) },
    { label: 'Pipeline ARR engaged', value: `${formatMoney(t.engagedArr)} (${percent(t.engagedArr, t.arr)})` },
    { label: 'Recovery follow-up tasks', value: formatCount(tasks.followups) },
  ];
}

function tables(facts: ReportFacts): Table[] {
  const out: Table[] = [];
  if (facts.messages.byChannel.length > 0) {
    out.push({
      title: 'Messages per channel',
      columns: ['Channel', 'Messages', 'Sent', 'Failed', 'Suppressed'],
      rows: facts.messages.byChannel.map((c) => [
        c.channel,
        formatCount(c.total),
        formatCount(c.sent),
        formatCount(c.failed),
        formatCount(c.suppressed),
      ]),
    });
  }
  if (TIERS.some((t) => facts.tagged[t] > 0 || facts.pipeline[t].leads > 0)) {
    out.push({
      title: 'Leads per tier',
      columns: ['Tier', 'Tagged', 'Re-engaged', 'ARR at risk', 'ARR engaged'],
      rows: TIERS.map((t) => [
        t,
        formatCount(facts.tagged[t]),
        formatCount(facts.pipeline[t].reEngaged),
        formatMoney(facts.pipeline[t].arr),
        formatMoney(facts.pipeline[t].reEngagedArr),
      ]),
    });
  }
  return out;
}

/** The figures an executive summary keeps (one page). */
const EXECUTIVE_SERVICE = ['Components', 'Regions', 'Duration', 'Time to acknowledge', 'Longest update gap', 'Late updates'];
const EXECUTIVE_PIPELINE = [
  'Leads tagged',
  'Calls',
  'Demos booked',
  'Purchase orders (mirror)',
  'Re-engaged leads',
  'Pipeline ARR at risk',
  'Pipeline ARR engaged',
];

function pick(figures: Figure[], labels: readonly string[] | null): Figure[] {
  return labels === null ? figures : figures.filter((f) => labels.includes(f.label));
}

/** An action is overdue when not done and its due date (end of that UTC day) has passed. */
export function isOverdue(action: ReportAction, now: number): boolean {
  return !action.done && Date.parse(`${action.due_date}T23:59:59.999Z`) < now;
}

export function buildReport(
  facts: ReportFacts,
  edits: ReportEdits,
  state: ReportState,
  options: { now: number; variant: Variant },
): ReportModel {
  const { incident } = facts;
  const { now, variant } = options;
  const end = incident.resolvedAt ?? now;
  const timeline = buildTimeline(facts, variant);
  const written = edits.summary?.trim();
  const internal = variant !== 'public';
  const title = variant === 'executive' ? `Executive summary: ${incident.name}` : `Incident report: ${incident.name}`;
  return {
    variant,
    incidentId: incident.id,
    title: incident.drill ? `${title} (drill)` : title,
    incidentName: incident.name,
    drill: incident.drill,
    state: state.state,
    publishedAt: state.publishedAt,
    generatedAt: now,
    open: incident.resolvedAt === null,
    blameless: BLAMELESS,
    summary: written ? written : generatedSummary(facts, now, variant),
    summaryGenerated: !written,
    rootCause: edits.rootCause.trim() ? edits.rootCause.trim() : null,
    rootCausePrompt: ROOT_CAUSE_PROMPT,
    timeline: timeline.entries,
    timelineOmitted: variant === 'executive' ? 0 : timeline.omitted,
    service: pick(serviceFigures(facts, now), variant === 'executive' ? EXECUTIVE_SERVICE : null),
    pipeline: internal ? pick(pipelineFigures(facts), variant === 'executive' ? EXECUTIVE_PIPELINE : null) : [],
    tables: variant === 'full' ? tables(facts) : [],
    actions: edits.actions.map((a) => ({ ...a, ...(variant === 'public' && { owner: '' }), overdue: isOverdue(a, now) })),
    charts: {
      timeline: timelineChart(facts, end),
      messages: variant === 'full' ? messagesChart(facts) : null,
      tiers: variant === 'full' ? tiersChart(facts) : null,
    },
  };
}

/** Pick at most `buckets` equal buckets (whole minutes) covering [from, to]. */
export function bucketFor(from: number, to: number, buckets = 24): number {
  const span = Math.max(1, to - from);
  const minutes = Math.max(1, Math.ceil(span / buckets / 60_000));
  return minutes * 60_000;
}
