/**
 * The update drafter: a first draft of the next public update from the incident's facts, through
 * legal's approved skeleton templates. Pure and deterministic: the same facts give the same text.
 * A draft is only ever a suggestion; a person publishes it (or, with holding updates on, the
 * cadence publishes its own pre-approved text, not a draft).
 */
import { AppError } from '../../core/errors.js';
import {
  COMPONENT_STATUS_LABELS,
  type ComponentStatus,
  describeScope,
  type IncidentStatus,
  type Scope,
} from '../../incidents/incident.js';
import { type RenderSource, renderTemplate } from '../../messaging/render.js';

export const DRAFT_STATUSES = ['investigating', 'identified', 'monitoring', 'resolved'] as const;
export type DraftStatus = (typeof DRAFT_STATUSES)[number];

export function skeletonKey(status: DraftStatus): string {
  return `status.draft_${status}`;
}

export interface ComponentChangeFact {
  name: string;
  from: ComponentStatus | null;
  to: ComponentStatus;
}

/** Everything a draft may say, as plain data (shown to the person next to the draft). */
export interface DraftFacts {
  incident_name: string;
  /** The status the update will announce. */
  status: DraftStatus;
  /** The incident's status now. */
  current_status: IncidentStatus;
  status_changed: boolean;
  components: Array<{ name: string; status: ComponentStatus }>;
  scope: Scope;
  started_at: string;
  /** Whole minutes from the start of the outage to the draft. */
  duration_minutes: number;
  /** Component status changes since the last public update (null: no update published yet). */
  changes_since_last_update: ComponentChangeFact[] | null;
  last_update_at: string | null;
  fallback_url: string | null;
  /** When the next update is promised (null once resolved). */
  next_update_at: string | null;
}

export type DraftSource = 'template' | 'builtin' | 'llm';

export interface Draft {
  text: string;
  source: DraftSource;
  /** Why the draft is not what was asked for (skeleton not approved, the LLM's answer refused, …). */
  fallback_reason?: string;
  skeleton: { key: string; version: number } | null;
}

/** "25 min", "1 h 5 min", "2 d 3 h". */
export function formatDuration(minutes: number): string {
  const m = Math.max(0, Math.round(minutes));
  if (m < 60) return `${m} min`;
  if (m < 24 * 60) return `${Math.floor(m / 60)} h${m % 60 ? ` ${m % 60} min` : ''}`;
  const hours = Math.floor(m / 60);
  return `${Math.floor(hours / 24)} d${hours % 24 ? ` ${hours % 24} h` : ''}`;
}

function label(status: ComponentStatus): string {
  return (COMPONENT_STATUS_LABELS[status] ?? status).toLowerCase();
}

function joinNames(names: readonly string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** "eu-west and us-east" or "all regions". */
export function describeAudience(scope: Scope): string {
  return scope === 'global' ? 'all regions' : `visitors in ${joinNames(scope)}`;
}

export function describeChanges(facts: DraftFacts): string {
  const changes = facts.changes_since_last_update;
  const parts: string[] = [];
  if (changes === null) parts.push('This is our first update on it.');
  else if (changes.length === 0) parts.push('Nothing has changed for the affected services since our last update.');
  else {
    const moves = changes.map((c) =>
      c.from === null ? `${c.name} is now affected (${label(c.to)})` : `${c.name} went from ${label(c.from)} to ${label(c.to)}`,
    );
    parts.push(`Since our last update, ${joinNames(moves)}.`);
  }
  return parts.join(' ');
}

/** The template variables of a draft: every one non-empty (strict rendering refuses empty values). */
export function draftVariables(facts: DraftFacts): Record<string, string> {
  const components = [...facts.components].sort((a, b) => a.name.localeCompare(b.name));
  const vars: Record<string, string> = {
    incident_name: facts.incident_name,
    status: facts.status,
    components_summary:
      components.length > 0 ? components.map((c) => `${c.name} (${label(c.status)})`).join(', ') : 'parts of our showroom',
    component_names: components.length > 0 ? joinNames(components.map((c) => c.name)) : 'all services',
    scope_summary: describeAudience(facts.scope),
    duration: formatDuration(facts.duration_minutes),
    changes_summary: describeChanges(facts),
  };
  if (facts.fallback_url) vars.fallback_url = facts.fallback_url;
  if (facts.next_update_at) vars.next_update_at = facts.next_update_at;
  return vars;
}

/** "10:30 UTC": how a next update time reads in every draft (and what an LLM answer must keep). */
export function clockTime(iso: string): string {
  return `${iso.slice(11, 16)} UTC`;
}

/** The built-in neutral draft, used when no approved skeleton can render. Plain facts, no promises beyond them. */
export function neutralDraft(facts: DraftFacts): string {
  const vars = draftVariables(facts);
  const lines: string[] = [];
  if (facts.status === 'resolved') {
    lines.push(`${facts.incident_name}: resolved after ${vars.duration}.`);
  } else {
    lines.push(`${facts.incident_name}: ${facts.status}. Affected: ${vars.components_summary} (${describeScope(facts.scope)}).`);
  }
  lines.push(vars.changes_summary as string);
  if (facts.fallback_url && facts.status !== 'resolved') lines.push(`Catalog and spec sheets: ${facts.fallback_url}`);
  if (facts.next_update_at) lines.push(`Next update by ${clockTime(facts.next_update_at)}.`);
  return lines.join('\n');
}

/**
 * The deterministic draft: the approved skeleton for the status rendered with the facts, or the
 * built-in neutral text (marked, with the reason) when the skeleton is missing or cannot render.
 */
export function draftUpdate(facts: DraftFacts, skeleton: (RenderSource & { version: number }) | { missing: string }): Draft {
  if ('missing' in skeleton) {
    return { text: neutralDraft(facts), source: 'builtin', fallback_reason: skeleton.missing, skeleton: null };
  }
  try {
    const rendered = renderTemplate(skeleton, draftVariables(facts));
    return { text: rendered.text, source: 'template', skeleton: { key: skeleton.key, version: skeleton.version } };
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    return {
      text: neutralDraft(facts),
      source: 'builtin',
      fallback_reason: `${skeleton.key} could not be rendered: ${err.message}`,
      skeleton: null,
    };
  }
}

export const MAX_LLM_ANSWER = 1000;

/**
 * Whether an LLM's answer may stand in for the deterministic draft: null if it may, otherwise the
 * reason it may not (empty, too long, template syntax, a dropped fallback URL or next update time).
 */
export function checkLlmAnswer(answer: string, facts: DraftFacts): string | null {
  const text = answer.trim();
  if (!text) return 'the answer was empty';
  if (text.length > MAX_LLM_ANSWER) return `the answer was ${text.length} characters (at most ${MAX_LLM_ANSWER})`;
  if (text.includes('{{') || text.includes('{%')) return 'the answer contained template syntax';
  if (facts.fallback_url && !text.includes(facts.fallback_url)) return 'the answer dropped the fallback URL';
  if (facts.next_update_at && !text.includes(clockTime(facts.next_update_at).slice(0, 5))) {
    return 'the answer dropped the next update time';
  }
  return null;
}

/** The chat messages sent to an OpenAI-compatible endpoint. */
export function llmMessages(facts: DraftFacts, baseline: string): Array<{ role: 'system' | 'user'; content: string }> {
  const keep: string[] = [];
  if (facts.fallback_url) keep.push(`the fallback URL ${facts.fallback_url} exactly as written`);
  if (facts.next_update_at) keep.push(`the next update time "${clockTime(facts.next_update_at)}"`);
  return [
    {
      role: 'system',
      content: [
        'You draft public status-page updates for a B2B online showroom during an outage.',
        'Write plain text for buyers: calm, factual, no blame, no guesses about causes or times that are not in the facts.',
        `At most ${Math.floor(MAX_LLM_ANSWER * 0.6)} characters. Answer with the update text only.`,
        keep.length > 0 ? `Always keep ${keep.join(' and ')}.` : '',
      ]
        .filter(Boolean)
        .join(' '),
    },
    {
      role: 'user',
      content: `Facts (JSON):\n${JSON.stringify(facts, null, 2)}\n\nA template draft to improve on:\n${baseline}`,
    },
  ];
}
