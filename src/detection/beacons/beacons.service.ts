import type { Logger } from 'pino';
import type { Services } from '../../app/services.js';
import type { Clock } from '../../core/clock.js';
import { errorMessage } from '../../core/errors.js';
import { type RateDecision, RateLimiter } from '../../core/rate-limit.js';
import type { Database } from '../../db/database.js';
import { listComponents } from '../../incidents/components.repo.js';
import { applyResult, type ConfirmationPolicy, DEFAULT_POLICY, initialState, type MonitorState } from '../confirmation.js';
import { firingSignals } from '../detection.repo.js';
import type { SignalInput } from '../detection.service.js';
import {
  type Beacon,
  type ComponentWindow,
  createHostMatcher,
  describeWindow,
  errorRateOf,
  type HostMatcher,
  judgeWindow,
  type KeyWindow,
  mergeKeyWindows,
  normalizeOrigin,
  type OpenWindow,
  type Thresholds,
  tallyBeacon,
  type Verdict,
  WINDOW_MS,
  WindowAggregator,
  windowDetails,
} from './beacons.js';

export const BEACON_SOURCE = 'beacon';

export function beaconFingerprint(componentId: string): string {
  return `${BEACON_SOURCE}:${componentId}`;
}

/** The part of detection the beacons need (recording signals), so tests can stand in for it. */
export interface SignalSink {
  recordSignals(inputs: readonly SignalInput[]): Promise<unknown>;
}

export interface BeaconOptions extends Thresholds {
  /** Allowed browser origins (exact match after normalisation). */
  origins: readonly string[];
  /** Component name or id → its hosts. */
  hosts: Readonly<Record<string, readonly string[]>>;
  failuresToDown: number;
  successesToUp: number;
  windowMs?: number;
  /** Beacons per client address: a bucket of `capacity`, refilled over `perMs`. */
  perClient?: { capacity: number; perMs: number };
  /** Beacons for the whole process. */
  overall?: { capacity: number; perMs: number };
  /** How often the background timer closes due windows (real time). */
  tickMs?: number;
}

/** The defaults: NAT-friendly per address (a page sends one every few seconds at most). */
export const DEFAULT_PER_CLIENT = { capacity: 120, perMs: 60_000 };
export const DEFAULT_OVERALL = { capacity: 20_000, perMs: 60_000 };
export const DEFAULT_TICK_MS = 5_000;

export interface WindowOutcome {
  componentId: string;
  componentName: string;
  start: number;
  end: number;
  loads: number;
  errors: number;
  jsErrors: number;
  errorRate: number;
  verdict: Verdict;
  state: MonitorState['state'];
  transition: 'down' | 'up' | null;
  summary: string;
}

interface Tracked {
  state: MonitorState;
  /** What the signals table was last told: firing, resolved, or nothing yet. */
  published: 'firing' | 'resolved' | null;
  /** The window that last failed (its summary is the signal's). */
  lastFailure: ComponentWindow | null;
  lastWindow: WindowOutcome | null;
  /** End of the last window that had a verdict. */
  lastJudgedAt: number | null;
}

/**
 * A pending component (failing, not yet confirmed) whose last verdict is this many windows old
 * starts over: at night one failing minute and another hours later are not "in a row".
 */
export const STALE_PENDING_WINDOWS = 5;

const RECENT_OUTCOMES = 30;

/**
 * Beacons in memory: each beacon is split by component (host → component from the config) into
 * the current minute's window, and answered at once; nothing touches the database per beacon.
 * When a minute is over (lazily on the next beacon, and on a timer) its windows are judged: a
 * component with at least minEvents loads and fetches and an error rate at or above errorRate gets
 * a failure, one below it a success — results of the component's beacon pseudo-monitor, confirmed
 * exactly like a probe (failuresToDown failures in a row: down; successesToUp successes: up).
 * Confirmed down records the signal `beacon:<componentId>` firing (detection declares or suggests
 * the incident); confirmed up resolves it.
 *
 * State lives in this process only. A restart starts with fresh windows and confirmation, except
 * that a component whose beacon signal is still firing starts down (so it can resolve). With
 * several web processes each judges its own share of the beacons; the error rate stays meaningful
 * per process, and the signal row they share says what the last of them concluded.
 */
export class BeaconService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #signals: SignalSink;
  readonly #thresholds: Thresholds;
  readonly #policy: ConfirmationPolicy;
  readonly #origins: ReadonlySet<string>;
  readonly #hostKeys: readonly string[];
  readonly #match: HostMatcher;
  readonly #windows: WindowAggregator;
  readonly #perClient: RateLimiter;
  readonly #overall: RateLimiter;
  readonly #tickMs: number;
  readonly #tracked = new Map<string, Tracked>();
  readonly #recent: WindowOutcome[] = [];
  readonly #warnedKeys = new Set<string>();
  #names = new Map<string, string>();
  #closing: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | null = null;
  #holders = 0;
  #lazyClose = false;
  /** The last publishing failure logged (logged again only when it changes). */
  #publishError: string | null = null;
  #received = 0;
  #lastClosed: { start: number; unmatched: Record<string, number>; unmatchedEvents: number; beacons: number } | null = null;

  constructor(deps: { db: Database; clock: Clock; log: Logger; signals: SignalSink; options: BeaconOptions }) {
    const o = deps.options;
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#log = deps.log;
    this.#signals = deps.signals;
    this.#thresholds = { errorRate: o.errorRate, minEvents: o.minEvents };
    this.#policy = { ...DEFAULT_POLICY, failuresToDown: o.failuresToDown, successesToUp: o.successesToUp };
    this.#origins = new Set(o.origins.map(normalizeOrigin));
    this.#hostKeys = Object.keys(o.hosts);
    this.#match = createHostMatcher(o.hosts);
    this.#windows = new WindowAggregator(o.windowMs ?? WINDOW_MS);
    this.#perClient = new RateLimiter({ ...(o.perClient ?? DEFAULT_PER_CLIENT), clock: deps.clock });
    this.#overall = new RateLimiter({ ...(o.overall ?? DEFAULT_OVERALL), clock: deps.clock });
    this.#tickMs = o.tickMs ?? DEFAULT_TICK_MS;
  }

  /** Is this browser origin allowed to post beacons? */
  allowsOrigin(origin: string): boolean {
    return this.#origins.has(normalizeOrigin(origin));
  }

  /** Spend one beacon of the client's allowance and of the process's. */
  admit(clientKey: string): RateDecision {
    const mine = this.#perClient.take(`client:${clientKey}`);
    if (!mine.ok) return mine;
    return this.#overall.take('all');
  }

  /**
   * Count one beacon into the current window. Synchronous: the caller answers at once. Windows
   * that are over are closed in the background (their database work is not awaited here).
   */
  ingest(beacon: Beacon, clientKey: string): { events: number; matched: number; unmatched: number } {
    const now = this.#clock.now();
    if (!this.#lazyClose && this.#windows.hasDue(now)) {
      this.#lazyClose = true;
      void this.closeDueWindows().finally(() => {
        this.#lazyClose = false;
      });
    }
    const tally = tallyBeacon(beacon, this.#match);
    this.#windows.add(now, tally, clientKey);
    this.#received++;
    let unmatched = 0;
    for (const n of tally.unmatched.values()) unmatched += n;
    return { events: tally.events, matched: tally.events - unmatched, unmatched };
  }

  /**
   * Judge every window whose minute is over, oldest first, and record the confirmed changes.
   * Calls run one after another; never rejects (failures are logged, and a change that could not
   * be recorded is recorded by the next call).
   */
  closeDueWindows(): Promise<WindowOutcome[]> {
    const run = this.#closing.then(() => this.#close());
    this.#closing = run.catch(() => undefined);
    return run.catch((err: unknown) => {
      this.#log.error({ err: errorMessage(err) }, 'beacon windows could not be closed');
      return [];
    });
  }

  async #close(): Promise<WindowOutcome[]> {
    const due = this.#windows.takeDue(this.#clock.now());
    if (due.length === 0 && ![...this.#tracked.values()].some((t) => this.#unpublished(t))) return [];
    const last = due[due.length - 1];
    if (last) {
      this.#lastClosed = {
        start: last.start,
        unmatched: Object.fromEntries(last.unmatched),
        unmatchedEvents: last.unmatchedEvents,
        beacons: last.beacons,
      };
    }
    const resolve = await this.#componentResolver(due);
    const outcomes: WindowOutcome[] = [];
    for (const window of due) {
      const perComponent = new Map<string, KeyWindow[]>();
      for (const [key, kw] of window.keys) {
        const id = resolve(key);
        if (id === null) continue;
        perComponent.set(id, [...(perComponent.get(id) ?? []), kw]);
      }
      const ids = [...perComponent.keys()].filter((id) => !this.#tracked.has(id));
      if (ids.length > 0) await this.#seed(ids, window.start);
      for (const [componentId, parts] of perComponent) {
        const cw = mergeKeyWindows(componentId, window.start, window.start + this.#windows.windowMs, parts);
        outcomes.push(this.#judge(cw));
      }
      await this.#publish();
    }
    if (due.length === 0) await this.#publish();
    return outcomes;
  }

  /** Config keys (component name or id) → component id, read once per close. */
  async #componentResolver(due: readonly OpenWindow[]): Promise<(key: string) => string | null> {
    if (due.every((w) => w.keys.size === 0)) return () => null;
    const components = await listComponents(this.#db.kysely);
    const byId = new Map(components.map((c) => [c.id, c]));
    const byName = new Map(components.map((c) => [c.name, c]));
    const byLowerName = new Map(components.map((c) => [c.name.toLowerCase(), c]));
    this.#names = new Map(components.map((c) => [c.id, c.name]));
    return (key) => {
      const component = byId.get(key) ?? byName.get(key) ?? byLowerName.get(key.toLowerCase());
      if (component) return component.id;
      if (!this.#warnedKeys.has(key)) {
        this.#warnedKeys.add(key);
        this.#log.warn(
          { key },
          `detection.beacons.hosts names ${JSON.stringify(key)}, which is no component's name or id: its beacons are ignored`,
        );
      }
      return null;
    };
  }

  /** First sight of a component in this process: down if its beacon signal is still firing. */
  async #seed(componentIds: readonly string[], at: number): Promise<void> {
    const firing = (await firingSignals(this.#db.kysely, componentIds)).filter((s) => s.source === BEACON_SOURCE);
    for (const id of componentIds) {
      const signal = firing.find((s) => s.fingerprint === beaconFingerprint(id));
      const state: MonitorState = signal
        ? {
            ...initialState(signal.firstAt),
            state: 'down',
            failStreak: this.#policy.failuresToDown,
            firstFailureAt: signal.firstAt,
          }
        : initialState(at);
      this.#tracked.set(id, {
        state,
        published: signal ? 'firing' : null,
        lastFailure: null,
        lastWindow: null,
        lastJudgedAt: null,
      });
    }
  }

  #judge(w: ComponentWindow): WindowOutcome {
    const tracked = this.#tracked.get(w.componentId) as Tracked;
    const verdict = judgeWindow(w.total, this.#thresholds);
    let transition: WindowOutcome['transition'] = null;
    if (verdict !== null) {
      const stale = tracked.lastJudgedAt !== null && w.end - tracked.lastJudgedAt > STALE_PENDING_WINDOWS * (w.end - w.start);
      if (stale && tracked.state.state === 'pending') tracked.state = { ...initialState(w.end), flaps: tracked.state.flaps };
      tracked.lastJudgedAt = w.end;
      const applied = applyResult(tracked.state, { ok: verdict === 'success', degraded: false, at: w.end }, this.#policy);
      tracked.state = applied.next;
      transition = applied.transition;
      if (verdict === 'failure') tracked.lastFailure = w;
    }
    const outcome: WindowOutcome = {
      componentId: w.componentId,
      componentName: this.#names.get(w.componentId) ?? w.componentId,
      start: w.start,
      end: w.end,
      loads: w.total.ok + w.total.errors,
      errors: w.total.errors,
      jsErrors: w.total.jsErrors,
      errorRate: errorRateOf(w.total),
      verdict,
      state: tracked.state.state,
      transition,
      summary: describeWindow(w),
    };
    tracked.lastWindow = outcome;
    this.#recent.push(outcome);
    if (this.#recent.length > RECENT_OUTCOMES) this.#recent.shift();
    if (transition) {
      this.#log.info(
        { component: w.componentId, transition, loads: outcome.loads, errors: outcome.errors },
        `browser beacons: component ${transition}`,
      );
    }
    return outcome;
  }

  #desired(t: Tracked): 'firing' | 'resolved' {
    return t.state.state === 'down' || t.state.state === 'recovering' ? 'firing' : 'resolved';
  }

  #unpublished(t: Tracked): boolean {
    const desired = this.#desired(t);
    return desired === 'firing' ? t.published !== 'firing' : t.published === 'firing';
  }

  /** Tell detection about every confirmed change not yet recorded (retried on the next close if this fails). */
  async #publish(): Promise<void> {
    const changes: Array<{ id: string; tracked: Tracked; input: SignalInput }> = [];
    for (const [id, tracked] of this.#tracked) {
      if (!this.#unpublished(tracked)) continue;
      const state = this.#desired(tracked);
      const failure = tracked.lastFailure;
      const last = tracked.lastWindow;
      const summary =
        state === 'firing'
          ? failure
            ? describeWindow(failure)
            : 'browser loads failing'
          : `browser loads healthy again${last ? ` (${last.errors} of ${last.loads} failed in the minute to ${new Date(last.end).toISOString().slice(11, 16)} UTC)` : ''}`;
      changes.push({
        id,
        tracked,
        input: {
          source: BEACON_SOURCE,
          fingerprint: beaconFingerprint(id),
          componentId: id,
          state,
          severity: 'down',
          summary,
          details: {
            ...(failure ? { last_failure: windowDetails(failure) } : {}),
            confirmation: {
              state: tracked.state.state,
              first_failure_at:
                tracked.state.firstFailureAt === null ? null : new Date(tracked.state.firstFailureAt).toISOString(),
              fail_streak: tracked.state.failStreak,
              ok_streak: tracked.state.okStreak,
              failures_to_down: this.#policy.failuresToDown,
              successes_to_up: this.#policy.successesToUp,
              error_rate: this.#thresholds.errorRate,
              min_events: this.#thresholds.minEvents,
            },
          },
        },
      });
    }
    if (changes.length === 0) return;
    try {
      await this.#signals.recordSignals(changes.map((c) => c.input));
      for (const c of changes) c.tracked.published = c.input.state;
      this.#publishError = null;
    } catch (err) {
      // Retried on every tick until it works; logged once per distinct failure.
      const message = errorMessage(err);
      if (message !== this.#publishError) {
        this.#publishError = message;
        this.#log.error({ err: message, components: changes.map((c) => c.id) }, 'beacon signals could not be recorded; retrying');
      }
    }
  }

  /** Close due windows every few seconds (real time) while at least one app holds the service. */
  start(): void {
    this.#holders++;
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.closeDueWindows(), this.#tickMs);
    this.#timer.unref();
  }

  /** Release one hold; the last one stops the timer. Waits for a close in progress. */
  async stop(): Promise<void> {
    this.#holders = Math.max(0, this.#holders - 1);
    if (this.#holders === 0 && this.#timer) {
      clearInterval(this.#timer);
      this.#timer = null;
    }
    await this.#closing;
  }

  get running(): boolean {
    return this.#timer !== null;
  }

  /** What the beacons look like now, for operators (GET /api/v1/beacons/stats). */
  stats(): BeaconStats {
    const iso = (ms: number) => new Date(ms).toISOString();
    const outcome = (o: WindowOutcome) => ({
      component_id: o.componentId,
      component: o.componentName,
      window_start: iso(o.start),
      window_end: iso(o.end),
      loads: o.loads,
      errors: o.errors,
      js_errors: o.jsErrors,
      error_rate: Math.round(o.errorRate * 1000) / 1000,
      verdict: o.verdict,
      state: o.state,
      transition: o.transition,
      summary: o.summary,
    });
    return {
      now: iso(this.#clock.now()),
      beacons_received: this.#received,
      thresholds: { error_rate: this.#thresholds.errorRate, min_events: this.#thresholds.minEvents },
      confirmation: { failures_to_down: this.#policy.failuresToDown, successes_to_up: this.#policy.successesToUp },
      origins: [...this.#origins],
      configured_components: [...this.#hostKeys],
      open_windows: this.#windows.open().map((w) => ({
        window_start: iso(w.start),
        beacons: w.beacons,
        unmatched_events: w.unmatchedEvents,
        components: Object.fromEntries(
          [...w.keys].map(([key, kw]) => {
            let ok = 0;
            let errors = 0;
            for (const t of kw.hosts.values()) {
              ok += t.ok;
              errors += t.errors;
            }
            return [key, { ok, errors }];
          }),
        ),
      })),
      last_closed: this.#lastClosed
        ? {
            window_start: iso(this.#lastClosed.start),
            beacons: this.#lastClosed.beacons,
            unmatched_events: this.#lastClosed.unmatchedEvents,
            unmatched_hosts: this.#lastClosed.unmatched,
          }
        : null,
      components: [...this.#tracked].map(([id, t]) => ({
        component_id: id,
        component: this.#names.get(id) ?? id,
        state: t.state.state,
        fail_streak: t.state.failStreak,
        ok_streak: t.state.okStreak,
        signal: t.published,
        last_window: t.lastWindow ? outcome(t.lastWindow) : null,
      })),
      recent: [...this.#recent].reverse().map(outcome),
    };
  }
}

export interface BeaconStats {
  now: string;
  beacons_received: number;
  thresholds: { error_rate: number; min_events: number };
  confirmation: { failures_to_down: number; successes_to_up: number };
  origins: string[];
  configured_components: string[];
  open_windows: Array<{
    window_start: string;
    beacons: number;
    unmatched_events: number;
    components: Record<string, { ok: number; errors: number }>;
  }>;
  last_closed: {
    window_start: string;
    beacons: number;
    unmatched_events: number;
    unmatched_hosts: Record<string, number>;
  } | null;
  components: Array<{
    component_id: string;
    component: string;
    state: MonitorState['state'];
    fail_streak: number;
    ok_streak: number;
    signal: 'firing' | 'resolved' | null;
    last_window: Record<string, unknown> | null;
  }>;
  recent: Array<Record<string, unknown>>;
}

const perServices = new WeakMap<Services, BeaconService>();

/**
 * The process's beacon service for a service graph (one per graph, shared by every app built on
 * it, so windows and confirmation are the process's). Created on first use from the config.
 */
export function beaconsFor(services: Services): BeaconService {
  let service = perServices.get(services);
  if (!service) {
    const { detection } = services.config;
    service = new BeaconService({
      db: services.db,
      clock: services.clock,
      log: services.log.child({ role: 'beacons' }),
      signals: services.detection,
      options: {
        origins: detection.beacons.origins,
        hosts: detection.beacons.hosts,
        errorRate: detection.beacons.errorRate,
        minEvents: detection.beacons.minEvents,
        failuresToDown: services.config.playbook.detection.failuresToDown,
        successesToUp: services.config.playbook.detection.successesToUp,
      },
    });
    perServices.set(services, service);
  }
  return service;
}
