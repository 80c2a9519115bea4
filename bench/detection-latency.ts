/**
 * detection-latency: an origin is killed at t0; how long, in real time, until Keepwarm has an open
 * incident for it? Keepwarm runs as `keepwarm start --roles web,worker,monitor` with
 * detection.declare=auto and one HTTP monitor at interval I with N failures to confirm. The floor
 * is I×N (a failure can only be confirmed by the N-th failing check, which comes at most I×N after
 * t0 and on average I×(N-½)); the ratio is the median latency over that floor.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { envNumber, median, round } from './lib/env.js';
import { type KeepwarmServer, startKeepwarm } from './lib/keepwarm.js';
import { freePort } from './lib/ports.js';
import { type Daemon, makeTempDir, removeTempDir } from './lib/process.js';
import type { Benchmark, BenchResult } from './lib/types.js';
import { startOrigin } from './probe-scale.js';

const TARGET_RATIO = 1.2;

interface Health {
  components: Array<{
    id: string;
    status: string;
    monitors: Array<{ id: string; regions: Array<{ region: string; state: string }> }>;
  }>;
}
interface IncidentSummary {
  id: string;
  declared_at: string;
  started_at: string;
}

async function waitFor<T>(what: string, timeoutMs: number, intervalMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(intervalMs);
  }
}

async function run(): Promise<BenchResult> {
  const intervalS = envNumber('BENCH_INTERVAL', 5, { min: 5 });
  const confirmations = envNumber('BENCH_CONFIRMATIONS', 2, { integer: true });
  const rounds = envNumber('BENCH_ROUNDS', 3, { integer: true });
  const floorS = intervalS * confirmations;
  const dir = await makeTempDir('keepwarm-bench-detect-');
  let kw: KeepwarmServer | null = null;
  let origin: Daemon | null = null;
  try {
    const originPort = await freePort();
    const startOriginNow = async () => {
      origin = (await startOrigin(originPort, `${dir}/origin.log`)).daemon;
    };
    await startOriginNow();
    kw = await startKeepwarm({
      dataDir: dir,
      extraArgs: ['--roles', 'web,worker,monitor'],
      env: { KEEPWARM_DETECTION_DECLARE: 'auto' },
    });
    const server = kw;
    const component = await server.api<{ id: string }>('POST', '/api/v1/components', { name: 'Showroom origin', kind: 'origin' });
    const monitor = await server.api<{ id: string }>('POST', '/api/v1/monitors', {
      component: component.id,
      name: 'Origin health',
      type: 'http',
      check: { url: `http://127.0.0.1:${originPort}/health`, bodyContains: 'ok', timeoutMs: 2_000 },
      interval_seconds: intervalS,
      failures_to_down: confirmations,
      successes_to_up: 2,
    });
    console.log(
      `detection-latency: interval ${intervalS} s × ${confirmations} confirmations (floor ${floorS} s), ${rounds} round(s); ` +
        `Keepwarm ${server.url} (web, worker, monitor; declare auto)`,
    );
    const healthOf = async () => {
      const h = await server.api<Health>('GET', '/api/v1/health');
      return h.components.find((c) => c.id === component.id);
    };
    const healthy = async () => {
      const c = await healthOf();
      const state = c?.monitors.find((m) => m.id === monitor.id)?.regions[0]?.state;
      return c?.status === 'operational' && state === 'up' ? true : undefined;
    };
    // The monitor role loads new monitors within its reload period (30 s).
    await waitFor('the monitor role to run the new monitor', 60_000, 200, healthy);

    const seconds: number[] = [];
    for (let round_ = 1; round_ <= rounds; round_++) {
      // Kill at a random point of the check cycle, as a real outage would.
      await sleep(Math.random() * intervalS * 1000);
      const known = new Set(
        (await server.api<{ incidents: IncidentSummary[] }>('GET', '/api/v1/incidents?state=open')).incidents.map((i) => i.id),
      );
      const t0 = performance.now();
      const wallT0 = Date.now();
      (origin as Daemon | null)?.child.kill('SIGKILL');
      const incident = await waitFor('an incident', floorS * 1000 * 3 + 30_000, 50, async () => {
        const list = await server.api<{ incidents: IncidentSummary[] }>('GET', '/api/v1/incidents?state=open');
        return list.incidents.find((i) => !known.has(i.id));
      });
      const elapsed = (performance.now() - t0) / 1000;
      seconds.push(elapsed);
      const declaredAfter = (Date.parse(incident.declared_at) - wallT0) / 1000;
      console.log(
        `  round ${round_}: incident after ${elapsed.toFixed(2)} s (declared ${declaredAfter.toFixed(2)} s after the kill; ratio ${(elapsed / floorS).toFixed(2)})`,
      );
      await (origin as Daemon | null)?.stop(1_000);
      if (round_ === rounds) break;
      // Back to normal for the next round: the incident resolved, the origin up and seen up.
      await server.api('POST', `/api/v1/incidents/${incident.id}/updates`, {
        status: 'resolved',
        message: 'Benchmark round over.',
      });
      await startOriginNow();
      await waitFor('the origin to be seen healthy again', 120_000, 200, healthy);
    }

    const med = median(seconds);
    const ratio = round(med / floorS, 3);
    console.log(`  median ${med.toFixed(2)} s vs floor ${floorS} s: ratio ${ratio} (target <= ${TARGET_RATIO})`);
    return {
      bench: 'detection-latency',
      figures: {
        interval_s: intervalS,
        confirmations,
        rounds,
        seconds: round(med, 2),
        seconds_min: round(Math.min(...seconds), 2),
        seconds_max: round(Math.max(...seconds), 2),
        each_s: seconds.map((s) => s.toFixed(2)).join(' '),
      },
      reference: { floor_s: floorS, expected_mean_s: round(intervalS * (confirmations - 0.5), 2) },
      ratio,
      target: `median / (interval × confirmations) <= ${TARGET_RATIO}`,
      pass: ratio <= TARGET_RATIO,
    };
  } finally {
    await (origin as Daemon | null)?.stop(1_000);
    await kw?.stop();
    await removeTempDir(dir);
  }
}

export const detectionLatency: Benchmark = {
  name: 'detection-latency',
  description: 'origin killed → incident declared, in real time, vs the floor interval × confirmations',
  run,
};
