import { sql } from 'kysely';
import { newId } from '../core/ids.js';
import { fromDbBool, fromDbJson, toDbBool, toDbJson } from '../db/codec.js';
import type { Database, Executor } from '../db/database.js';
import type { Row } from '../db/schema.js';
import type { ComponentStatus, Scope } from '../incidents/incident.js';
import type { ConfirmedState, MonitorState } from './confirmation.js';
import type { MonitorCheck, MonitorSpec, MonitorType } from './monitor.js';

export interface Monitor {
  id: string;
  componentId: string;
  name: string;
  type: MonitorType;
  check: MonitorCheck['check'];
  intervalMs: number;
  /** Regions that run it; ['*'] for every region. */
  regions: string[];
  failuresToDown: number;
  successesToUp: number;
  enabled: boolean;
  createdAt: number;
  updatedAt: number;
}

export function toMonitor(row: Row<'monitors'>): Monitor {
  return {
    id: row.id,
    componentId: row.component_id,
    name: row.name,
    type: row.type as MonitorType,
    check: fromDbJson(row.config, {}) as MonitorCheck['check'],
    intervalMs: row.interval_ms,
    regions: fromDbJson<string[]>(row.regions, ['*']),
    failuresToDown: row.failures_to_down,
    successesToUp: row.successes_to_up,
    enabled: fromDbBool(row.enabled),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export function monitorSpec(m: Monitor): MonitorSpec {
  return {
    id: m.id,
    componentId: m.componentId,
    name: m.name,
    intervalMs: m.intervalMs,
    check: { type: m.type, check: m.check } as MonitorCheck,
  };
}

export async function listMonitors(
  ex: Executor,
  filter: { componentId?: string; enabledOnly?: boolean } = {},
): Promise<Monitor[]> {
  let q = ex.selectFrom('monitors').selectAll().orderBy('name');
  if (filter.componentId) q = q.where('component_id', '=', filter.componentId);
  if (filter.enabledOnly) q = q.where('enabled', '=', toDbBool(true));
  return (await q.execute()).map(toMonitor);
}

export async function findMonitor(ex: Executor, id: string): Promise<Monitor | undefined> {
  const row = await ex.selectFrom('monitors').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toMonitor(row) : undefined;
}

export async function findMonitorsByIds(ex: Executor, ids: readonly string[]): Promise<Map<string, Monitor>> {
  if (ids.length === 0) return new Map();
  const rows = await ex.selectFrom('monitors').selectAll().where('id', 'in', ids).execute();
  return new Map(rows.map((r) => [r.id, toMonitor(r)]));
}

export async function insertMonitor(
  ex: Executor,
  m: Omit<Monitor, 'id' | 'createdAt' | 'updatedAt'>,
  now: number,
): Promise<string> {
  const id = newId(now);
  await ex
    .insertInto('monitors')
    .values({
      id,
      ...monitorColumns(m),
      created_at: now,
      updated_at: now,
    })
    .execute();
  return id;
}

/** A monitor's own columns, as stored (shared by insert and update). */
function monitorColumns(m: Omit<Monitor, 'id' | 'createdAt' | 'updatedAt'>) {
  return {
    component_id: m.componentId,
    name: m.name,
    type: m.type,
    config: toDbJson(m.check),
    interval_ms: m.intervalMs,
    regions: toDbJson(m.regions),
    failures_to_down: m.failuresToDown,
    successes_to_up: m.successesToUp,
    enabled: toDbBool(m.enabled),
  };
}

export async function updateMonitor(
  ex: Executor,
  id: string,
  m: Omit<Monitor, 'id' | 'createdAt' | 'updatedAt'>,
  now: number,
): Promise<void> {
  await ex
    .updateTable('monitors')
    .set({ ...monitorColumns(m), updated_at: now })
    .where('id', '=', id)
    .execute();
}

export async function deleteMonitor(ex: Executor, id: string): Promise<boolean> {
  await ex.deleteFrom('probe_results').where('monitor_id', '=', id).execute();
  await ex.deleteFrom('monitor_states').where('monitor_id', '=', id).execute();
  const res = await ex.deleteFrom('monitors').where('id', '=', id).executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

export interface StoredMonitorState extends MonitorState {
  monitorId: string;
  region: string;
  lastResultAt: number;
  lastLatencyMs: number | null;
  lastError: string | null;
}

function toState(row: Row<'monitor_states'>): StoredMonitorState {
  return {
    monitorId: row.monitor_id,
    region: row.region,
    state: row.state as ConfirmedState,
    failStreak: row.fail_streak,
    okStreak: row.ok_streak,
    degraded: fromDbBool(row.degraded),
    firstFailureAt: row.first_failure_at,
    changedAt: row.changed_at,
    flaps: fromDbJson<number[]>(row.flaps, []),
    lastResultAt: row.last_result_at,
    lastLatencyMs: row.last_latency_ms,
    lastError: row.last_error,
  };
}

export async function listStates(
  ex: Executor,
  filter: { monitorIds?: readonly string[]; region?: string } = {},
): Promise<StoredMonitorState[]> {
  if (filter.monitorIds && filter.monitorIds.length === 0) return [];
  let q = ex.selectFrom('monitor_states').selectAll();
  if (filter.monitorIds) q = q.where('monitor_id', 'in', filter.monitorIds);
  if (filter.region) q = q.where('region', '=', filter.region);
  return (await q.execute()).map(toState);
}

/** Rows of monitor_states for these monitors in this region, for update. */
export async function statesFor(
  ex: Executor,
  region: string,
  monitorIds: readonly string[],
): Promise<Map<string, StoredMonitorState>> {
  const out = new Map<string, StoredMonitorState>();
  for (let i = 0; i < monitorIds.length; i += 500) {
    const rows = await ex
      .selectFrom('monitor_states')
      .selectAll()
      .where('region', '=', region)
      .where('monitor_id', 'in', monitorIds.slice(i, i + 500))
      .execute();
    for (const r of rows) out.set(r.monitor_id, toState(r));
  }
  return out;
}

export async function saveState(ex: Executor, s: StoredMonitorState): Promise<void> {
  const values = {
    state: s.state,
    fail_streak: s.failStreak,
    ok_streak: s.okStreak,
    degraded: toDbBool(s.degraded),
    first_failure_at: s.firstFailureAt,
    changed_at: s.changedAt,
    last_result_at: s.lastResultAt,
    last_latency_ms: s.lastLatencyMs,
    last_error: s.lastError?.slice(0, 500) ?? null,
    flaps: toDbJson(s.flaps),
  };
  await ex
    .insertInto('monitor_states')
    .values({ monitor_id: s.monitorId, region: s.region, ...values })
    .onConflict((oc) => oc.columns(['monitor_id', 'region']).doUpdateSet(values))
    .execute();
}

/** Count a result into its minute of the rolled-up history (one row per monitor, region and minute). */
export async function rollUp(
  ex: Executor,
  r: { monitorId: string; region: string; at: number; ok: boolean; degraded: boolean; latencyMs: number },
): Promise<void> {
  const minute = Math.floor(r.at / 60_000) * 60_000;
  const ok = r.ok && !r.degraded ? 1 : 0;
  const degraded = r.ok && r.degraded ? 1 : 0;
  const failed = r.ok ? 0 : 1;
  const latency = Math.round(r.latencyMs);
  await ex
    .insertInto('probe_results')
    .values({
      monitor_id: r.monitorId,
      region: r.region,
      minute,
      ok,
      degraded,
      failed,
      latency_sum: latency,
      latency_max: latency,
    })
    .onConflict((oc) =>
      oc.columns(['monitor_id', 'region', 'minute']).doUpdateSet((eb) => ({
        ok: eb('probe_results.ok', '+', ok),
        degraded: eb('probe_results.degraded', '+', degraded),
        failed: eb('probe_results.failed', '+', failed),
        latency_sum: eb('probe_results.latency_sum', '+', latency),
        latency_max: sql<number>`case when ${sql.ref('probe_results.latency_max')} > ${latency} then ${sql.ref('probe_results.latency_max')} else ${latency} end`,
      })),
    )
    .execute();
}

export async function historySince(
  ex: Executor,
  since: number,
): Promise<Array<{ monitorId: string; region: string; minute: number; ok: number; degraded: number; failed: number }>> {
  const rows = await ex.selectFrom('probe_results').selectAll().where('minute', '>=', since).orderBy('minute').execute();
  return rows.map((r) => ({
    monitorId: r.monitor_id,
    region: r.region,
    minute: r.minute,
    ok: r.ok,
    degraded: r.degraded,
    failed: r.failed,
  }));
}

export interface Signal {
  id: string;
  source: string;
  fingerprint: string;
  componentId: string | null;
  region: string | null;
  state: 'firing' | 'resolved';
  severity: 'down' | 'degraded';
  summary: string;
  firstAt: number;
  lastAt: number;
  resolvedAt: number | null;
  details: Record<string, unknown>;
}

function toSignal(row: Row<'signals'>): Signal {
  return {
    id: row.id,
    source: row.source,
    fingerprint: row.fingerprint,
    componentId: row.component_id,
    region: row.region,
    state: row.state as Signal['state'],
    severity: row.severity as Signal['severity'],
    summary: row.summary,
    firstAt: row.first_at,
    lastAt: row.last_at,
    resolvedAt: row.resolved_at,
    details: fromDbJson(row.details, {}),
  };
}

/**
 * Record a signal by (source, fingerprint): a repeat of a firing signal only moves last_at; a
 * resolution closes it; firing again after a resolution reopens it. Returns whether its state changed.
 */
export async function upsertSignal(
  ex: Executor,
  s: Omit<Signal, 'id' | 'firstAt' | 'lastAt' | 'resolvedAt'> & { at: number; startedAt?: number | undefined },
): Promise<{ signal: Signal; changed: boolean; previousComponentId?: string | null }> {
  const firstAt = Math.min(s.startedAt ?? s.at, s.at);
  // Insert first (safe when two processes record the same signal at once), update otherwise.
  const inserted = await ex
    .insertInto('signals')
    .values({
      id: newId(s.at),
      source: s.source,
      fingerprint: s.fingerprint,
      component_id: s.componentId,
      region: s.region,
      state: s.state,
      severity: s.severity,
      summary: s.summary,
      first_at: firstAt,
      last_at: s.at,
      resolved_at: s.state === 'resolved' ? s.at : null,
      details: toDbJson(s.details),
    })
    .onConflict((oc) => oc.columns(['source', 'fingerprint']).doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return { signal: toSignal(inserted), changed: s.state === 'firing' };
  const existing = await ex
    .selectFrom('signals')
    .selectAll()
    .where('source', '=', s.source)
    .where('fingerprint', '=', s.fingerprint)
    .executeTakeFirstOrThrow();
  const prev = toSignal(existing);
  const reopened = prev.state === 'resolved' && s.state === 'firing';
  const updated = await ex
    .updateTable('signals')
    .set({
      component_id: s.componentId,
      region: s.region,
      state: s.state,
      severity: s.severity,
      summary: s.summary,
      last_at: s.at,
      details: toDbJson(s.details),
      ...(reopened && { first_at: firstAt, resolved_at: null }),
      ...(s.state === 'resolved' && prev.state === 'firing' && { resolved_at: s.at }),
    })
    .where('id', '=', prev.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  const moved = prev.componentId !== s.componentId || prev.region !== s.region;
  return {
    signal: toSignal(updated),
    changed: prev.state !== s.state || prev.severity !== s.severity || (moved && s.state === 'firing'),
    ...(moved && { previousComponentId: prev.componentId }),
  };
}

/** A signal closed by hand (its source will never say it resolved). */
export async function resolveSignal(ex: Executor, id: string, at: number): Promise<Signal | undefined> {
  const row = await ex
    .updateTable('signals')
    .set({ state: 'resolved', resolved_at: at, last_at: at })
    .where('id', '=', id)
    .where('state', '=', 'firing')
    .returningAll()
    .executeTakeFirst();
  return row ? toSignal(row) : undefined;
}

export async function firingSignals(ex: Executor, componentIds?: readonly string[]): Promise<Signal[]> {
  if (componentIds && componentIds.length === 0) return [];
  let q = ex.selectFrom('signals').selectAll().where('state', '=', 'firing').where('component_id', 'is not', null);
  if (componentIds) q = q.where('component_id', 'in', componentIds);
  return (await q.execute()).map(toSignal);
}

export async function listSignals(ex: Executor, filter: { limit: number; state?: string }): Promise<Signal[]> {
  let q = ex.selectFrom('signals').selectAll().orderBy('last_at', 'desc').limit(filter.limit);
  if (filter.state) q = q.where('state', '=', filter.state);
  return (await q.execute()).map(toSignal);
}

export interface StoredHealth {
  componentId: string;
  status: ComponentStatus;
  scope: Scope;
  reasons: string[];
  since: number;
  evaluatedAt: number;
}

export async function listHealth(ex: Executor): Promise<Map<string, StoredHealth>> {
  const rows = await ex.selectFrom('component_health').selectAll().execute();
  return new Map(
    rows.map((r) => [
      r.component_id,
      {
        componentId: r.component_id,
        status: r.status as ComponentStatus,
        scope: fromDbJson<Scope>(r.scope, 'global'),
        reasons: fromDbJson<string[]>(r.reasons, []),
        since: r.since,
        evaluatedAt: r.evaluated_at,
      },
    ]),
  );
}

export async function saveHealth(ex: Executor, h: StoredHealth): Promise<void> {
  const values = {
    status: h.status,
    scope: toDbJson(h.scope),
    reasons: toDbJson(h.reasons),
    since: h.since,
    evaluated_at: h.evaluatedAt,
  };
  await ex
    .insertInto('component_health')
    .values({ component_id: h.componentId, ...values })
    .onConflict((oc) => oc.column('component_id').doUpdateSet(values))
    .execute();
}

export type DetectionState = 'suggested' | 'declared' | 'dismissed' | 'recovered' | 'observed';

export interface Detection {
  id: string;
  state: DetectionState;
  components: Array<{ id: string; status: ComponentStatus }>;
  scope: Scope;
  summary: string;
  firstFailureAt: number;
  createdAt: number;
  confirmBy: number | null;
  incidentId: string | null;
  decidedBy: string | null;
  decidedAt: number | null;
}

function toDetection(row: Row<'detections'>): Detection {
  return {
    id: row.id,
    state: row.state as DetectionState,
    components: fromDbJson(row.components, []),
    scope: fromDbJson<Scope>(row.scope, 'global'),
    summary: row.summary,
    firstFailureAt: row.first_failure_at,
    createdAt: row.created_at,
    confirmBy: row.confirm_by,
    incidentId: row.incident_id,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at,
  };
}

export async function openSuggestion(ex: Executor, lock?: Database['dialect']): Promise<Detection | undefined> {
  let q = ex.selectFrom('detections').selectAll().where('state', '=', 'suggested').orderBy('created_at', 'desc');
  if (lock === 'postgres') q = q.forUpdate();
  const row = await q.executeTakeFirst();
  return row ? toDetection(row) : undefined;
}

export async function findDetection(ex: Executor, id: string, lock?: Database['dialect']): Promise<Detection | undefined> {
  let q = ex.selectFrom('detections').selectAll().where('id', '=', id);
  if (lock === 'postgres') q = q.forUpdate();
  const row = await q.executeTakeFirst();
  return row ? toDetection(row) : undefined;
}

export async function listDetections(ex: Executor, limit: number): Promise<Detection[]> {
  return (await ex.selectFrom('detections').selectAll().orderBy('created_at', 'desc').limit(limit).execute()).map(toDetection);
}

export async function insertDetection(ex: Executor, d: Omit<Detection, 'id'>): Promise<string> {
  const id = newId(d.createdAt);
  await ex
    .insertInto('detections')
    .values({
      id,
      state: d.state,
      components: toDbJson(d.components),
      scope: toDbJson(d.scope),
      summary: d.summary,
      first_failure_at: d.firstFailureAt,
      created_at: d.createdAt,
      confirm_by: d.confirmBy,
      incident_id: d.incidentId,
      decided_by: d.decidedBy,
      decided_at: d.decidedAt,
    })
    .execute();
  return id;
}

export async function updateDetection(
  ex: Executor,
  id: string,
  patch: Partial<Pick<Detection, 'state' | 'components' | 'scope' | 'summary' | 'incidentId' | 'decidedBy' | 'decidedAt'>>,
): Promise<void> {
  await ex
    .updateTable('detections')
    .set({
      ...(patch.state !== undefined && { state: patch.state }),
      ...(patch.components !== undefined && { components: toDbJson(patch.components) }),
      ...(patch.scope !== undefined && { scope: toDbJson(patch.scope) }),
      ...(patch.summary !== undefined && { summary: patch.summary }),
      ...(patch.incidentId !== undefined && { incident_id: patch.incidentId }),
      ...(patch.decidedBy !== undefined && { decided_by: patch.decidedBy }),
      ...(patch.decidedAt !== undefined && { decided_at: patch.decidedAt }),
    })
    .where('id', '=', id)
    .execute();
}
