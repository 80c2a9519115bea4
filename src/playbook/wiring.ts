import type { Services } from '../app/services.js';
import { PlaybookService } from './playbook.service.js';

/**
 * Build the playbook engine from the loaded playbook (config.playbook) and register it: the
 * incident change hook (checklist at declaration, reconcile on every update, in their
 * transaction) and a reconcile job whenever this process hears an incident changed.
 */
export function createPlaybookService(
  s: Pick<
    Services,
    'config' | 'db' | 'clock' | 'bus' | 'jobs' | 'incidents' | 'outbox' | 'templates' | 'flags' | 'crmOutage' | 'log'
  >,
): PlaybookService {
  const { config } = s;
  const log = s.log.child({ role: 'playbook' });
  const playbook = new PlaybookService({
    db: s.db,
    clock: s.clock,
    bus: s.bus,
    jobs: s.jobs,
    incidents: s.incidents,
    outbox: s.outbox,
    templates: s.templates,
    flags: s.flags,
    crm: s.crmOutage,
    log,
    playbook: config.playbook,
    file: config.playbookFile,
    options: {
      publicUrl: config.publicUrl,
      fallbackUrl: config.status.fallbackUrl ?? config.messaging.variables.fallback_url ?? null,
      variables: config.messaging.variables,
    },
  });
  s.incidents.onChange(playbook.onIncidentChange);
  s.bus.on('incident.changed', (incidentId) => {
    playbook.noticeChange(incidentId).catch((err: unknown) => {
      // Best effort: the sweep job reconciles open incidents anyway.
      log.debug({ err, incidentId }, 'playbook reconcile not queued');
    });
  });
  return playbook;
}
