import { z } from 'zod';
import { ASSETS, assetUrl } from '../console/assets.js';
import type { Metrics } from './metrics.js';
import type { OpenApiRegistry } from './openapi.js';
import type { Router } from './router.js';
import type { Services } from './services.js';

export const VERSION = '0.1.0';

/** Health, readiness, metrics, the API description, console assets and the root redirects. */
export function registerSystemRoutes(r: Router, services: Services, metrics: Metrics, openapi: OpenApiRegistry): void {
  r.route({
    method: 'GET',
    url: '/healthz',
    summary: 'Liveness: the process answers',
    tags: ['system'],
    access: 'public',
    responses: { 200: { description: 'Alive', schema: z.object({ status: z.literal('ok') }) } },
    async handler() {
      return { status: 'ok' as const };
    },
  });

  r.route({
    method: 'GET',
    url: '/readyz',
    summary: 'Readiness: the database answers',
    tags: ['system'],
    access: 'public',
    responses: {
      200: { description: 'Ready', schema: z.object({ status: z.literal('ready'), database: z.string() }) },
      503: { description: 'Database unreachable' },
    },
    async handler({ reply }) {
      try {
        await services.db.ping();
        return { status: 'ready' as const, database: services.db.dialect };
      } catch (err) {
        reply.code(503);
        return {
          error: {
            code: 'not_ready',
            message: `The ${services.db.dialect} database does not answer: ${err instanceof Error ? err.message : String(err)}`,
          },
        };
      }
    },
  });

  r.route({
    method: 'GET',
    url: '/metrics',
    summary: 'Prometheus metrics',
    tags: ['system'],
    access: 'public',
    responses: { 200: { description: 'Prometheus text format', contentType: 'text/plain' } },
    async handler({ reply }) {
      reply.header('content-type', metrics.registry.contentType);
      return metrics.registry.metrics();
    },
  });

  r.route({
    method: 'GET',
    url: '/api/openapi.json',
    summary: 'This API, described in OpenAPI 3.1',
    tags: ['system'],
    access: 'public',
    responses: { 200: { description: 'OpenAPI document', contentType: 'application/json' } },
    async handler() {
      return openapi.document({ title: 'Keepwarm', version: VERSION, serverUrl: services.config.publicUrl });
    },
  });

  r.route({
    method: 'GET',
    url: '/',
    summary: 'Go to the console',
    tags: ['console'],
    access: 'public',
    responses: { 302: { description: 'Redirect to /console' } },
    async handler({ reply }) {
      return reply.redirect('/console', 302);
    },
  });

  r.route({
    method: 'GET',
    url: '/console',
    summary: 'Console home (the incidents page)',
    tags: ['console'],
    access: 'signed-in',
    page: true,
    responses: { 302: { description: 'Redirect to the incidents page' } },
    async handler({ reply }) {
      return reply.redirect('/console/incidents', 302);
    },
  });

  r.route({
    method: 'GET',
    url: '/favicon.ico',
    summary: 'The icon browsers ask for by default (the console links an SVG icon)',
    tags: ['console'],
    access: 'public',
    responses: { 302: { description: 'Redirect to the SVG icon' } },
    async handler({ reply }) {
      return reply.header('cache-control', 'public, max-age=86400').redirect(assetUrl('favicon.svg'), 302);
    },
  });

  r.route({
    method: 'GET',
    url: '/console/assets/:file',
    summary: 'Console stylesheet and script (content-hashed names, cached for a year)',
    tags: ['console'],
    access: 'public',
    params: z.object({ file: z.string() }),
    responses: { 200: { description: 'The asset' }, 404: { description: 'No such asset' } },
    async handler({ req, reply }) {
      const asset = ASSETS.get(req.url.split('?')[0] ?? '');
      if (!asset) {
        return reply.code(404).send({ error: { code: 'not_found', message: 'No such asset.' } });
      }
      return reply
        .header('content-type', asset.type)
        .header('cache-control', 'public, max-age=31536000, immutable')
        .header('x-content-type-options', 'nosniff')
        .send(asset.body);
    },
  });
}
