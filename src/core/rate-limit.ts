import type { Clock } from './clock.js';

export interface RateDecision {
  ok: boolean;
  /** When not ok: how long until one more is allowed, in ms. */
  retryAfterMs: number;
}

/**
 * Token buckets by key: `capacity` tokens, refilled evenly over `perMs`. In memory, so the limit
 * applies per process; that is what login throttling and intake limits need.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #capacity: number;
  readonly #perMs: number;
  readonly #clock: Clock;

  constructor(options: { capacity: number; perMs: number; clock: Clock }) {
    this.#capacity = options.capacity;
    this.#perMs = options.perMs;
    this.#clock = options.clock;
  }

  #refill(key: string): { tokens: number; at: number } {
    const now = this.#clock.now();
    const bucket = this.#buckets.get(key) ?? { tokens: this.#capacity, at: now };
    const refill = ((now - bucket.at) / this.#perMs) * this.#capacity;
    bucket.tokens = Math.min(this.#capacity, bucket.tokens + refill);
    bucket.at = now;
    this.#buckets.set(key, bucket);
    if (this.#buckets.size > 50_000) this.#prune();
    return bucket;
  }

  /** Is one more allowed, without spending it? */
  check(key: string): RateDecision {
    const bucket = this.#refill(key);
    if (bucket.tokens >= 1) return { ok: true, retryAfterMs: 0 };
    return { ok: false, retryAfterMs: Math.ceil(((1 - bucket.tokens) * this.#perMs) / this.#capacity) };
  }

  /** Spend one; refused (and nothing spent) when the bucket is empty. */
  take(key: string): RateDecision {
    const decision = this.check(key);
    if (decision.ok) (this.#buckets.get(key) as { tokens: number }).tokens -= 1;
    return decision;
  }

  reset(key: string): void {
    this.#buckets.delete(key);
  }

  #prune(): void {
    for (const [key, bucket] of this.#buckets) if (bucket.tokens >= this.#capacity) this.#buckets.delete(key);
  }
}
