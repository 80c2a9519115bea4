import type { Services } from '../../app/services.js';
import { OutageService, type StopEnrollments } from './outage.service.js';

/** Build the outage engine and register its incident change hook (one job per declaration / resolution). */
export function createOutageService(
  base: Pick<Services, 'config' | 'db' | 'clock' | 'log' | 'jobs' | 'outbox' | 'templates' | 'incidents'>,
  options: { stopEnrollments?: StopEnrollments } = {},
): OutageService {
  const outage = new OutageService({
    db: base.db,
    clock: base.clock,
    jobs: base.jobs,
    templates: base.templates,
    outbox: base.outbox,
    log: base.log.child({ feature: 'crm.outage' }),
    config: base.config,
    ...(options.stopEnrollments && { stopEnrollments: options.stopEnrollments }),
  });
  base.incidents.onChange((trx, change) => outage.onIncidentChange(trx, change));
  return outage;
}
