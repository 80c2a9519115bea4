import { z } from 'zod';
import type { Router } from '../app/router.js';
import type { Services } from '../app/services.js';
import { sendPage } from '../console/layout.js';
import { AppError } from '../core/errors.js';
import { type Component, listComponents } from '../incidents/components.repo.js';
import { type BoardRow, type Bucket, HealthBoardPage, MonitorsPage } from './detection.pages.js';
import * as repo from './detection.repo.js';

const QUARTER = 15 * 60_000;
const form = z.record(z.string(), z.string());
const html = { 200: { description: 'HTML page', contentType: 'text/html' } };

/** 96 quarter-hours: the worst outcome among the rolled-up results of these monitors. */
export function historyBuckets(
  rows: ReadonlyArray<{ monitorId: string; minute: number; ok: number; degraded: number; failed: number }>,
  monitorIds: ReadonlySet<string>,
  now: number,
): Bucket[] {
  const start = Math.floor(now / QUARTER) * QUARTER - 95 * QUARTER;
  const buckets: Bucket[] = Array.from({ length: 96 }, () => 'none');
  const rank: Record<Bucket, number> = { none: 0, ok: 1, degraded: 2, failed: 3 };
  for (const r of rows) {
    if (!monitorIds.has(r.monitorId) || r.minute < start) continue;
    const i = Math.floor((r.minute - start) / QUARTER);
    if (i < 0 || i >= 96) continue;
    const outcome: Bucket = r.failed > 0 ? 'failed' : r.degraded > 0 ? 'degraded' : r.ok > 0 ? 'ok' : 'none';
    if (rank[outcome] > rank[buckets[i] as Bucket]) buckets[i] = outcome;
  }
  return buckets;
}

/** The health board's rows (component × region, signals, 24 h): every component, or only those named. */
export async function healthBoardRows(
  services: Pick<Services, 'db' | 'clock'>,
  only?: ReadonlySet<string>,
): Promise<{ rows: BoardRow[]; components: Component[] }> {
  const { db, clock } = services;
  const now = clock.now();
  const [components, health, allMonitors, states, signals, history] = await Promise.all([
    listComponents(db.kysely),
    repo.listHealth(db.kysely),
    repo.listMonitors(db.kysely),
    repo.listStates(db.kysely),
    repo.firingSignals(db.kysely),
    repo.historySince(db.kysely, now - 24 * 60 * 60_000),
  ]);
  const rows: BoardRow[] = components
    .filter((component) => !only || only.has(component.id))
    .map((component) => {
      const mine = allMonitors.filter((m) => m.componentId === component.id);
      return {
        component,
        health: health.get(component.id),
        monitors: mine.map((monitor) => ({ monitor, states: states.filter((s) => s.monitorId === monitor.id) })),
        signals: signals.filter((s) => s.componentId === component.id),
        buckets: historyBuckets(history, new Set(mine.map((m) => m.id)), now),
      };
    });
  return { rows, components };
}

export function registerDetectionConsole(r: Router, services: Services): void {
  const { db, detection, monitors } = services;

  const board = async (extra: { notice?: string; error?: string } = {}) => {
    const [{ rows, components }, detections] = await Promise.all([healthBoardRows(services), repo.listDetections(db.kysely, 20)]);
    return { rows, detections, componentNames: new Map(components.map((c) => [c.id, c.name])), ...extra };
  };

  r.route({
    method: 'GET',
    url: '/console/health',
    summary: 'Health board: every component across regions and sources, with 24 h history',
    tags: ['console'],
    access: 'monitors.read',
    page: true,
    query: z.object({ done: z.enum(['confirmed', 'dismissed']).optional() }),
    responses: html,
    async handler({ query, actor, reply }) {
      const notice = query.done === 'dismissed' ? 'Dismissed: no incident was declared.' : undefined;
      return sendPage(reply, HealthBoardPage({ actor, ...(await board(notice ? { notice } : {})) }));
    },
  });

  for (const action of ['confirm', 'dismiss'] as const) {
    r.route({
      method: 'POST',
      url: `/console/detections/:id/${action}`,
      summary:
        action === 'confirm' ? 'Declare the incident of a suggested outage' : 'Dismiss a suggested outage as a false alarm',
      tags: ['console'],
      access: 'detections.decide',
      page: true,
      params: z.object({ id: z.string() }),
      bodyContentType: 'application/x-www-form-urlencoded',
      body: form,
      responses: { 303: { description: 'Done: to the incident, or back to the board' } },
      async handler({ params, actor, reply }) {
        try {
          if (action === 'confirm') {
            const incidentId = await detection.confirm(actor, params.id);
            return reply.redirect(`/console/incidents/${incidentId}`, 303);
          }
          await detection.dismiss(actor, params.id);
          return reply.redirect('/console/health?done=dismissed', 303);
        } catch (err) {
          if (!(err instanceof AppError) || err.status >= 500) throw err;
          return sendPage(reply, HealthBoardPage({ actor, ...(await board({ error: err.message })) }), err.status);
        }
      },
    });
  }

  const monitorsPage = async (
    actor: Parameters<typeof MonitorsPage>[0]['actor'],
    extra: { error?: string; notice?: string } = {},
  ) => MonitorsPage({ actor, monitors: await monitors.list(), components: await listComponents(db.kysely), ...extra });

  r.route({
    method: 'GET',
    url: '/console/monitors',
    summary: 'Monitors page',
    tags: ['console'],
    access: 'monitors.read',
    page: true,
    query: z.object({ done: z.enum(['created', 'deleted']).optional() }),
    responses: html,
    async handler({ query, actor, reply }) {
      const notice = query.done === 'created' ? 'Monitor added.' : query.done === 'deleted' ? 'Monitor deleted.' : undefined;
      return sendPage(reply, await monitorsPage(actor, notice ? { notice } : {}));
    },
  });

  r.route({
    method: 'POST',
    url: '/console/monitors',
    summary: 'Add an HTTP monitor from the console form',
    tags: ['console'],
    access: 'monitors.write',
    page: true,
    bodyContentType: 'application/x-www-form-urlencoded',
    body: form,
    responses: {
      303: { description: 'Added' },
      400: { description: 'The page again, with the problem', contentType: 'text/html' },
    },
    async handler({ body, actor, reply }) {
      try {
        await monitors.create(actor, {
          component: body.component ?? '',
          name: body.name ?? '',
          type: 'http',
          check: { url: body.url ?? '', ...(body.body_contains ? { bodyContains: body.body_contains } : {}) },
          interval_seconds: Number(body.interval_seconds ?? 30) || 0,
          regions: (body.regions ?? '*')
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        });
        return reply.redirect('/console/monitors?done=created', 303);
      } catch (err) {
        if (!(err instanceof AppError) || err.status >= 500) throw err;
        return sendPage(reply, await monitorsPage(actor, { error: err.message }), err.status);
      }
    },
  });

  r.route({
    method: 'POST',
    url: '/console/monitors/:id/delete',
    summary: 'Delete a monitor from the console',
    tags: ['console'],
    access: 'monitors.write',
    page: true,
    params: z.object({ id: z.string() }),
    bodyContentType: 'application/x-www-form-urlencoded',
    body: form,
    responses: { 303: { description: 'Deleted' } },
    async handler({ params, actor, reply }) {
      await monitors.remove(actor, params.id);
      return reply.redirect('/console/monitors?done=deleted', 303);
    },
  });
}
