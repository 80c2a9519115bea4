/** Pure rules of the jobs queue (the transactional outbox). */

export type JobState = 'queued' | 'running' | 'done' | 'dead';

export interface Job<P = unknown> {
  id: string;
  kind: string;
  payload: P;
  idempotencyKey: string;
  state: JobState;
  runAt: number;
  attempts: number;
  maxAttempts: number;
  leaseToken: string | null;
  leaseExpiresAt: number | null;
  lockedBy: string | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
  finishedAt: number | null;
}

export interface BackoffPolicy {
  /** Delay before the second attempt, in ms. */
  baseMs: number;
  /** Upper bound of any delay, in ms. */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 2_000, maxMs: 60 * 60_000 };

/**
 * Delay before retrying after `attempts` failed attempts: exponential, capped, with "equal jitter"
 * (half fixed, half random) so retries from many jobs spread out but never come back too early.
 * `random` returns a number in [0, 1).
 */
export function computeBackoffMs(attempts: number, policy: BackoffPolicy, random: () => number): number {
  const exponent = Math.max(0, attempts - 1);
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(exponent, 40));
  const half = ceiling / 2;
  return Math.round(half + random() * half);
}

export type FailureDecision = { state: 'queued'; runAt: number } | { state: 'dead' };

/** After a failed attempt: retry later, or give up when the budget is spent or retrying is pointless. */
export function decideAfterFailure(input: {
  attempts: number;
  maxAttempts: number;
  now: number;
  permanent: boolean;
  retryAfterMs?: number | undefined;
  policy: BackoffPolicy;
  random: () => number;
}): FailureDecision {
  if (input.permanent || input.attempts >= input.maxAttempts) return { state: 'dead' };
  const backoff = computeBackoffMs(input.attempts, input.policy, input.random);
  const delay = Math.max(backoff, input.retryAfterMs ?? 0);
  return { state: 'queued', runAt: input.now + delay };
}
