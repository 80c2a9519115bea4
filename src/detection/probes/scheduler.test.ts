import { describe, expect, test } from 'vitest';
import type { MonitorSpec, ProbeResult } from '../monitor.js';
import { RejectedBatchError, ResultReporter } from './reporter.js';
import { ProbeScheduler, type TimeSource } from './scheduler.js';

/** Time that moves only when told; timers fire in order as it moves. */
class ManualTime implements TimeSource {
  t = 0;
  #id = 0;
  readonly timers = new Map<number, { at: number; fn: () => void }>();
  readonly #soon = new Map<number, () => void>();

  now(): number {
    return this.t;
  }
  setTimer(fn: () => void, ms: number): unknown {
    const id = ++this.#id;
    this.timers.set(id, { at: this.t + Math.max(0, ms), fn });
    return id;
  }
  clearTimer(h: unknown): void {
    this.timers.delete(h as number);
  }
  soon(fn: () => void): unknown {
    const id = ++this.#id;
    this.#soon.set(id, fn);
    return id;
  }
  clearSoon(h: unknown): void {
    this.#soon.delete(h as number);
  }
  async settle(): Promise<void> {
    for (let i = 0; i < 4; i++) {
      await new Promise((r) => setImmediate(r));
      const due = [...this.#soon.entries()];
      this.#soon.clear();
      for (const [, fn] of due) fn();
    }
  }
  async advanceTo(target: number): Promise<void> {
    for (;;) {
      await this.settle();
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= target && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].at);
      next[1].fn();
    }
    this.t = target;
    await this.settle();
  }
}

function spec(id: string, intervalMs = 10_000): MonitorSpec {
  return {
    id,
    componentId: 'c',
    name: id,
    intervalMs,
    check: { type: 'dns', check: { hostname: `${id}.test`, recordType: 'A', expect: [], timeoutMs: 1000 } },
  };
}

function harness(options: { durationMs?: number; concurrency?: number; ok?: (id: string, n: number) => boolean } = {}) {
  const time = new ManualTime();
  const starts: Array<{ id: string; at: number }> = [];
  const batches: Array<{ at: number; results: ProbeResult[] }> = [];
  let running = 0;
  let maxRunning = 0;
  const counts = new Map<string, number>();
  const scheduler = new ProbeScheduler({
    time,
    flushMs: 250,
    ...(options.concurrency !== undefined && { concurrency: options.concurrency }),
    onResults: (results) => batches.push({ at: time.now(), results }),
    run: (s) => {
      starts.push({ id: s.id, at: time.now() });
      const n = (counts.get(s.id) ?? 0) + 1;
      counts.set(s.id, n);
      running++;
      maxRunning = Math.max(maxRunning, running);
      return new Promise((resolve) =>
        time.setTimer(() => {
          running--;
          resolve({ monitorId: s.id, at: time.now(), ok: options.ok?.(s.id, n) ?? true, degraded: false, latencyMs: 1 });
        }, options.durationMs ?? 5),
      );
    },
  });
  /** Stop, letting (manual) time run so checks still running can finish. */
  const stop = async () => {
    const stopping = scheduler.stop(2_000);
    await time.advanceTo(time.t + 2_000);
    await stopping;
  };
  return { time, scheduler, starts, batches, maxRunning: () => maxRunning, stop };
}

describe('ProbeScheduler', () => {
  test('1,000 monitors: first runs spread evenly over the interval, then each once per interval, with one timer', async () => {
    const h = harness();
    h.scheduler.setMonitors(Array.from({ length: 1000 }, (_, i) => spec(`m${String(i).padStart(4, '0')}`)));
    let maxTimers = 0;
    for (let t = 0; t <= 60_000; t += 100) {
      await h.time.advanceTo(t);
      maxTimers = Math.max(maxTimers, h.time.timers.size - h.scheduler.stats().running);
    }
    // Per second of the first interval: 100 first runs, none bunched.
    const perSecond = Array.from(
      { length: 10 },
      (_, s) => h.starts.filter((x) => x.at >= s * 1000 && x.at < (s + 1) * 1000).length,
    );
    expect(perSecond).toEqual(Array(10).fill(100));
    // 60 s: every monitor ran 6 or 7 times (the 7th run of the first ones is due at 60 s exactly).
    const runs = new Map<string, number>();
    for (const s of h.starts) runs.set(s.id, (runs.get(s.id) ?? 0) + 1);
    expect(runs.size).toBe(1000);
    expect(Math.min(...runs.values())).toBe(6);
    expect(Math.max(...runs.values())).toBeLessThanOrEqual(7);
    // Not a timer per monitor: the schedule's timer and the flush timer.
    expect(maxTimers).toBeLessThanOrEqual(2);
    expect(h.scheduler.stats()).toMatchObject({ monitors: 1000, skipped: 0, lagMaxMs: 0 });
    await h.stop();
  });

  test('no drift: runs start exactly one interval apart, however long each run takes', async () => {
    const h = harness({ durationMs: 1_234 });
    h.scheduler.setMonitors([spec('a', 5_000)]);
    await h.time.advanceTo(50_000);
    expect(h.starts.map((s) => s.at)).toEqual([0, 5000, 10000, 15000, 20000, 25000, 30000, 35000, 40000, 45000, 50000]);
    await h.stop();
  });

  test('bounded concurrency: due checks wait in line and start as slots free up', async () => {
    // Five checks every 5 s taking 3 s each, two at a time: more work than slots.
    const h = harness({ durationMs: 3_000, concurrency: 2 });
    h.scheduler.setMonitors(['a', 'b', 'c', 'd', 'e'].map((id) => spec(id, 5_000)));
    await h.time.advanceTo(30_000);
    expect(h.maxRunning()).toBe(2);
    expect(new Set(h.starts.map((s) => s.id)).size).toBe(5);
    const stats = h.scheduler.stats();
    expect(stats.lagMaxMs).toBeGreaterThan(0);
    expect(stats.skipped).toBeGreaterThan(0);
    await h.stop();
  });

  test('a run slower than the interval is never overlapped; the missed slot is skipped', async () => {
    const h = harness({ durationMs: 7_000 });
    h.scheduler.setMonitors([spec('slow', 5_000)]);
    await h.time.advanceTo(30_000);
    expect(h.starts.map((s) => s.at)).toEqual([0, 10_000, 20_000, 30_000]);
    expect(h.scheduler.stats().skipped).toBe(3);
    await h.stop();
  });

  test('a stalled process skips to the next slot instead of running a backlog', async () => {
    const h = harness();
    h.scheduler.setMonitors([spec('a', 5_000)]);
    await h.time.advanceTo(0);
    h.time.t = 23_000; // the event loop was blocked for 23 s
    await h.time.advanceTo(31_000);
    expect(h.starts.map((s) => s.at)).toEqual([0, 23_000, 25_000, 30_000]);
    await h.stop();
  });

  test('reload: unchanged monitors keep their schedule, removed ones stop, new ones start, a new interval applies', async () => {
    const h = harness();
    h.scheduler.setMonitors([spec('a'), spec('b'), spec('c')]);
    await h.time.advanceTo(12_000);
    const before = h.starts.filter((s) => s.id === 'a').map((s) => s.at);
    expect(before).toEqual([0, 10_000]);
    const change = h.scheduler.setMonitors([spec('a'), spec('b', 20_000), spec('d')]);
    expect(change).toEqual({ added: 1, changed: 1, removed: 1 });
    await h.time.advanceTo(45_000);
    const at = (id: string) => h.starts.filter((s) => s.id === id).map((s) => s.at);
    expect(at('a')).toEqual([0, 10_000, 20_000, 30_000, 40_000]);
    expect(at('c').every((t) => t < 12_000)).toBe(true);
    expect(at('d')[0]).toBe(12_000);
    // b first ran at 3,333 and 13,333... no: at 3,333; its new interval counts from that start.
    expect(at('b')).toEqual([3_333, 23_333, 43_333]);
    await h.stop();
  });

  test('results: steady ones in batches every 250 ms, a failure or a flip at once', async () => {
    const h = harness({ ok: (id, n) => !(id === 'a' && n === 3) });
    h.scheduler.setMonitors([spec('a', 5_000), spec('b', 5_000), spec('c', 5_000), spec('d', 5_000)]);
    await h.time.advanceTo(4_999);
    // Runs at 0, 1250, 2500, 3750 finish 5 ms later; each handed over 250 ms after the first of its batch.
    expect(h.batches.map((b) => [b.at, b.results.length])).toEqual([
      [255, 1],
      [1505, 1],
      [2755, 1],
      [4005, 1],
    ]);
    h.batches.length = 0;
    await h.time.advanceTo(10_010);
    // a's third run (at 10,000) fails: handed over in the same instant it finished.
    const failing = h.batches.find((b) => b.results.some((r) => !r.ok));
    expect(failing?.at).toBe(10_005);
    // Its recovery (a flip) too.
    await h.time.advanceTo(15_010);
    const recovered = h.batches.find((b) => b.at > 10_005 && b.results.some((r) => r.monitorId === 'a'));
    expect(recovered?.at).toBe(15_005);
    await h.stop();
  });

  test('stop: waits for running checks and hands over their results', async () => {
    const h = harness({ durationMs: 500 });
    h.scheduler.setMonitors([spec('a')]);
    await h.time.advanceTo(100);
    const stopping = h.scheduler.stop(2_000);
    await h.time.advanceTo(600);
    await stopping;
    expect(h.batches.flatMap((b) => b.results.map((r) => r.monitorId))).toEqual(['a']);
    h.scheduler.setMonitors([spec('z')]);
    await h.time.advanceTo(30_000);
    expect(h.starts.map((s) => s.id)).toEqual(['a']);
  });
});

function result(id: string): ProbeResult {
  return { monitorId: id, at: 0, ok: true, degraded: false, latencyMs: 1 };
}

describe('ResultReporter', () => {
  test('one delivery at a time; what arrives meanwhile goes in the next batch', async () => {
    const delivered: string[][] = [];
    let release: (() => void) | null = null;
    const reporter = new ResultReporter({
      deliver: (batch) => {
        delivered.push(batch.map((r) => r.monitorId));
        return new Promise<void>((r) => {
          release = r;
        });
      },
    });
    reporter.push([result('a')]);
    reporter.push([result('b')]);
    reporter.push([result('c')]);
    expect(delivered).toEqual([['a']]);
    (release as unknown as () => void)();
    await new Promise((r) => setImmediate(r));
    expect(delivered).toEqual([['a'], ['b', 'c']]);
    (release as unknown as () => void)();
    await reporter.close(100);
    expect(reporter.stats()).toMatchObject({ delivered: 3, buffered: 0, dropped: 0 });
  });

  test('unreachable receiver: results kept (newest, bounded), retried with growing backoff, then delivered', async () => {
    const time = new ManualTime();
    let up = false;
    const delivered: string[] = [];
    const attempts: number[] = [];
    const reporter = new ResultReporter({
      maxBuffered: 3,
      random: () => 1,
      setTimer: (fn, ms) => time.setTimer(fn, ms),
      clearTimer: (h) => time.clearTimer(h),
      deliver: async (batch) => {
        attempts.push(time.now());
        if (!up) throw new Error('connect ECONNREFUSED');
        delivered.push(...batch.map((r) => r.monitorId));
      },
    });
    reporter.push([result('1')]);
    await time.advanceTo(0);
    reporter.push([result('2'), result('3'), result('4')]);
    await time.advanceTo(3_500);
    expect(attempts).toEqual([0, 1_000, 3_000]);
    expect(reporter.stats()).toMatchObject({ buffered: 3, dropped: 1, failing: 3 });
    up = true;
    await time.advanceTo(8_000);
    expect(delivered).toEqual(['2', '3', '4']);
    expect(reporter.stats()).toMatchObject({ buffered: 0, failing: 0, delivered: 3 });
    await reporter.close(100);
  });

  test('a batch the receiver rejects for good is dropped, not retried', async () => {
    let calls = 0;
    const reporter = new ResultReporter({
      deliver: async () => {
        calls++;
        throw new RejectedBatchError('HTTP 400');
      },
    });
    reporter.push([result('a')]);
    await new Promise((r) => setImmediate(r));
    expect(calls).toBe(1);
    expect(reporter.stats()).toMatchObject({ dropped: 1, buffered: 0 });
    await reporter.close(100);
  });
});
