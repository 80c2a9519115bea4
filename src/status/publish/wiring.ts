import type { Logger } from 'pino';
import type { Config } from '../../config/config.js';
import type { Clock } from '../../core/clock.js';
import type { Database } from '../../db/database.js';
import type { JobQueue } from '../../db/jobs/job-queue.js';
import type { StatusFeed } from '../../incidents/statuspage.service.js';
import { type NextUpdates, StatusSite, siteOptionsFromConfig } from '../site/site.service.js';
import { createTargets, StatusPublisher } from './publisher.js';

/** The live status site and the publisher to static targets, wired from the shared services. */
export function createStatusSiteServices(
  base: { config: Config; db: Database; clock: Clock; log: Logger; jobs: JobQueue; statusFeed: StatusFeed },
  nextUpdates?: NextUpdates,
): { statusSite: StatusSite; statusPublisher: StatusPublisher } {
  const options = siteOptionsFromConfig(base.config);
  return {
    statusSite: new StatusSite({
      db: base.db,
      clock: base.clock,
      log: base.log,
      feed: base.statusFeed,
      options,
      ...(nextUpdates && { nextUpdates }),
    }),
    statusPublisher: new StatusPublisher({
      db: base.db,
      clock: base.clock,
      log: base.log.child({ role: 'status-publish' }),
      jobs: base.jobs,
      targets: createTargets(base.config.status.targets),
      options,
      ...(nextUpdates && { nextUpdates }),
    }),
  };
}
