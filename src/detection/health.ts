import type { ComponentKind, ComponentStatus, OutageChannel, Scope } from '../incidents/incident.js';
import { impactFromComponents, outageChannel } from '../incidents/incident.js';
import type { ConfirmedState } from './confirmation.js';

/** One monitor's confirmed state in one region. */
export interface RegionalProbe {
  monitorId: string;
  region: string;
  state: ConfirmedState;
  degraded: boolean;
  lastResultAt: number;
  intervalMs: number;
  firstFailureAt: number | null;
}

/** A firing signal from another source (an alert, an upstream status page, browser beacons). */
export interface FiringSignal {
  source: string;
  severity: 'down' | 'degraded';
  region: string | null;
  summary: string;
  firstAt: number;
}

export interface ComponentHealth {
  status: ComponentStatus;
  down: boolean;
  scope: Scope;
  /** Short human reasons, e.g. "probe down in eu-west, us-east", "alertmanager: ICMP down". */
  reasons: string[];
  /** Earliest failure behind the verdict (detection time), or null when healthy. */
  firstFailureAt: number | null;
}

/** Results older than this many intervals are ignored (the region's agent may be gone). */
export const FRESH_INTERVALS = 3;

/**
 * A component's health from every source. Probes: a region counts when its results are fresh;
 * the component is down when at least half of the fresh regions see it down; the scope is global
 * when all of them do, else the failing regions. Any firing "down" signal also makes it down
 * (global unless the signal names a region). Down globally → major outage; down in some regions →
 * partial outage; slow or a degraded signal → degraded performance.
 */
export function evaluateHealth(input: {
  probes: readonly RegionalProbe[];
  signals: readonly FiringSignal[];
  now: number;
}): ComponentHealth {
  const fresh = input.probes.filter((p) => input.now - p.lastResultAt <= FRESH_INTERVALS * p.intervalMs);
  const regions = new Map<string, { down: boolean; degraded: boolean; firstFailureAt: number | null }>();
  for (const p of fresh) {
    const r = regions.get(p.region) ?? { down: false, degraded: false, firstFailureAt: null };
    const down = p.state === 'down' || p.state === 'recovering';
    r.down ||= down;
    r.degraded ||= p.degraded;
    if (down && p.firstFailureAt !== null) r.firstFailureAt = Math.min(r.firstFailureAt ?? p.firstFailureAt, p.firstFailureAt);
    regions.set(p.region, r);
  }
  const downRegions = [...regions]
    .filter(([, r]) => r.down)
    .map(([name]) => name)
    .sort();
  const reasons: string[] = [];
  let globalDown = false;
  const regionalDown = new Set<string>();
  let degraded = false;
  const failures: number[] = [];

  if (regions.size > 0 && downRegions.length > 0 && downRegions.length * 2 >= regions.size) {
    if (downRegions.length === regions.size) globalDown = true;
    else for (const r of downRegions) regionalDown.add(r);
    reasons.push(`probes down in ${downRegions.join(', ')} (${downRegions.length} of ${regions.size} regions)`);
    for (const r of downRegions) {
      const first = regions.get(r)?.firstFailureAt;
      if (first != null) failures.push(first);
    }
  } else if (downRegions.length > 0) {
    reasons.push(
      `probes down in ${downRegions.join(', ')} only (${downRegions.length} of ${regions.size} regions: not confirmed)`,
    );
  }
  if ([...regions.values()].some((r) => r.degraded && !r.down)) {
    degraded = true;
    reasons.push('probes slow');
  }
  for (const s of input.signals) {
    reasons.push(`${s.source}: ${s.summary}`);
    if (s.severity === 'degraded') {
      degraded = true;
      continue;
    }
    failures.push(s.firstAt);
    if (s.region) regionalDown.add(s.region);
    else globalDown = true;
  }

  const firstFailureAt = failures.length > 0 ? Math.min(...failures) : null;
  if (globalDown) return { status: 'major_outage', down: true, scope: 'global', reasons, firstFailureAt };
  if (regionalDown.size > 0)
    return { status: 'partial_outage', down: true, scope: [...regionalDown].sort(), reasons, firstFailureAt };
  if (degraded) return { status: 'degraded_performance', down: false, scope: 'global', reasons, firstFailureAt };
  return { status: 'operational', down: false, scope: 'global', reasons, firstFailureAt: null };
}

/** The outage as a whole: channels of the failing components, combined scope and impact. */
export function classifyOutage(components: ReadonlyArray<{ kind: ComponentKind; health: ComponentHealth }>): {
  channels: OutageChannel[];
  scope: Scope;
  impact: ReturnType<typeof impactFromComponents>;
} {
  const failing = components.filter((c) => c.health.status !== 'operational');
  const channels = [...new Set(failing.map((c) => outageChannel(c.kind)))];
  const global = failing.some((c) => c.health.scope === 'global' && c.health.down);
  const regions = [...new Set(failing.flatMap((c) => (c.health.scope === 'global' ? [] : c.health.scope)))].sort();
  const scope: Scope = global || regions.length === 0 ? 'global' : regions;
  return { channels, scope, impact: impactFromComponents(failing.map((c) => c.health.status)) };
}
