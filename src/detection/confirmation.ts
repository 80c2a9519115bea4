/**
 * Confirmation of a monitor's state in one region, from its check results: one failed probe is
 * "pending", N in a row are "down"; once down, M successes in a row are needed to be "up" again
 * (through "recovering"). A monitor that keeps flipping needs twice as many successes to come
 * back (flap damping), so a flaky origin raises one incident, not ten.
 */
export type ConfirmedState = 'up' | 'pending' | 'down' | 'recovering';

export interface MonitorState {
  state: ConfirmedState;
  failStreak: number;
  okStreak: number;
  degraded: boolean;
  /** First failure of the current failing streak (detection time). */
  firstFailureAt: number | null;
  changedAt: number;
  /** Times of recent down/up transitions, for flap damping. */
  flaps: number[];
}

export interface ConfirmationPolicy {
  failuresToDown: number;
  successesToUp: number;
  /** Transitions within this window count towards flapping. */
  flapWindowMs: number;
  /** This many transitions within the window: flapping. */
  flapThreshold: number;
}

export const DEFAULT_POLICY: ConfirmationPolicy = {
  failuresToDown: 2,
  successesToUp: 2,
  flapWindowMs: 30 * 60_000,
  flapThreshold: 4,
};

export function initialState(at: number): MonitorState {
  return { state: 'up', failStreak: 0, okStreak: 0, degraded: false, firstFailureAt: null, changedAt: at, flaps: [] };
}

export function isFlapping(state: MonitorState, at: number, policy: ConfirmationPolicy): boolean {
  return state.flaps.filter((t) => at - t <= policy.flapWindowMs).length >= policy.flapThreshold;
}

/** The next state after one result; `transition` says when it became down or up (confirmed). */
export function applyResult(
  prev: MonitorState,
  result: { ok: boolean; degraded: boolean; at: number },
  policy: ConfirmationPolicy,
): { next: MonitorState; transition: 'down' | 'up' | null } {
  const flaps = prev.flaps.filter((t) => result.at - t <= policy.flapWindowMs);
  const successesToUp = policy.successesToUp * (isFlapping(prev, result.at, policy) ? 2 : 1);
  const base = { ...prev, flaps, degraded: result.ok && result.degraded };
  if (result.ok) {
    const okStreak = prev.okStreak + 1;
    switch (prev.state) {
      case 'up':
        return { next: { ...base, okStreak, failStreak: 0 }, transition: null };
      case 'pending':
        return {
          next: { ...base, state: 'up', okStreak, failStreak: 0, firstFailureAt: null, changedAt: result.at },
          transition: null,
        };
      case 'down':
      case 'recovering':
        if (okStreak >= successesToUp) {
          return {
            next: {
              ...base,
              state: 'up',
              okStreak,
              failStreak: 0,
              firstFailureAt: null,
              changedAt: result.at,
              flaps: [...flaps, result.at],
            },
            transition: 'up',
          };
        }
        return {
          next: {
            ...base,
            state: 'recovering',
            okStreak,
            failStreak: 0,
            changedAt: prev.state === 'down' ? result.at : prev.changedAt,
          },
          transition: null,
        };
    }
  }
  const failStreak = prev.failStreak + 1;
  const firstFailureAt = prev.firstFailureAt ?? result.at;
  switch (prev.state) {
    case 'up':
    case 'pending':
      if (failStreak >= policy.failuresToDown) {
        return {
          next: {
            ...base,
            state: 'down',
            failStreak,
            okStreak: 0,
            firstFailureAt,
            changedAt: result.at,
            flaps: [...flaps, result.at],
          },
          transition: 'down',
        };
      }
      return {
        next: {
          ...base,
          state: 'pending',
          failStreak,
          okStreak: 0,
          firstFailureAt,
          changedAt: prev.state === 'up' ? result.at : prev.changedAt,
        },
        transition: null,
      };
    case 'down':
    case 'recovering':
      return {
        next: {
          ...base,
          state: 'down',
          failStreak,
          okStreak: 0,
          firstFailureAt,
          changedAt: prev.state === 'recovering' ? result.at : prev.changedAt,
        },
        transition: null,
      };
  }
}
