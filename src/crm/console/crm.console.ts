import { z } from 'zod';
import type { Actor } from '../../app/actor.js';
import { can } from '../../app/roles.js';
import type { Router } from '../../app/router.js';
import { sendPage } from '../../console/layout.js';
import { AppError } from '../../core/errors.js';
import type { Database } from '../../db/database.js';
import { OUTCOMES, type Outcome } from '../outage/outage.service.js';
import { LeadQueuePage, TasksPage, TIERS } from './crm.pages.js';
import * as repo from './crm-console.repo.js';

const html = { 200: { description: 'HTML page', contentType: 'text/html' } };

/** Records how a task went (the outage engine's rule: done, timeline, re-engagement). */
export type RecordOutcome = (actor: Actor, taskId: string, outcome: Outcome, note: string | undefined) => Promise<unknown>;

/** The sales console: the lead queue by tier and a rep's tasks with one-click outcomes. */
export function registerCrmConsole(
  r: Router,
  deps: { db: Database; clock: { now(): number }; recordOutcome: RecordOutcome },
): void {
  const { db } = deps;

  r.route({
    method: 'GET',
    url: '/console/leads',
    summary: 'Lead queue of an outage by tier, with the rule that matched each lead and its sequence',
    tags: ['console'],
    access: 'leads.read',
    page: true,
    query: z.object({ incident: z.string().optional(), tier: z.enum(TIERS).default('A') }),
    responses: html,
    async handler({ query, actor, reply }) {
      const incidents = await repo.taggedIncidents(db.kysely);
      // By default an open outage (a real one before a drill), else the latest.
      const open = (i: repo.QueueIncident) => i.status !== 'resolved' && i.status !== 'postmortem';
      const chosen =
        (query.incident ? incidents.find((i) => i.id === query.incident) : undefined) ??
        incidents.find((i) => open(i) && !i.drill) ??
        incidents.find(open) ??
        incidents[0];
      const incidentId = chosen?.id ?? null;
      const drill = chosen?.drill ?? false;
      const limit = 200;
      const [counts, rows] = incidentId
        ? await Promise.all([
            repo.tierCounts(db.kysely, incidentId, drill),
            repo.queue(db.kysely, { incidentId, tier: query.tier, limit, drill }),
          ])
        : [{}, []];
      return sendPage(reply, LeadQueuePage({ actor, incidents, incidentId, tier: query.tier, counts, rows, limit }));
    },
  });

  const renderTasks = async (actor: Actor, everyone: boolean, extra: { notice?: string; error?: string } = {}) => {
    const ownerId = everyone ? null : (actor.id ?? 'no-such-owner');
    const [open, done] = await Promise.all([
      repo.tasks(db.kysely, { ownerId, state: 'open', limit: 200 }),
      repo.tasks(db.kysely, { ownerId, state: 'done', limit: 20 }),
    ]);
    return TasksPage({ actor, everyone, open, done, now: deps.clock.now(), ...extra });
  };

  r.route({
    method: 'GET',
    url: '/console/tasks',
    summary: "A rep's tasks (or everyone's for a commander): who to call, the script, one-click outcomes",
    tags: ['console'],
    access: 'tasks.work',
    page: true,
    query: z.object({ owner: z.enum(['me', 'all']).default('me'), done: z.string().optional() }),
    responses: html,
    async handler({ query, actor, reply }) {
      const everyone = query.owner === 'all' && can(actor.role, 'incidents.update');
      const notice = query.done ? `Recorded: ${query.done.replaceAll('_', ' ')}.` : undefined;
      return sendPage(reply, await renderTasks(actor, everyone, notice ? { notice } : {}));
    },
  });

  r.route({
    method: 'POST',
    url: '/console/tasks/:id/outcome',
    summary: 'Record the outcome of a task from the console (reached, voicemail, demo booked, no answer)',
    tags: ['console'],
    access: 'tasks.work',
    page: true,
    params: z.object({ id: z.string().min(1) }),
    bodyContentType: 'application/x-www-form-urlencoded',
    body: z.record(z.string(), z.union([z.string(), z.array(z.string())])),
    responses: {
      303: { description: 'Recorded: back to the tasks' },
      422: { description: 'The page again, with the reason', contentType: 'text/html' },
    },
    async handler({ params, body, actor, reply }) {
      const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v) ?? '';
      const outcome = one(body.outcome);
      const note = one(body.note).trim();
      if (!(OUTCOMES as readonly string[]).includes(outcome)) {
        return sendPage(reply, await renderTasks(actor, false, { error: 'Choose an outcome.' }), 422);
      }
      try {
        await deps.recordOutcome(actor, params.id, outcome as Outcome, note === '' ? undefined : note);
        return reply.redirect(`/console/tasks?done=${outcome}`, 303);
      } catch (err) {
        if (!(err instanceof AppError) || err.status >= 500 || err.status === 404) throw err;
        return sendPage(reply, await renderTasks(actor, false, { error: err.message }), err.status);
      }
    },
  });
}
