import type { OutageChannel } from '../incidents/incident.js';
import type { ChecklistItemDefinition, Playbook, PlaybookAction, Trigger } from './playbook.js';

/**
 * The playbook engine's rules, pure: which checklist an incident gets, which timeline events
 * complete which items, which automatic actions a timeline calls for. The service applies the
 * plan (rows, timeline entries, jobs); everything here is a function of plain data, so replaying
 * the same events always gives the same plan and nothing already done is planned again.
 */

/** What the engine knows about an incident. */
export interface IncidentFacts {
  id: string;
  declaredAt: number;
  resolvedAt: number | null;
  drill: boolean;
  /** The outage channels of the components it affects. */
  channels: readonly OutageChannel[];
}

/** A timeline event, as the engine sees it. */
export interface EngineEvent {
  id: string;
  type: string;
  at: number;
  data: Record<string, unknown>;
}

/** One checklist row of an incident. */
export interface ChecklistState {
  itemId: string;
  state: 'open' | 'done';
  dueAfter: number | null;
  dueFrom: 'declared' | 'resolved';
  dueAt: number | null;
  completeOn: readonly Trigger[];
}

export interface NewChecklistItem extends ChecklistState {
  position: number;
  title: string;
  role: string;
}

export interface PlannedAction {
  rule: string;
  actionIndex: number;
  action: PlaybookAction;
  event: EngineEvent;
}

export interface ReconcilePlan {
  /** Open items a timeline event completes (the first matching event). */
  completions: Array<{ itemId: string; event: EngineEvent }>;
  /** Deadlines that became known (counted from the resolution). */
  deadlines: Array<{ itemId: string; dueAt: number }>;
  /** Actions whose rule matched an event and that were not taken yet. */
  actions: PlannedAction[];
}

/** Does `event` of this incident match the trigger? */
export function triggerMatches(trigger: Trigger, event: EngineEvent, incident: IncidentFacts): boolean {
  if (event.type !== trigger.event) return false;
  if (trigger.drill !== undefined && trigger.drill !== incident.drill) return false;
  if (trigger.channel && !trigger.channel.some((c) => incident.channels.includes(c))) return false;
  for (const [field, want] of Object.entries(trigger.data ?? {})) {
    const got = event.data[field];
    if (want === '*') {
      if (got === undefined || got === null) return false;
    } else if (got !== want) return false;
  }
  return true;
}

/** An item's deadline for this incident (null: none yet). */
export function dueAt(item: Pick<ChecklistState, 'dueAfter' | 'dueFrom'>, incident: IncidentFacts): number | null {
  if (item.dueAfter === null) return null;
  const from = item.dueFrom === 'declared' ? incident.declaredAt : incident.resolvedAt;
  return from === null ? null : from + item.dueAfter;
}

/** The checklist a newly declared incident gets: the playbook's items, in order. */
export function newChecklist(playbook: Playbook, incident: IncidentFacts): NewChecklistItem[] {
  return playbook.checklist.map((item: ChecklistItemDefinition, position) => {
    const base = { dueAfter: item.due ?? null, dueFrom: item.from };
    return {
      itemId: item.id,
      position,
      title: item.title,
      role: item.role,
      state: 'open' as const,
      ...base,
      dueAt: dueAt(base, incident),
      completeOn: item.completeOn,
    };
  });
}

/** The key of one action taken for one triggering event: what makes a replay a no-op. */
export function actionKey(incidentId: string, rule: string, actionIndex: number, eventId: string): string {
  return `${incidentId}:${rule}:${actionIndex}:${eventId}`;
}

/**
 * What the timeline calls for now: items to complete, deadlines now known, actions to run.
 * `taken` holds the actionKey of every action already run (or being run) for this incident.
 */
export function planReconcile(input: {
  playbook: Playbook;
  incident: IncidentFacts;
  events: readonly EngineEvent[];
  checklist: readonly ChecklistState[];
  taken: ReadonlySet<string>;
}): ReconcilePlan {
  const { playbook, incident, events, checklist, taken } = input;
  const ordered = [...events].sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const completions: ReconcilePlan['completions'] = [];
  const deadlines: ReconcilePlan['deadlines'] = [];
  for (const item of checklist) {
    if (item.state === 'open' && item.completeOn.length > 0) {
      const event = ordered.find((e) => item.completeOn.some((t) => triggerMatches(t, e, incident)));
      if (event) completions.push({ itemId: item.itemId, event });
    }
    const due = dueAt(item, incident);
    if (item.dueAt === null && due !== null) deadlines.push({ itemId: item.itemId, dueAt: due });
  }
  const actions: PlannedAction[] = [];
  for (const rule of playbook.rules) {
    for (const event of ordered) {
      if (!triggerMatches(rule.when, event, incident)) continue;
      rule.actions.forEach((action, actionIndex) => {
        if (!taken.has(actionKey(incident.id, rule.name, actionIndex, event.id))) {
          actions.push({ rule: rule.name, actionIndex, action, event });
        }
      });
    }
  }
  return { completions, deadlines, actions };
}

/** A short human description of an action, for the timeline. */
export function describeAction(action: PlaybookAction, fallbackFlag: string): string {
  switch (action.action) {
    case 'acknowledge':
      return `acknowledge publicly${action.template ? ` (${action.template})` : ''}`;
    case 'enable_fallback':
      return `enable the fallback (${fallbackFlag} on)`;
    case 'flip_flag':
      return action.value === null ? `clear the pin on ${action.flag}` : `set ${action.flag} to ${JSON.stringify(action.value)}`;
    case 'tag_crm':
      return 'tag the pipeline in the CRM';
    case 'notify':
      return `notify ${action.role} by ${action.via} (${action.template})`;
  }
}
