import type { Logger } from 'pino';
import type { Bus } from '../../core/bus.js';
import type { DetectionService } from '../detection.service.js';
import { ResultReporter } from './reporter.js';
import { type CheckRunner, ProbeRunner } from './runner.js';
import { ProbeScheduler } from './scheduler.js';

export const DEFAULT_RELOAD_MS = 30_000;

export interface LocalMonitor {
  readonly scheduler: ProbeScheduler;
  readonly reporter: ResultReporter;
  /** Load the region's monitors now (also runs every reloadMs). */
  reload(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The `monitor` role: this process is a vantage point of its own region (config
 * `detection.region`). It runs the monitors assigned to that region and hands the results straight
 * to the detection service, like an agent would through the API. The set of monitors is reloaded
 * every `reloadMs`, and at once when this process changes one (`bus`); unchanged monitors keep
 * their schedule.
 */
export function startLocalMonitor(deps: {
  detection: Pick<DetectionService, 'assignments' | 'recordResults'>;
  region: string;
  log: Logger;
  /** Reload as soon as a monitor is changed through this process. */
  bus?: Bus;
  now?: () => number;
  reloadMs?: number;
  concurrency?: number;
  runner?: CheckRunner;
}): LocalMonitor {
  const { detection, region } = deps;
  const log = deps.log.child({ role: 'monitor', region });
  const runner = deps.runner ?? new ProbeRunner(deps.now ? { now: deps.now } : {});
  const reporter = new ResultReporter({
    deliver: async (batch) => {
      await detection.recordResults(region, batch);
    },
    log,
  });
  const scheduler = new ProbeScheduler({
    run: (spec) => runner.run(spec),
    onResults: (batch) => reporter.push(batch),
    log,
    ...(deps.concurrency !== undefined && { concurrency: deps.concurrency }),
  });
  const reloadMs = deps.reloadMs ?? DEFAULT_RELOAD_MS;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let loading: Promise<void> | null = null;

  const reload = (): Promise<void> => {
    loading ??= (async () => {
      try {
        const specs = await detection.assignments(region);
        if (stopped) return;
        const change = scheduler.setMonitors(specs);
        if (change.added + change.changed + change.removed > 0)
          log.info({ monitors: specs.length, ...change }, 'monitors loaded');
      } catch (err) {
        log.warn({ err }, 'could not load monitors; keeping the current set');
      } finally {
        loading = null;
      }
    })();
    return loading;
  };
  const loop = () => {
    timer = setTimeout(() => {
      void reload().finally(() => {
        if (!stopped) loop();
      });
    }, reloadMs);
  };
  void reload().finally(() => {
    if (!stopped) loop();
  });
  // A change: wait for a load already under way (it may have read before the change), then load.
  let changed = false;
  let following: Promise<void> | null = null;
  const unsubscribe = deps.bus?.on('monitors.changed', () => {
    changed = true;
    following ??= (async () => {
      while (changed && !stopped) {
        changed = false;
        await loading;
        await reload();
      }
      following = null;
    })();
  });

  return {
    scheduler,
    reporter,
    reload,
    async stop() {
      if (stopped) return;
      stopped = true;
      unsubscribe?.();
      if (timer) clearTimeout(timer);
      await following;
      await loading;
      await scheduler.stop(2_000);
      await runner.close();
      await reporter.close(5_000);
    },
  };
}
