import { z } from 'zod';
import { errorBodySchema, STANDARD_ERRORS } from '../../app/openapi.js';
import type { Router } from '../../app/router.js';
import { OUTCOMES, type OutageService } from './outage.service.js';

const taskSchema = z.object({
  id: z.string(),
  incident_id: z.string().nullable(),
  drill: z.boolean().describe("A drill's task: a rehearsal (do not call the lead); its outcome never changes the lead"),
  lead: z.object({
    id: z.string(),
    name: z.string(),
    company: z.string().nullable(),
    phone: z.string().nullable(),
    email: z.string().nullable(),
    tier: z.string().nullable().describe("The lead's tier (for a drill's task, the tier the drill gave it)"),
    tier_rule: z.string().nullable().describe('The tier rule that matched'),
  }),
  owner_id: z.string().nullable().describe('null: unassigned, in the shared queue'),
  kind: z.string().describe('call_now | account_call | reply_followup | recovery_followup'),
  title: z.string(),
  script: z.string().nullable().describe('Call script rendered for this lead'),
  due_at: z.string(),
  state: z.string().describe('open | done | cancelled'),
  outcome: z.string().nullable(),
  outcome_note: z.string().nullable(),
  assigned_reason: z.string().nullable().describe('Why this owner: "owner", "round robin: owner off hours", …'),
  created_at: z.string(),
  done_at: z.string().nullable(),
});

export function registerTaskRoutes(r: Router, outage: OutageService): void {
  r.route({
    method: 'GET',
    url: '/api/v1/tasks',
    summary: 'Owner tasks (call now, account calls, follow-ups)',
    description:
      'Sales users see their own tasks (owner=me, the default for them); commanders and admins any owner, "unassigned" or "all" (their default).',
    tags: ['crm'],
    access: 'tasks.work',
    query: z.object({
      owner: z.string().min(1).optional().describe('me | all | unassigned | a user id'),
      state: z.enum(['open', 'done', 'cancelled', 'all']).default('open'),
      incident: z.string().min(1).optional(),
      limit: z.coerce.number().int().min(1).max(1000).default(200),
    }),
    responses: {
      200: { description: 'Tasks, soonest due first', schema: z.object({ tasks: z.array(taskSchema) }) },
      ...STANDARD_ERRORS,
    },
    async handler({ query, actor }) {
      return { tasks: await outage.listTasks(actor, query) };
    },
  });

  r.route({
    method: 'POST',
    url: '/api/v1/tasks/:id/outcome',
    summary: "Record a task's outcome",
    description:
      "Closes the task and puts the outcome on the incident timeline. demo_booked also marks the lead re-engaged and stops its sequences; voicemail and no_answer only close the task. A drill's task is only closed: the lead is never changed.",
    tags: ['crm'],
    access: 'tasks.work',
    params: z.object({ id: z.string().min(1) }),
    body: z.strictObject({ outcome: z.enum(OUTCOMES), note: z.string().trim().max(2000).optional() }),
    responses: {
      200: { description: 'The task, done', schema: taskSchema },
      404: { description: 'No such task', schema: errorBodySchema },
      409: { description: 'The task is already closed', schema: errorBodySchema },
      ...STANDARD_ERRORS,
    },
    async handler({ params, body, actor }) {
      return outage.recordOutcome(actor, params.id, body);
    },
  });
}
