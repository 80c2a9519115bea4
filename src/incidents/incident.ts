/**
 * Pure rules of incidents and components. The vocabulary is Atlassian Statuspage's, so every
 * existing Statuspage client reads Keepwarm's state without changes.
 */

export const INCIDENT_STATUSES = ['investigating', 'identified', 'monitoring', 'resolved', 'postmortem'] as const;
export type IncidentStatus = (typeof INCIDENT_STATUSES)[number];
export const OPEN_STATUSES = ['investigating', 'identified', 'monitoring'] as const satisfies readonly IncidentStatus[];

export const IMPACTS = ['none', 'minor', 'major', 'critical'] as const;
export type Impact = (typeof IMPACTS)[number];

export const COMPONENT_STATUSES = [
  'operational',
  'degraded_performance',
  'partial_outage',
  'major_outage',
  'under_maintenance',
] as const;
export type ComponentStatus = (typeof COMPONENT_STATUSES)[number];

export const COMPONENT_KINDS = ['cdn', 'api', 'auth', 'third_party', 'origin', 'checkout', 'other'] as const;
export type ComponentKind = (typeof COMPONENT_KINDS)[number];

export type Indicator = Impact;

export type OutageChannel = 'CDN' | 'API' | 'Auth' | 'Third-party';

export function isOpen(status: IncidentStatus): boolean {
  return (OPEN_STATUSES as readonly string[]).includes(status);
}

export type TransitionCheck = { ok: true } | { ok: false; reason: string };

/**
 * Which status may follow which. While open, an incident may move between investigating,
 * identified and monitoring in any order (problems come back) and may be resolved. A resolved
 * incident may only gain its postmortem; a recurrence is a new incident, so resolved_at and the
 * figures derived from it stay true.
 */
export function checkTransition(from: IncidentStatus, to: IncidentStatus): TransitionCheck {
  if (isOpen(from)) {
    if (to === 'postmortem') {
      return { ok: false, reason: `A postmortem follows resolution; the incident is still ${from}. Resolve it first.` };
    }
    return { ok: true };
  }
  if (from === 'resolved') {
    if (to === 'postmortem') return { ok: true };
    if (to === 'resolved') return { ok: false, reason: 'The incident is already resolved.' };
    return {
      ok: false,
      reason: `A resolved incident cannot go back to ${to}; declare a new incident for a recurrence.`,
    };
  }
  if (to === 'postmortem') return { ok: true };
  return { ok: false, reason: `The incident's postmortem is published; it cannot move to ${to}.` };
}

export function canDeclareWith(status: IncidentStatus): TransitionCheck {
  return isOpen(status)
    ? { ok: true }
    : { ok: false, reason: `An incident is declared as investigating, identified or monitoring, not ${status}.` };
}

const COMPONENT_SEVERITY: Record<ComponentStatus, number> = {
  operational: 0,
  under_maintenance: 0,
  degraded_performance: 1,
  partial_outage: 2,
  major_outage: 3,
};

const IMPACT_RANK: Record<Impact, number> = { none: 0, minor: 1, major: 2, critical: 3 };

export function worstImpact(impacts: Iterable<Impact>): Impact {
  let worst: Impact = 'none';
  for (const impact of impacts) if (IMPACT_RANK[impact] > IMPACT_RANK[worst]) worst = impact;
  return worst;
}

export function worstComponentStatus(statuses: Iterable<ComponentStatus>): ComponentStatus {
  let worst: ComponentStatus = 'operational';
  let anyMaintenance = false;
  for (const s of statuses) {
    if (s === 'under_maintenance') anyMaintenance = true;
    if (COMPONENT_SEVERITY[s] > COMPONENT_SEVERITY[worst]) worst = s;
  }
  return worst === 'operational' && anyMaintenance ? 'under_maintenance' : worst;
}

/** Impact implied by component statuses, as Statuspage suggests it: degraded → minor, partial → major, major → critical. */
export function impactFromComponents(statuses: Iterable<ComponentStatus>): Impact {
  const worst = worstComponentStatus(statuses);
  if (worst === 'major_outage') return 'critical';
  if (worst === 'partial_outage') return 'major';
  if (worst === 'degraded_performance') return 'minor';
  return 'none';
}

/**
 * The page's overall indicator: the worst impact among open public incidents, and never calmer
 * than the components themselves show (a component in major outage means at least "major").
 */
export function computeIndicator(openImpacts: Iterable<Impact>, componentStatuses: Iterable<ComponentStatus>): Indicator {
  const fromComponents = (() => {
    const worst = worstComponentStatus(componentStatuses);
    if (worst === 'major_outage') return 'major' as const;
    if (worst === 'partial_outage' || worst === 'degraded_performance') return 'minor' as const;
    return 'none' as const;
  })();
  return worstImpact([...openImpacts, fromComponents]);
}

export const INDICATOR_DESCRIPTIONS: Record<Indicator, string> = {
  none: 'All Systems Operational',
  minor: 'Minor Service Outage',
  major: 'Partial System Outage',
  critical: 'Major Service Outage',
};

export function outageChannel(kind: ComponentKind): OutageChannel {
  switch (kind) {
    case 'cdn':
      return 'CDN';
    case 'auth':
      return 'Auth';
    case 'third_party':
      return 'Third-party';
    default:
      return 'API';
  }
}

export type Scope = 'global' | string[];

export function describeScope(scope: Scope): string {
  return scope === 'global' ? 'global' : `regions: ${scope.join(', ')}`;
}

export const STATUS_LABELS: Record<IncidentStatus, string> = {
  investigating: 'Investigating',
  identified: 'Identified',
  monitoring: 'Monitoring',
  resolved: 'Resolved',
  postmortem: 'Postmortem',
};

export const COMPONENT_STATUS_LABELS: Record<ComponentStatus, string> = {
  operational: 'Operational',
  degraded_performance: 'Degraded performance',
  partial_outage: 'Partial outage',
  major_outage: 'Major outage',
  under_maintenance: 'Under maintenance',
};
