import type { Services } from '../../app/services.js';
import { DrafterService } from '../drafter/drafter.service.js';
import {
  CadenceService,
  ESCALATION_EMAIL_TEMPLATE,
  ESCALATION_SLACK_TEMPLATE,
  HOLDING_TEMPLATE,
  REMINDER_TEMPLATE,
} from './cadence.service.js';

/**
 * Build the cadence and the drafter from the other services and register the cadence's incident
 * change hook (so every declaration and public update schedules its checks in its transaction).
 */
export function createCadenceServices(s: Omit<Services, 'cadence' | 'drafter' | 'broadcast' | 'playbook' | 'reports'>): {
  cadence: CadenceService;
  drafter: DrafterService;
} {
  const { config } = s;
  const fallbackUrl = config.status.fallbackUrl ?? config.messaging.variables.fallback_url;
  // The cadence and its templates come from the playbook.
  const { cadence: playbookCadence, templates } = config.playbook;
  const rules = {
    acknowledgeMs: playbookCadence.acknowledgeWithin,
    promiseMs: playbookCadence.promiseEvery,
    targetMs: playbookCadence.targetEvery,
    remindBeforeMs: playbookCadence.remindBefore,
  };
  const cadence = new CadenceService({
    db: s.db,
    clock: s.clock,
    bus: s.bus,
    jobs: s.jobs,
    incidents: s.incidents,
    outbox: s.outbox,
    templates: s.templates,
    log: s.log.child({ role: 'cadence' }),
    options: {
      rules,
      holdingUpdates: playbookCadence.holdingUpdates,
      backupRole: playbookCadence.backupRole,
      templates: {
        holding: templates.holding.status ?? HOLDING_TEMPLATE,
        reminder: templates.reminder.slack ?? REMINDER_TEMPLATE,
        escalationSlack: templates.escalation.slack ?? ESCALATION_SLACK_TEMPLATE,
        escalationEmail: templates.escalation.email ?? ESCALATION_EMAIL_TEMPLATE,
      },
      publicUrl: config.publicUrl,
      fallbackUrl,
      variables: config.messaging.variables,
    },
  });
  s.incidents.onChange(cadence.onIncidentChange);
  const { drafter: llm } = config.status;
  const drafter = new DrafterService({
    db: s.db,
    clock: s.clock,
    templates: s.templates,
    log: s.log.child({ role: 'drafter' }),
    options: {
      fallbackUrl,
      promiseMs: rules.promiseMs,
      llm: llm.llmBaseUrl
        ? { baseUrl: llm.llmBaseUrl, model: llm.llmModel, apiKey: llm.llmApiKey, timeoutMs: llm.llmTimeoutSeconds * 1000 }
        : undefined,
    },
  });
  return { cadence, drafter };
}
