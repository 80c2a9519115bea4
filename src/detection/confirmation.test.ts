import { describe, expect, test } from 'vitest';
import {
  applyResult,
  type ConfirmationPolicy,
  DEFAULT_POLICY,
  initialState,
  isFlapping,
  type MonitorState,
} from './confirmation.js';

function run(results: Array<boolean | 'slow'>, policy: ConfirmationPolicy = DEFAULT_POLICY, start = 0) {
  let state: MonitorState = initialState(start);
  const trail: string[] = [];
  results.forEach((r, i) => {
    const out = applyResult(state, { ok: r !== false, degraded: r === 'slow', at: start + (i + 1) * 10_000 }, policy);
    state = out.next;
    trail.push(out.transition ? `${state.state}!` : state.state);
  });
  return { state, trail };
}

describe('confirming a monitor state from check results', () => {
  test('one failure is pending; two in a row are down; the first failure time is kept', () => {
    const { state, trail } = run([true, false, false, false]);
    expect(trail).toEqual(['up', 'pending', 'down!', 'down']);
    expect(state.firstFailureAt).toBe(20_000);
  });

  test('a single flaky failure never alerts', () => {
    expect(run([false, true, false, true, false, true]).trail).toEqual(['pending', 'up', 'pending', 'up', 'pending', 'up']);
  });

  test('back up only after M successes in a row; a failure while recovering is down again', () => {
    expect(run([false, false, true, false, true, true]).trail).toEqual([
      'pending',
      'down!',
      'recovering',
      'down',
      'recovering',
      'up!',
    ]);
  });

  test('slow but successful results are up and degraded', () => {
    const { state } = run([true, 'slow']);
    expect([state.state, state.degraded]).toEqual(['up', true]);
  });

  test('N = 1 and M = 1 confirm at once', () => {
    const policy = { ...DEFAULT_POLICY, failuresToDown: 1, successesToUp: 1 };
    expect(run([false, true], policy).trail).toEqual(['down!', 'up!']);
  });

  test('flap damping: a monitor that keeps flipping needs twice the successes to come back', () => {
    const { state, trail } = run([false, false, true, true, false, false, true, true, false, false, true, true, true, true]);
    expect(trail.slice(0, 8)).toEqual(['pending', 'down!', 'recovering', 'up!', 'pending', 'down!', 'recovering', 'up!']);
    expect(isFlapping(state, 140_000, DEFAULT_POLICY)).toBe(true);
    // The third outage: 4 transitions in the window, so 4 successes are needed instead of 2.
    expect(trail.slice(8)).toEqual(['pending', 'down!', 'recovering', 'recovering', 'recovering', 'up!']);
  });
});
