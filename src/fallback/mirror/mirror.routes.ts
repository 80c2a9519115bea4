import { z } from 'zod';
import { STANDARD_ERRORS } from '../../app/openapi.js';
import type { Router } from '../../app/router.js';
import type { Services } from '../../app/services.js';
import { sendPage } from '../../console/layout.js';
import { FallbackConsolePage, SnapshotDiffPage } from './mirror.pages.js';

const html = { description: 'HTML page', contentType: 'text/html' };

const publicationSchema = z.object({
  target: z.string(),
  type: z.string(),
  started_at: z.string(),
  written: z.number().nullable(),
  reused: z.number().nullable(),
  deleted: z.number().nullable(),
  verified: z.number().nullable(),
  bytes: z.number().nullable(),
  version: z.string().nullable(),
  duration_ms: z.number().nullable(),
  error: z.string().nullable(),
});

const buildSchema = z.object({
  id: z.string(),
  snapshot_id: z.string().nullable(),
  trigger: z.string(),
  started_at: z.string(),
  finished_at: z.string().nullable(),
  full: z.boolean(),
  files: z.number().nullable(),
  rendered: z.number().nullable(),
  reused: z.number().nullable(),
  removed: z.number().nullable(),
  bytes: z.number().nullable(),
  duration_ms: z.number().nullable(),
  warnings: z.array(z.string()),
  error: z.string().nullable(),
  publications: z.array(publicationSchema),
});

/** The mirror's build/publish history and "build now" (API and console). */
export function registerMirrorRoutes(r: Router, services: Services): void {
  const { mirror } = services;
  r.route({
    method: 'GET',
    url: '/api/v1/fallback/builds',
    summary: 'Fallback mirror builds, newest first, each with its publishes per target',
    tags: ['fallback'],
    access: 'catalog.read',
    query: z.object({ limit: z.coerce.number().int().min(1).max(200).default(20) }),
    responses: { 200: { description: 'Builds', schema: z.object({ builds: z.array(buildSchema) }) }, ...STANDARD_ERRORS },
    async handler({ query }) {
      return { builds: await mirror.history(query.limit) };
    },
  });
  r.route({
    method: 'POST',
    url: '/api/v1/fallback/builds',
    summary: 'Build the mirror from the latest catalog snapshot and publish it (by the job worker)',
    description: 'Body: {full: true} renders every file again. Answers at once; the build shows in GET /api/v1/fallback/builds.',
    tags: ['fallback'],
    access: 'catalog.import',
    body: z.strictObject({ full: z.boolean().default(false) }).default({ full: false }),
    responses: { 202: { description: 'Queued', schema: z.object({ queued: z.literal(true) }) }, ...STANDARD_ERRORS },
    async handler({ body, reply }) {
      await mirror.requestRebuild(body.full);
      return reply.code(202).send({ queued: true });
    },
  });

  const page = async (actor: Parameters<typeof FallbackConsolePage>[0]['actor'], notice?: string) =>
    FallbackConsolePage({
      actor,
      builds: await mirror.history(20),
      snapshots: await services.catalog.list(20),
      flags: await services.flags.evaluateAll(),
      targets: mirror.targets.map((t) => ({ name: t.name, type: t.type })),
      mirrorUrl: mirror.settings.siteUrl,
      ...(notice && { notice }),
    });
  r.route({
    method: 'GET',
    url: '/console/fallback',
    summary: 'Fallback catalog: builds and publishes, kill switches, catalog snapshots',
    tags: ['console'],
    access: 'catalog.read',
    page: true,
    query: z.object({ queued: z.string().max(5).optional() }),
    responses: { 200: html },
    async handler({ actor, query, reply }) {
      return sendPage(
        reply,
        await page(actor, query.queued ? 'Build queued: it appears here when the worker has run it.' : undefined),
      );
    },
  });
  r.route({
    method: 'POST',
    url: '/console/fallback/build',
    summary: 'Build and publish the mirror now (console form)',
    tags: ['console'],
    access: 'catalog.import',
    page: true,
    bodyContentType: 'application/x-www-form-urlencoded',
    body: z.record(z.string(), z.string()),
    responses: { 303: { description: 'Back to the page' }, ...STANDARD_ERRORS },
    async handler({ body, reply }) {
      await mirror.requestRebuild(body.full === '1');
      return reply.redirect('/console/fallback?queued=1', 303);
    },
  });
  r.route({
    method: 'GET',
    url: '/console/fallback/snapshots/:id',
    summary: 'A catalog snapshot against the previous one: added, changed (with fields), removed',
    tags: ['console'],
    access: 'catalog.read',
    page: true,
    params: z.object({ id: z.string().min(1).max(100) }),
    responses: { 200: html, 404: html },
    async handler({ actor, params, reply }) {
      return sendPage(reply, SnapshotDiffPage({ actor, diff: await services.catalog.diff(params.id) }));
    },
  });
}
