import { relative } from 'node:path';
import { z } from 'zod';
import { errorBodySchema, STANDARD_ERRORS } from '../app/openapi.js';
import type { Router } from '../app/router.js';
import type { PlaybookService } from './playbook.service.js';

const checklistItemSchema = z.object({
  id: z.string().describe("The playbook item's id"),
  title: z.string(),
  role: z.string().describe('Who the item is assigned to'),
  position: z.number(),
  state: z.enum(['open', 'done']),
  due_at: z.string().nullable().describe('Deadline (null: none, or counted from a resolution still to come)'),
  due_from: z.enum(['declared', 'resolved']),
  overdue: z.boolean().describe('Open and past its deadline'),
  overdue_at: z.string().nullable().describe('When the deadline job recorded it overdue on the timeline'),
  done_at: z.string().nullable(),
  done_by: z
    .object({ type: z.string(), id: z.string().nullable(), name: z.string().nullable() })
    .nullable()
    .describe('The person (user or token) who completed it, or the playbook when an event did'),
  done_by_event: z
    .object({ id: z.string(), type: z.string().nullable() })
    .nullable()
    .describe('The timeline event that completed it'),
  note: z.string().nullable(),
  completes_on: z.array(z.string()).describe('Timeline event types that complete it by themselves'),
});

const checklistSchema = z.object({
  incident_id: z.string(),
  drill: z.boolean(),
  items: z.array(checklistItemSchema),
  actions: z
    .array(
      z.object({
        rule: z.string(),
        action_index: z.number(),
        action: z.string(),
        trigger_event_id: z.string(),
        outcome: z.enum(['done', 'skipped', 'simulated', 'failed']),
        detail: z.string(),
        at: z.string(),
      }),
    )
    .describe('Automatic actions taken for this incident, each once per rule, action and triggering event'),
});

export function registerPlaybookRoutes(r: Router, playbook: PlaybookService, cwd: string = process.cwd()): void {
  r.route({
    method: 'GET',
    url: '/api/v1/playbook',
    summary: 'The playbook in force and where it came from',
    description:
      'The parsed playbook (every section, defaults filled in; durations in milliseconds) and its source file, or built_in: true when playbooks/showroom.yaml was absent.',
    tags: ['playbook'],
    access: 'incidents.read',
    responses: {
      200: {
        description: 'Playbook',
        schema: z.object({
          source: z.object({ file: z.string().nullable(), built_in: z.boolean() }),
          durations: z.literal('milliseconds'),
          playbook: z.record(z.string(), z.unknown()),
        }),
      },
      ...STANDARD_ERRORS,
    },
    async handler() {
      const file = playbook.file;
      const shown = file === null ? null : relative(cwd, file).startsWith('..') ? file : relative(cwd, file);
      return { source: { file: shown, built_in: file === null }, durations: 'milliseconds', playbook: playbook.playbook };
    },
  });

  r.route({
    method: 'GET',
    url: '/api/v1/incidents/:id/checklist',
    summary: "An incident's checklist and the playbook's automatic actions",
    description:
      'Items with their role, deadline, state and who (or which timeline event) completed them; the actions taken and why.',
    tags: ['incidents', 'playbook'],
    access: 'incidents.read',
    params: z.object({ id: z.string().min(1) }),
    responses: {
      200: { description: 'Checklist', schema: checklistSchema },
      404: { description: 'No such incident', schema: errorBodySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ params }) {
      return playbook.checklist(params.id);
    },
  });

  r.route({
    method: 'POST',
    url: '/api/v1/incidents/:id/checklist/:item/complete',
    summary: 'Complete a checklist item',
    description: 'Records who completed it (the caller), when, and an optional note, on the item and on the timeline.',
    tags: ['incidents', 'playbook'],
    access: 'incidents.note',
    params: z.object({ id: z.string().min(1), item: z.string().min(1) }),
    body: z.strictObject({ note: z.string().max(2000, 'expected at most 2000 characters').optional() }).optional(),
    responses: {
      200: { description: 'The completed item', schema: checklistItemSchema },
      404: { description: 'No such incident', schema: errorBodySchema },
      409: { description: 'Already done (by whom and when)', schema: errorBodySchema },
      422: { description: 'No such item on this incident', schema: errorBodySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ params, body, actor }) {
      return playbook.complete(actor, params.id, params.item, body?.note);
    },
  });
}
