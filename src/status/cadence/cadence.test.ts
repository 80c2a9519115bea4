import { describe, expect, test } from 'vitest';
import {
  cadenceFigures,
  cadenceRules,
  cadenceState,
  isCurrentCheck,
  plannedChecks,
  replayWithHoldingUpdates,
} from './cadence.js';

const M = 60_000;
const rules = cadenceRules({ acknowledgeMinutes: 15, promiseMinutes: 60, targetMinutes: 30, remindMinutesBefore: 5 });

describe('planned checks', () => {
  test('before the first update: a reminder at 10 min and the acknowledgement deadline at 15 min', () => {
    expect(plannedChecks({ declaredAt: 0, updates: [], resolvedAt: null }, rules)).toEqual([
      { at: 10 * M, step: 'remind', due: 'acknowledge', dueAt: 15 * M },
      { at: 15 * M, step: 'deadline', due: 'acknowledge', dueAt: 15 * M },
    ]);
  });

  test('after an update at 12 min: reminders before the target (+30) and the promise (+60), deadline at +60', () => {
    expect(plannedChecks({ declaredAt: 0, updates: [12 * M], resolvedAt: null }, rules)).toEqual([
      { at: 37 * M, step: 'remind', due: 'target', dueAt: 42 * M },
      { at: 67 * M, step: 'remind', due: 'promise', dueAt: 72 * M },
      { at: 72 * M, step: 'deadline', due: 'promise', dueAt: 72 * M },
    ]);
  });

  test('the last update counts, whatever order the times come in', () => {
    const checks = plannedChecks({ declaredAt: 0, updates: [50 * M, 5 * M, 20 * M], resolvedAt: null }, rules);
    expect(checks.at(-1)).toEqual({ at: 110 * M, step: 'deadline', due: 'promise', dueAt: 110 * M });
  });

  test('resolved incidents plan nothing', () => {
    expect(plannedChecks({ declaredAt: 0, updates: [3 * M, 40 * M], resolvedAt: 40 * M }, rules)).toEqual([]);
  });

  test('no lead time: no reminder on the deadline itself; the target still gets one at its time', () => {
    const noLead = cadenceRules({ acknowledgeMinutes: 15, promiseMinutes: 60, targetMinutes: 30, remindMinutesBefore: 0 });
    expect(plannedChecks({ declaredAt: 0, updates: [], resolvedAt: null }, noLead)).toEqual([
      { at: 15 * M, step: 'deadline', due: 'acknowledge', dueAt: 15 * M },
    ]);
    expect(plannedChecks({ declaredAt: 0, updates: [0], resolvedAt: null }, noLead).map((c) => [c.at / M, c.step])).toEqual([
      [30, 'remind'],
      [60, 'deadline'],
    ]);
  });

  test('a target at or beyond the promise adds no target reminder; a lead longer than the interval adds none', () => {
    const sameTarget = cadenceRules({ acknowledgeMinutes: 15, promiseMinutes: 60, targetMinutes: 60, remindMinutesBefore: 5 });
    expect(plannedChecks({ declaredAt: 0, updates: [0], resolvedAt: null }, sameTarget).map((c) => c.due)).toEqual([
      'promise',
      'promise',
    ]);
    const longLead = cadenceRules({ acknowledgeMinutes: 10, promiseMinutes: 60, targetMinutes: 30, remindMinutesBefore: 20 });
    expect(plannedChecks({ declaredAt: 0, updates: [], resolvedAt: null }, longLead)).toEqual([
      { at: 10 * M, step: 'deadline', due: 'acknowledge', dueAt: 10 * M },
    ]);
  });

  test('a check goes stale when an update moves its due time, or the incident is resolved', () => {
    const ackDeadline = { step: 'deadline', due: 'acknowledge', dueAt: 15 * M } as const;
    expect(isCurrentCheck(ackDeadline, { declaredAt: 0, updates: [], resolvedAt: null }, rules)).toBe(true);
    expect(isCurrentCheck(ackDeadline, { declaredAt: 0, updates: [12 * M], resolvedAt: null }, rules)).toBe(false);
    const promise = { step: 'deadline', due: 'promise', dueAt: 72 * M } as const;
    expect(isCurrentCheck(promise, { declaredAt: 0, updates: [12 * M], resolvedAt: null }, rules)).toBe(true);
    expect(isCurrentCheck(promise, { declaredAt: 0, updates: [12 * M, 50 * M], resolvedAt: null }, rules)).toBe(false);
    expect(isCurrentCheck(promise, { declaredAt: 0, updates: [12 * M], resolvedAt: 12 * M }, rules)).toBe(false);
  });
});

describe('state', () => {
  test('declared, nothing published: due at the acknowledgement deadline, overdue after it', () => {
    const input = { declaredAt: 1000, updates: [], resolvedAt: null };
    const before = cadenceState(input, rules, 1000 + 14 * M);
    expect(before).toMatchObject({
      open: true,
      acknowledgeBy: 1000 + 15 * M,
      acknowledgedAt: null,
      acknowledgedInTime: null,
      nextUpdateDueAt: 1000 + 15 * M,
      promisedBy: 1000 + 15 * M,
      overdue: false,
    });
    const after = cadenceState(input, rules, 1000 + 16 * M);
    expect(after).toMatchObject({ acknowledgedInTime: false, overdue: true });
  });

  test('acknowledged exactly at the deadline is in time; one millisecond later is not', () => {
    expect(cadenceState({ declaredAt: 0, updates: [15 * M], resolvedAt: null }, rules, 15 * M).acknowledgedInTime).toBe(true);
    expect(cadenceState({ declaredAt: 0, updates: [15 * M + 1], resolvedAt: null }, rules, 16 * M).acknowledgedInTime).toBe(
      false,
    );
  });

  test('after updates: target and promise from the last one; resolved: nothing due', () => {
    const open = cadenceState({ declaredAt: 0, updates: [12 * M, 40 * M], resolvedAt: null }, rules, 45 * M);
    expect(open).toMatchObject({ acknowledgedAt: 12 * M, lastUpdateAt: 40 * M, nextUpdateDueAt: 70 * M, promisedBy: 100 * M });
    const done = cadenceState({ declaredAt: 0, updates: [12 * M, 40 * M], resolvedAt: 40 * M }, rules, 45 * M);
    expect(done).toMatchObject({ open: false, nextUpdateDueAt: null, promisedBy: null, overdue: false, checks: [] });
  });
});

describe('figures', () => {
  test('acknowledgement time, longest gap and late updates of a resolved incident', () => {
    // Updates at 8, 50, 135 (85 min gap: late), 180 (resolution).
    const f = cadenceFigures({ declaredAt: 0, updates: [8 * M, 50 * M, 135 * M, 180 * M], resolvedAt: 180 * M }, rules, 999 * M);
    expect(f).toEqual({ ackMs: 8 * M, longestGapMs: 85 * M, lateUpdates: 1, gaps: 3 });
  });

  test('a gap of exactly the promise is not late', () => {
    const f = cadenceFigures({ declaredAt: 0, updates: [0, 60 * M, 120 * M], resolvedAt: 120 * M }, rules, 0);
    expect(f).toMatchObject({ longestGapMs: 60 * M, lateUpdates: 0 });
  });

  test('while open, the silence since the last update is a gap and turns late once past the promise', () => {
    const input = { declaredAt: 0, updates: [5 * M, 20 * M], resolvedAt: null };
    expect(cadenceFigures(input, rules, 50 * M)).toEqual({ ackMs: 5 * M, longestGapMs: 30 * M, lateUpdates: 0, gaps: 2 });
    expect(cadenceFigures(input, rules, 100 * M)).toEqual({ ackMs: 5 * M, longestGapMs: 80 * M, lateUpdates: 1, gaps: 2 });
  });

  test('resolved later than the last update (imported history): the silence until resolution counts', () => {
    const f = cadenceFigures({ declaredAt: 0, updates: [5 * M], resolvedAt: 95 * M }, rules, 0);
    expect(f).toMatchObject({ longestGapMs: 90 * M, lateUpdates: 1, gaps: 1 });
  });

  test('nothing published yet: no acknowledgement time and no gap', () => {
    expect(cadenceFigures({ declaredAt: 0, updates: [], resolvedAt: null }, rules, 30 * M)).toEqual({
      ackMs: null,
      longestGapMs: null,
      lateUpdates: 0,
      gaps: 0,
    });
  });
});

describe('replay with holding updates', () => {
  test('fills every silence longer than the promise at each deadline, and only while open', () => {
    // Real updates at 0, 30, 200 (170 min silence), resolution at 200.
    const holding = replayWithHoldingUpdates({ declaredAt: 0, updates: [0, 30 * M, 200 * M], endAt: 200 * M }, rules);
    expect(holding).toEqual([90 * M, 150 * M]);
    const all = [0, 30 * M, 200 * M, ...holding];
    expect(cadenceFigures({ declaredAt: 0, updates: all, resolvedAt: 200 * M }, rules, 0).lateUpdates).toBe(0);
  });

  test('an update exactly at the deadline needs no holding update; no first update: one at the acknowledgement deadline', () => {
    expect(replayWithHoldingUpdates({ declaredAt: 0, updates: [0, 60 * M], endAt: 60 * M }, rules)).toEqual([]);
    expect(replayWithHoldingUpdates({ declaredAt: 0, updates: [40 * M], endAt: 40 * M }, rules)).toEqual([15 * M]);
  });
});
