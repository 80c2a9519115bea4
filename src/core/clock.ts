/** Time source. Everything that needs "now" takes a Clock, so tests can move time by hand. */
export interface Clock {
  /** Milliseconds since the Unix epoch (UTC). */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to. */
export class FakeClock implements Clock {
  #now: number;

  constructor(start: number | Date = Date.UTC(2026, 0, 15, 9, 0, 0)) {
    this.#now = typeof start === 'number' ? start : start.getTime();
  }

  now(): number {
    return this.#now;
  }

  advance(ms: number): number {
    if (ms < 0) throw new Error('FakeClock cannot go backwards');
    this.#now += ms;
    return this.#now;
  }

  set(at: number | Date): void {
    this.#now = typeof at === 'number' ? at : at.getTime();
  }
}

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** ISO-8601 UTC text for an epoch-millisecond time (the API's representation). */
export function toIso(ms: number): string {
  return new Date(ms).toISOString();
}

export function toIsoOrNull(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}
