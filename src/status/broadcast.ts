/**
 * Publish once, everywhere: the rules that decide whether one update may go out on every surface
 * at once (status page, feeds, banner, subscribers, internal Slack, social). Pure functions over
 * what each surface would say after the update. The banner and feeds are built from the same
 * record as the status page, so they cannot disagree with it; what can disagree is the update's
 * own statement (resolved while a component it names stays down) and the words of each channel.
 */
import type { ComponentStatus, IncidentStatus } from '../incidents/incident.js';
import type { ChannelRendering } from '../messaging/update-renderer.js';

export interface SurfacePlan {
  incident: { name: string; status: IncidentStatus; drill: boolean };
  /** The incident's components as the status page would show them after the update. */
  components: Array<{ name: string; status: ComponentStatus; given: boolean }>;
  /** Channels this update would be sent or shown on, with their rendering. */
  channels: Array<{ surface: Surface; enabled: boolean; rendering: ChannelRendering | undefined }>;
}

export const SURFACES = ['status_page', 'banner', 'subscribers_email', 'subscribers_sms', 'slack', 'social'] as const;
export type Surface = (typeof SURFACES)[number];

export const SURFACE_LABELS: Record<Surface, string> = {
  status_page: 'Status page and feeds',
  banner: 'Showroom banner',
  subscribers_email: 'Email subscribers',
  subscribers_sms: 'SMS subscribers',
  slack: 'Internal Slack',
  social: 'Social post',
};

/** The template that renders each surface's words. */
export const SURFACE_TEMPLATES: Record<Surface, string> = {
  status_page: 'status.notice',
  banner: 'banner.notice',
  subscribers_email: 'email.status_update',
  subscribers_sms: 'sms.status_update',
  slack: 'slack.update',
  social: 'social.post',
};

export interface Problem {
  /** error: the update is refused; warning: shown, publishing still allowed. */
  level: 'error' | 'warning';
  code: string;
  surface: Surface | null;
  message: string;
}

/** Surfaces that show the update's own text (the others send a message rendered from a template). */
export const SHOWN: ReadonlySet<Surface> = new Set(['status_page', 'banner']);

const OPEN: ReadonlySet<IncidentStatus> = new Set(['investigating', 'identified', 'monitoring']);

/** Every disagreement between surfaces this update would cause. Errors refuse the update. */
export function checkConsistency(plan: SurfacePlan): Problem[] {
  const problems: Problem[] = [];
  const { incident } = plan;
  const stillDown = plan.components.filter((c) => c.status !== 'operational' && c.status !== 'under_maintenance');

  if (!OPEN.has(incident.status)) {
    // Resolved on the status page while a component of it would still show an outage there.
    for (const c of stillDown.filter((c) => c.given)) {
      problems.push({
        level: 'error',
        code: 'resolved_but_down',
        surface: 'status_page',
        message: `The update says resolved while ${c.name} would still show ${words(c.status)} on the status page.`,
      });
    }
  } else if (plan.components.length > 0 && stillDown.length === 0 && incident.status !== 'monitoring') {
    problems.push({
      level: 'warning',
      code: 'open_but_operational',
      surface: 'status_page',
      message: `Every component shows operational while the incident says ${incident.status}: the banner stays up with nothing down. Consider "monitoring".`,
    });
  }
  for (const channel of plan.channels) {
    if (!channel.enabled) continue;
    const label = SURFACE_LABELS[channel.surface];
    const r = channel.rendering;
    if (!r) continue;
    if (!r.ok) {
      // The status page and banner show the update as written; their template is a suggestion.
      if (SHOWN.has(channel.surface)) continue;
      problems.push({
        level: 'error',
        code: 'channel_unrenderable',
        surface: channel.surface,
        message: `${label}: ${r.error.message}`,
      });
      continue;
    }
    const text = `${r.content.subject ?? ''}\n${r.content.text}`;
    if (!OPEN.has(incident.status) && r.factsShown.includes('next_update_at')) {
      problems.push({
        level: 'warning',
        code: 'next_update_after_resolution',
        surface: channel.surface,
        message: `${label} promises a next update although the incident is resolved.`,
      });
    }
    if (r.facts.social && r.facts.social.over_by > 0) {
      problems.push({
        level: 'error',
        code: 'over_limit',
        surface: channel.surface,
        message: `${label} is ${r.facts.social.over_by} characters over the ${r.facts.social.limit}-character limit.`,
      });
    }
    if (r.facts.sms && r.facts.sms.segments > 3) {
      problems.push({
        level: 'warning',
        code: 'sms_long',
        surface: channel.surface,
        message: `${label} takes ${r.facts.sms.segments} SMS parts (${r.facts.sms.encoding}); a shorter message costs less and reads better.`,
      });
    }
    if (text.trim() === '') {
      problems.push({ level: 'error', code: 'empty', surface: channel.surface, message: `${label} would be empty.` });
    }
  }
  return problems;
}

export function refuses(problems: readonly Problem[]): boolean {
  return problems.some((p) => p.level === 'error');
}

function words(status: ComponentStatus): string {
  return status.replace(/_/g, ' ');
}
