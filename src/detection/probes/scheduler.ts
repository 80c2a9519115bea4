import type { Logger } from 'pino';
import type { MonitorSpec, ProbeResult } from '../monitor.js';

/** Monotonic time and one-shot timers: real ones in production, a hand-moved one in tests. */
export interface TimeSource {
  /** Monotonic milliseconds (performance.now()). */
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
  /** Run soon, after the current turn (setImmediate): results finishing together share one batch. */
  soon(fn: () => void): unknown;
  clearSoon(handle: unknown): void;
}

export const realTime: TimeSource = {
  now: () => performance.now(),
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
  soon: (fn) => setImmediate(fn),
  clearSoon: (h) => clearImmediate(h as NodeJS.Immediate),
};

export interface SchedulerOptions {
  /** Runs one check; must not reject (the ProbeRunner does not). */
  run(spec: MonitorSpec): Promise<ProbeResult>;
  /** Receives results in batches (hand them to a ResultReporter). */
  onResults(batch: ProbeResult[]): void;
  /** Checks running at once, at most (default 256). Further due checks wait in line. */
  concurrency?: number;
  /** Steady results are handed over at most this long after they finish (default 250 ms). */
  flushMs?: number;
  time?: TimeSource;
  log?: Logger;
}

export interface SchedulerStats {
  monitors: number;
  running: number;
  waiting: number;
  started: number;
  completed: number;
  /** Runs left out because the previous one (or the line) made them late by a whole interval. */
  skipped: number;
  /** How late checks started after their due time (ms): recent samples. */
  lagP50Ms: number;
  lagP99Ms: number;
  lagMaxMs: number;
}

interface Entry {
  spec: MonitorSpec;
  /** What makes a changed spec (check and interval). */
  key: string;
  /** Bumped whenever the entry is rescheduled: heap nodes with an older seq are stale. */
  seq: number;
  due: number;
  running: boolean;
  waiting: boolean;
  removed: boolean;
  lastStart: number | null;
  /** The last result's ok (null before the first). */
  lastOk: boolean | null;
}

interface HeapNode {
  due: number;
  seq: number;
  entry: Entry;
}

const LAG_SAMPLES = 4096;

/**
 * Runs monitors at their intervals with one timer for all of them: a min-heap of due times (not a
 * setInterval per monitor). Each run is due exactly one interval after the previous due time, so
 * lateness never accumulates into drift; a run that would start a whole interval late is skipped.
 * First runs of monitors added together are spread evenly over their interval (no thundering
 * herd). A monitor never overlaps itself, and at most `concurrency` checks run at once. Reloading
 * the set keeps the schedule of unchanged monitors. Results are batched: handed over every
 * `flushMs`, or at once (next turn) when a result fails or flips, so detection is not delayed.
 */
export class ProbeScheduler {
  readonly #run: SchedulerOptions['run'];
  readonly #onResults: SchedulerOptions['onResults'];
  readonly #concurrency: number;
  readonly #flushMs: number;
  readonly #time: TimeSource;
  readonly #log: Logger | undefined;
  readonly #entries = new Map<string, Entry>();
  readonly #heap: HeapNode[] = [];
  /** Due checks waiting for a free slot (FIFO with a moving head). */
  #line: Array<{ entry: Entry; due: number }> = [];
  #lineHead = 0;
  #timer: unknown = null;
  #timerAt = Number.POSITIVE_INFINITY;
  #running = 0;
  #idle: Array<() => void> = [];
  #stopped = false;
  /** After stop()'s last hand-over: late results are dropped. */
  #closed = false;
  #buffer: ProbeResult[] = [];
  #flushTimer: unknown = null;
  #flushSoon: unknown = null;
  #started = 0;
  #completed = 0;
  #skipped = 0;
  readonly #lags = new Float64Array(LAG_SAMPLES);
  #lagCount = 0;
  #lagMax = 0;

  constructor(options: SchedulerOptions) {
    this.#run = options.run;
    this.#onResults = options.onResults;
    this.#concurrency = Math.max(1, options.concurrency ?? 256);
    this.#flushMs = options.flushMs ?? 250;
    this.#time = options.time ?? realTime;
    this.#log = options.log;
  }

  /**
   * Replace the set of monitors. Unchanged ones keep their schedule; changed ones run with the new
   * spec from their next run (a new interval counts from the last start); new ones are spread over
   * their interval; removed ones stop (a running check's result is dropped).
   */
  setMonitors(specs: readonly MonitorSpec[]): { added: number; changed: number; removed: number } {
    if (this.#stopped) return { added: 0, changed: 0, removed: 0 };
    const now = this.#time.now();
    const next = new Map(specs.map((s) => [s.id, s]));
    let removed = 0;
    let changed = 0;
    for (const [id, entry] of this.#entries) {
      if (next.has(id)) continue;
      entry.removed = true;
      entry.seq++;
      this.#entries.delete(id);
      removed++;
    }
    const added: MonitorSpec[] = [];
    for (const spec of next.values()) {
      const entry = this.#entries.get(spec.id);
      if (!entry) {
        added.push(spec);
        continue;
      }
      const key = specKey(spec);
      if (key === entry.key) {
        entry.spec = spec;
        continue;
      }
      changed++;
      const intervalChanged = spec.intervalMs !== entry.spec.intervalMs;
      entry.spec = spec;
      entry.key = key;
      if (intervalChanged) {
        entry.seq++;
        entry.due = entry.lastStart === null ? now : Math.max(now, entry.lastStart + spec.intervalMs);
        this.#push(entry);
      }
    }
    // Evenly over the interval, in a stable order (by id), so a restart spreads the same way.
    added.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    added.forEach((spec, i) => {
      const entry: Entry = {
        spec,
        key: specKey(spec),
        seq: 0,
        due: now + Math.floor((i * spec.intervalMs) / added.length),
        running: false,
        waiting: false,
        removed: false,
        lastStart: null,
        lastOk: null,
      };
      this.#entries.set(spec.id, entry);
      this.#push(entry);
    });
    if (removed > 0 || added.length > 0 || changed > 0) this.#compactHeapIfStale();
    this.#arm();
    return { added: added.length, changed, removed };
  }

  get size(): number {
    return this.#entries.size;
  }

  stats(): SchedulerStats {
    const n = Math.min(this.#lagCount, LAG_SAMPLES);
    const lags = Array.from(this.#lags.subarray(0, n)).sort((a, b) => a - b);
    const pct = (p: number) => (n === 0 ? 0 : (lags[Math.min(n - 1, Math.floor(p * n))] as number));
    return {
      monitors: this.#entries.size,
      running: this.#running,
      waiting: this.#line.length - this.#lineHead,
      started: this.#started,
      completed: this.#completed,
      skipped: this.#skipped,
      lagP50Ms: round1(pct(0.5)),
      lagP99Ms: round1(pct(0.99)),
      lagMaxMs: round1(this.#lagMax),
    };
  }

  /**
   * Stop starting checks; wait up to `graceMs` for running ones (their results are handed over),
   * then hand over what is buffered. Checks still running after that are the runner's to close.
   */
  async stop(graceMs = 2_000): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#timer !== null) this.#time.clearTimer(this.#timer);
    this.#timer = null;
    this.#line = [];
    this.#lineHead = 0;
    if (this.#running > 0) {
      let timer: unknown = null;
      await new Promise<void>((resolve) => {
        this.#idle.push(resolve);
        timer = this.#time.setTimer(resolve, graceMs);
      });
      this.#time.clearTimer(timer);
    }
    this.#flush();
    this.#closed = true;
  }

  #push(entry: Entry): void {
    heapPush(this.#heap, { due: entry.due, seq: entry.seq, entry });
  }

  /** Removed or rescheduled monitors leave stale nodes; rebuild when they are most of the heap. */
  #compactHeapIfStale(): void {
    if (this.#heap.length <= 2 * this.#entries.size + 64) return;
    const live = this.#heap.filter((n) => !n.entry.removed && n.seq === n.entry.seq);
    this.#heap.length = 0;
    for (const node of live) heapPush(this.#heap, node);
  }

  /** One timer, for the earliest due time. */
  #arm(): void {
    if (this.#stopped) return;
    const top = this.#heap[0];
    if (!top) return;
    if (this.#timer !== null && this.#timerAt <= top.due) return;
    if (this.#timer !== null) this.#time.clearTimer(this.#timer);
    this.#timerAt = top.due;
    this.#timer = this.#time.setTimer(() => this.#tick(), Math.max(0, top.due - this.#time.now()));
  }

  #tick(): void {
    this.#timer = null;
    this.#timerAt = Number.POSITIVE_INFINITY;
    if (this.#stopped) return;
    const now = this.#time.now();
    // Timers fire up to a millisecond early or late; take what is due within 1 ms.
    for (let top = this.#heap[0]; top && top.due <= now + 1; top = this.#heap[0]) {
      heapPop(this.#heap);
      const entry = top.entry;
      if (entry.removed || top.seq !== entry.seq) continue;
      const interval = entry.spec.intervalMs;
      // The next run is due one interval after this one, not after now (no drift). If that is
      // already past (this process was stalled), skip to the next slot still ahead.
      let next = top.due + interval;
      if (next <= now) {
        const missed = Math.floor((now - top.due) / interval);
        this.#skipped += missed;
        next = top.due + (missed + 1) * interval;
      }
      entry.due = next;
      this.#push(entry);
      if (entry.running || entry.waiting) {
        this.#skipped++;
        continue;
      }
      entry.waiting = true;
      this.#line.push({ entry, due: top.due });
    }
    this.#drain(now);
    this.#arm();
  }

  #drain(now = this.#time.now()): void {
    while (this.#running < this.#concurrency && this.#lineHead < this.#line.length) {
      const item = this.#line[this.#lineHead++] as { entry: Entry; due: number };
      item.entry.waiting = false;
      if (item.entry.removed) continue;
      this.#start(item.entry, item.due, now);
    }
    if (this.#lineHead > 1024 && this.#lineHead * 2 > this.#line.length) {
      this.#line = this.#line.slice(this.#lineHead);
      this.#lineHead = 0;
    }
  }

  #start(entry: Entry, due: number, now: number): void {
    entry.running = true;
    entry.lastStart = now;
    this.#running++;
    this.#started++;
    const lag = Math.max(0, now - due);
    this.#lags[this.#lagCount++ % LAG_SAMPLES] = lag;
    if (lag > this.#lagMax) this.#lagMax = lag;
    const spec = entry.spec;
    this.#run(spec).then(
      (result) => this.#finish(entry, result),
      (err: unknown) => {
        this.#log?.error({ err, monitor: spec.id }, 'probe run failed unexpectedly');
        this.#finish(entry, null);
      },
    );
  }

  #finish(entry: Entry, result: ProbeResult | null): void {
    entry.running = false;
    this.#running--;
    this.#completed++;
    if (result && !entry.removed && !this.#closed) {
      const flipped = entry.lastOk !== null ? entry.lastOk !== result.ok : !result.ok;
      if (flipped) {
        this.#log?.info(
          { monitor: entry.spec.id, name: entry.spec.name, ok: result.ok, error: result.error },
          result.ok ? 'monitor check passes again' : 'monitor check failing',
        );
      }
      entry.lastOk = result.ok;
      this.#buffer.push(result);
      // Failures and flips go out at once (detection waits for them); steady results in batches.
      if (!result.ok || flipped) this.#flushNow();
      else if (this.#flushTimer === null && this.#flushSoon === null)
        this.#flushTimer = this.#time.setTimer(() => this.#flush(), this.#flushMs);
    }
    if (this.#running === 0 && this.#idle.length > 0) {
      for (const resolve of this.#idle.splice(0)) resolve();
    }
    if (!this.#stopped) this.#drain();
  }

  #flushNow(): void {
    if (this.#flushSoon !== null) return;
    this.#flushSoon = this.#time.soon(() => this.#flush());
  }

  #flush(): void {
    if (this.#flushTimer !== null) this.#time.clearTimer(this.#flushTimer);
    if (this.#flushSoon !== null) this.#time.clearSoon(this.#flushSoon);
    this.#flushTimer = null;
    this.#flushSoon = null;
    if (this.#buffer.length === 0) return;
    const batch = this.#buffer;
    this.#buffer = [];
    try {
      this.#onResults(batch);
    } catch (err) {
      this.#log?.error({ err }, 'handing over probe results failed');
    }
  }
}

function specKey(spec: MonitorSpec): string {
  return `${spec.intervalMs}|${JSON.stringify(spec.check)}`;
}

function round1(n: number): number {
  return Math.round(n * 10) / 10;
}

function heapPush(heap: HeapNode[], node: HeapNode): void {
  heap.push(node);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    const p = heap[parent] as HeapNode;
    if (p.due <= node.due) break;
    heap[i] = p;
    i = parent;
  }
  heap[i] = node;
}

function heapPop(heap: HeapNode[]): HeapNode | undefined {
  const top = heap[0];
  const last = heap.pop();
  if (top === undefined || last === undefined || heap.length === 0) return top;
  let i = 0;
  const n = heap.length;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) break;
    const r = l + 1;
    const child = r < n && (heap[r] as HeapNode).due < (heap[l] as HeapNode).due ? r : l;
    if ((heap[child] as HeapNode).due >= last.due) break;
    heap[i] = heap[child] as HeapNode;
    i = child;
  }
  heap[i] = last;
  return top;
}
