import type { Services } from '../../app/services.js';
import { SubscriberService, type WebhookPoster } from './subscribers.service.js';

/** Build the subscriber service and register its incident change hook (the fan-out job). */
export function createSubscriberService(
  base: Pick<Services, 'config' | 'db' | 'clock' | 'log' | 'jobs' | 'outbox' | 'secret' | 'incidents'>,
  options: { post?: WebhookPoster } = {},
): SubscriberService {
  const { config } = base;
  const subscribers = new SubscriberService({
    db: base.db,
    clock: base.clock,
    jobs: base.jobs,
    outbox: base.outbox,
    secret: base.secret,
    log: base.log.child({ feature: 'subscribers' }),
    ...(options.post && { post: options.post }),
    options: { publicUrl: config.publicUrl, pageName: config.status.pageName, variables: config.messaging.variables },
  });
  base.incidents.onChange((trx, change) => subscribers.onIncidentChange(trx, change));
  return subscribers;
}
