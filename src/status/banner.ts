import type { ComponentStatus, Impact, IncidentStatus } from '../incidents/incident.js';
import type { StatuspageDocuments } from '../incidents/statuspage.js';

/**
 * The banner document (`banner.json`): what the showroom's embedded script shows. Published with
 * the status page to every static target and served live at `/status/banner.json`. The shape is
 * a public contract (web/sdk reads it); add fields, never rename them.
 */
export interface BannerDocument {
  /** Bumped when the shape changes incompatibly. */
  version: 1;
  /** True while an incident is open: the SDK shows the banner. */
  active: boolean;
  /** Changes whenever the banner's content changes (the SDK's dismissal is per id). */
  id: string;
  indicator: Impact;
  /** The open incidents, most severe first (the banner shows the first). */
  incidents: BannerIncident[];
  /** One line for people: the latest public update of the most severe open incident. */
  message: string | null;
  /** Where buyers can keep browsing (the static catalog), or null. */
  fallback_url: string | null;
  /** The status page. */
  status_url: string;
  updated_at: string;
}

export interface BannerIncident {
  id: string;
  name: string;
  status: IncidentStatus;
  impact: Impact;
  components: Array<{ name: string; status: ComponentStatus }>;
  /** The latest public update's text and time. */
  latest_update: { body: string; at: string } | null;
  /** When the next public update is promised, when known. */
  next_update_at: string | null;
}

const IMPACT_RANK: Record<Impact, number> = { none: 0, minor: 1, major: 2, critical: 3 };

export interface BannerOptions {
  statusUrl: string;
  fallbackUrl: string | null;
  /** Next promised update per incident id (from the cadence), when known. */
  nextUpdateAt?: ReadonlyMap<string, string>;
}

/** The banner for a Statuspage summary: pure, deterministic. */
export function buildBanner(summary: StatuspageDocuments['summary.json'], options: BannerOptions): BannerDocument {
  const open = summary.incidents
    .filter((i) => i.status !== 'resolved' && i.status !== 'postmortem')
    .sort((a, b) => IMPACT_RANK[b.impact] - IMPACT_RANK[a.impact] || a.created_at.localeCompare(b.created_at));
  const incidents: BannerIncident[] = open.map((i) => {
    const latest = i.incident_updates[0] ?? null;
    return {
      id: i.id,
      name: i.name,
      status: i.status,
      impact: i.impact,
      components: i.components.map((c) => ({ name: c.name, status: c.status })),
      latest_update: latest ? { body: latest.body, at: latest.display_at } : null,
      next_update_at: options.nextUpdateAt?.get(i.id) ?? null,
    };
  });
  const first = incidents[0];
  const message = first ? (first.latest_update?.body ?? first.name) : null;
  const id = first ? `${first.id}:${first.latest_update?.at ?? 'declared'}` : 'none';
  return {
    version: 1,
    active: incidents.length > 0,
    id,
    indicator: summary.status.indicator,
    incidents,
    message,
    fallback_url: incidents.length > 0 ? options.fallbackUrl : null,
    status_url: options.statusUrl,
    updated_at: summary.page.updated_at,
  };
}
