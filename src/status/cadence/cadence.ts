/**
 * Update cadence: pure rules over plain numbers (epoch milliseconds). Given when an incident was
 * declared, when its public updates went out and when it was resolved, say when the next update
 * is due, when to remind the commander, when to escalate, and how well the cadence was kept.
 *
 * - Acknowledgement: the first public update is due `acknowledgeMinutes` after declaration; it is
 *   met when that update is at or before the deadline.
 * - After every public update the next one is due `targetMinutes` later (the team's aim) and
 *   promised `promiseMinutes` later (what the public is told).
 * - Reminders go `remindMinutesBefore` ahead of each due time; the deadline that escalates (or
 *   publishes a holding update) is the acknowledgement deadline, then the promise.
 * - A gap is the time between consecutive public updates, and, while the incident is open, from
 *   the last update to now (after resolution the resolving update closes the last gap). A gap
 *   longer than the promise is a late update.
 */

export interface CadenceRules {
  acknowledgeMs: number;
  promiseMs: number;
  targetMs: number;
  remindBeforeMs: number;
}

/** The config block (minutes) as rules (milliseconds). */
export function cadenceRules(config: {
  acknowledgeMinutes: number;
  promiseMinutes: number;
  targetMinutes: number;
  remindMinutesBefore: number;
}): CadenceRules {
  return {
    acknowledgeMs: config.acknowledgeMinutes * 60_000,
    promiseMs: config.promiseMinutes * 60_000,
    targetMs: config.targetMinutes * 60_000,
    remindBeforeMs: config.remindMinutesBefore * 60_000,
  };
}

export interface CadenceInput {
  declaredAt: number;
  /** Times of the public updates, any order. */
  updates: readonly number[];
  /** When the incident was resolved (null while open). */
  resolvedAt: number | null;
}

/** What a check is about: the first update (acknowledgement), the team's target, or the promise. */
export type DueKind = 'acknowledge' | 'target' | 'promise';

export interface PlannedCheck {
  /** When the check runs. */
  at: number;
  /** remind: tell the commander; deadline: escalate or publish a holding update. */
  step: 'remind' | 'deadline';
  due: DueKind;
  /** The due time this check is about; a later update moves it, which makes the check stale. */
  dueAt: number;
}

export interface CadenceFigures {
  /** First public update − declaration; null before the first update. */
  ackMs: number | null;
  /** Longest gap between consecutive public updates, and from the last one to now while open. */
  longestGapMs: number | null;
  /** Gaps longer than the promise (an open gap counts once it has passed the promise). */
  lateUpdates: number;
  /** Number of gaps measured. */
  gaps: number;
}

export interface CadenceState {
  open: boolean;
  acknowledgeBy: number;
  acknowledgedAt: number | null;
  /** Whether the first update came at or before the deadline (null: not yet, and not yet late). */
  acknowledgedInTime: boolean | null;
  lastUpdateAt: number | null;
  /** The team's target for the next update (null when resolved). */
  nextUpdateDueAt: number | null;
  /** The public promise for the next update (null when resolved). */
  promisedBy: number | null;
  /** Whether the current deadline has passed with no update. */
  overdue: boolean;
  /** The checks the current state calls for (past ones included; the caller skips those). */
  checks: PlannedCheck[];
  figures: CadenceFigures;
}

function sortedUpdates(updates: readonly number[]): number[] {
  return [...updates].sort((a, b) => a - b);
}

/**
 * The checks the current state calls for. Before the first update: a reminder and the
 * acknowledgement deadline. After it: reminders before the target and the promise, and the
 * promise deadline. None once resolved. A reminder that would fall on or after its own deadline
 * (no lead time) or before the update it follows is left out.
 */
export function plannedChecks(input: CadenceInput, rules: CadenceRules): PlannedCheck[] {
  if (input.resolvedAt !== null) return [];
  const updates = sortedUpdates(input.updates);
  const last = updates[updates.length - 1];
  const checks: PlannedCheck[] = [];
  const remind = (due: DueKind, dueAt: number, from: number, isDeadline: boolean) => {
    const at = dueAt - rules.remindBeforeMs;
    // A reminder needs lead time before a deadline; the target has no deadline, so it may coincide.
    if (at > from && (rules.remindBeforeMs > 0 || !isDeadline)) checks.push({ at, step: 'remind', due, dueAt });
  };
  if (last === undefined) {
    const dueAt = input.declaredAt + rules.acknowledgeMs;
    remind('acknowledge', dueAt, input.declaredAt, true);
    checks.push({ at: dueAt, step: 'deadline', due: 'acknowledge', dueAt });
    return checks;
  }
  const target = last + rules.targetMs;
  const promise = last + rules.promiseMs;
  if (target < promise) remind('target', target, last, false);
  remind('promise', promise, last, true);
  checks.push({ at: promise, step: 'deadline', due: 'promise', dueAt: promise });
  return checks.sort((a, b) => a.at - b.at || (a.step === 'remind' ? -1 : 1));
}

/** Whether a check scheduled earlier still stands (same step, kind and due time in the current plan). */
export function isCurrentCheck(check: Omit<PlannedCheck, 'at'>, input: CadenceInput, rules: CadenceRules): boolean {
  return plannedChecks(input, rules).some((c) => c.step === check.step && c.due === check.due && c.dueAt === check.dueAt);
}

/** Acknowledgement time, longest gap and late updates of one incident, as of `now`. */
export function cadenceFigures(input: CadenceInput, rules: CadenceRules, now: number): CadenceFigures {
  const updates = sortedUpdates(input.updates);
  const first = updates[0];
  const gaps: number[] = [];
  for (let i = 1; i < updates.length; i++) gaps.push((updates[i] as number) - (updates[i - 1] as number));
  const last = updates[updates.length - 1];
  if (input.resolvedAt === null) {
    // While open, the time since the last update (or since declaration, before any) is a gap too.
    gaps.push(Math.max(0, now - (last ?? input.declaredAt)));
  } else if (last !== undefined && input.resolvedAt > last) {
    // Resolved without an update at resolution (imported history): the silence until then counts.
    gaps.push(input.resolvedAt - last);
  }
  const measured = last === undefined && input.resolvedAt === null ? [] : gaps;
  return {
    ackMs: first === undefined ? null : first - input.declaredAt,
    longestGapMs: measured.length > 0 ? Math.max(...measured) : null,
    lateUpdates: measured.filter((g) => g > rules.promiseMs).length,
    gaps: measured.length,
  };
}

/** Everything the console, the API and the jobs need about one incident's cadence at `now`. */
export function cadenceState(input: CadenceInput, rules: CadenceRules, now: number): CadenceState {
  const updates = sortedUpdates(input.updates);
  const first = updates[0] ?? null;
  const last = updates[updates.length - 1] ?? null;
  const open = input.resolvedAt === null;
  const acknowledgeBy = input.declaredAt + rules.acknowledgeMs;
  const nextUpdateDueAt = open ? (last === null ? acknowledgeBy : last + rules.targetMs) : null;
  const promisedBy = open ? (last === null ? acknowledgeBy : last + rules.promiseMs) : null;
  return {
    open,
    acknowledgeBy,
    acknowledgedAt: first,
    acknowledgedInTime: first !== null ? first <= acknowledgeBy : now > acknowledgeBy ? false : null,
    lastUpdateAt: last,
    nextUpdateDueAt,
    promisedBy,
    overdue: promisedBy !== null && now > promisedBy,
    checks: plannedChecks(input, rules),
    figures: cadenceFigures(input, rules, now),
  };
}

/**
 * Replay a history with holding updates: real updates at their times; whenever the promise would
 * pass with no update (and the incident is still open), a holding update goes out at the
 * deadline, exactly as the `cadence.check` job does. Returns the times of the inserted holding
 * updates. `endAt` is when the incident stopped needing updates (its resolution, or its last
 * update when it has no resolution time).
 */
export function replayWithHoldingUpdates(
  input: { declaredAt: number; updates: readonly number[]; endAt: number },
  rules: CadenceRules,
): number[] {
  const real = sortedUpdates(input.updates);
  const published: number[] = [];
  const holding: number[] = [];
  let next = 0;
  for (let guard = 0; guard < 1_000_000; guard++) {
    const state: CadenceInput = { declaredAt: input.declaredAt, updates: published, resolvedAt: null };
    const deadline = plannedChecks(state, rules).find((c) => c.step === 'deadline');
    const upcoming = real[next];
    if (upcoming !== undefined && (deadline === undefined || upcoming <= deadline.at)) {
      published.push(upcoming);
      next++;
      continue;
    }
    if (deadline === undefined || deadline.at >= input.endAt) break;
    published.push(deadline.at);
    holding.push(deadline.at);
  }
  return holding;
}
