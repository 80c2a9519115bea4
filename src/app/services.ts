import type { Logger } from 'pino';
import { AuthService } from '../auth/auth.service.js';
import type { Config } from '../config/config.js';
import { Bus } from '../core/bus.js';
import type { Clock } from '../core/clock.js';
import type { Database } from '../db/database.js';
import { JobQueue } from '../db/jobs/job-queue.js';
import { ComponentService } from '../incidents/components.service.js';
import { IncidentService } from '../incidents/incidents.service.js';
import { StatusFeed } from '../incidents/statuspage.service.js';

/** Side effects, passed in: database, clock, logger (providers join here as features land). */
export interface Deps {
  config: Config;
  db: Database;
  clock: Clock;
  log: Logger;
  bus?: Bus;
}

export interface Services {
  config: Config;
  db: Database;
  clock: Clock;
  log: Logger;
  bus: Bus;
  jobs: JobQueue;
  auth: AuthService;
  components: ComponentService;
  incidents: IncidentService;
  statusFeed: StatusFeed;
}

/** Wire every service once; web, worker and CLI all use the same graph. */
export function createServices(deps: Deps): Services {
  const bus = deps.bus ?? new Bus();
  const { config, db, clock, log } = deps;
  return {
    config,
    db,
    clock,
    log,
    bus,
    jobs: new JobQueue({ clock, bus, maxAttempts: config.jobs.maxAttempts }),
    auth: new AuthService({ db, clock, options: config.auth }),
    components: new ComponentService({ db, clock, bus }),
    incidents: new IncidentService({ db, clock, bus }),
    statusFeed: new StatusFeed({
      db,
      clock,
      bus,
      log,
      options: { pageName: config.status.pageName, publicUrl: config.publicUrl, includeDrills: config.status.includeDrills },
    }),
  };
}
