import type { Services } from '../../app/services.js';
import {
  ConversationService,
  type ConversationService as Conversations,
  type CreateOwnerTask,
} from '../conversations/conversations.service.js';
import { LinkService } from '../links.service.js';
import { sequencesFromPlaybook } from './definitions.js';
import { linkTargetsFrom, SequenceService } from './sequences.service.js';

export interface EngagementServices {
  sequences: SequenceService;
  conversations: Conversations;
  links: LinkService;
}

type Base = Pick<Services, 'config' | 'db' | 'clock' | 'log' | 'jobs' | 'outbox' | 'templates' | 'secret'>;

/**
 * Outage sequences, the conversation engine (SMS replies and chat) and signed redirect links.
 * `createOwnerTask`: the outage engine's task creation (owner or round robin); without it the
 * lead's owner gets the task directly.
 */
export function createEngagementServices(
  services: Base,
  options: { createOwnerTask?: CreateOwnerTask } = {},
): EngagementServices {
  const { config, db, clock, log, jobs, outbox, templates, secret } = services;
  const targets = linkTargetsFrom({ fallbackUrl: config.status.fallbackUrl, variables: config.messaging.variables });
  const crmLog = log.child({ role: 'crm' });
  return {
    sequences: new SequenceService({
      db,
      clock,
      jobs,
      outbox,
      secret,
      log: crmLog,
      options: { publicUrl: config.publicUrl, targets, sequences: sequencesFromPlaybook(config.playbook.sequences) },
    }),
    conversations: new ConversationService({
      db,
      clock,
      outbox,
      templates,
      secret,
      log: crmLog,
      ...(options.createOwnerTask && { createOwnerTask: options.createOwnerTask }),
      options: { publicUrl: config.publicUrl, targets, variables: config.messaging.variables },
    }),
    links: new LinkService({ db, clock, secret, log: crmLog }),
  };
}
