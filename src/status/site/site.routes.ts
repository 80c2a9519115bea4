import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Router } from '../../app/router.js';
import { writeRendered } from '../../incidents/statuspage.routes.js';
import type { StatusSite } from './site.service.js';

const PAGES: ReadonlyArray<{ url: string; path: string; summary: string; contentType: string }> = [
  {
    url: '/status',
    path: 'index.html',
    summary: 'The public status page: components, 90-day uptime, open and past incidents (HTML, no JavaScript)',
    contentType: 'text/html',
  },
  {
    url: '/status/feed.atom',
    path: 'feed.atom',
    summary: 'Incident updates as an Atom feed',
    contentType: 'application/atom+xml',
  },
  {
    url: '/status/feed.rss',
    path: 'feed.rss',
    summary: 'Incident updates as an RSS 2.0 feed',
    contentType: 'application/rss+xml',
  },
  { url: '/status/status.css', path: 'status.css', summary: "The status page's stylesheet", contentType: 'text/css' },
];

const BY_URL: ReadonlyMap<string, string> = new Map(PAGES.map((p) => [p.url, p.path]));

/**
 * Answer a status site page ahead of the framework when its rendering is current (a surge of
 * visitors costs no routing, hooks or logging); false: let the routes below answer.
 */
export function tryServeStatusSite(site: StatusSite, req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  const path = BY_URL.get(req.url ?? '');
  const served = path === undefined ? undefined : site.peek(path);
  if (!served) return false;
  writeRendered(req, res, served);
  return true;
}

/**
 * The status site served live, from the same rendering the static targets receive (with links
 * under /status). Public, no per-request database work: bytes, ETag and headers are built once
 * per change.
 */
export function registerStatusSiteRoutes(r: Router, site: StatusSite): void {
  for (const page of PAGES) {
    r.document({
      method: 'GET',
      url: page.url,
      summary: page.summary,
      tags: ['status'],
      access: 'public',
      responses: {
        200: { description: 'The file; ETag and Cache-Control set', contentType: page.contentType },
        304: { description: 'Not modified (If-None-Match matched)' },
        503: { description: 'Never rendered yet and the database is unreachable' },
      },
    });
    r.app.get(page.url, { childLoggerFactory: (logger) => logger }, async (req, reply) => {
      try {
        const served = await site.get(page.path);
        if (!served) throw new Error(`status site has no ${page.path}`);
        reply.hijack();
        writeRendered(req.raw, reply.raw, served);
      } catch (err) {
        req.log.error({ err }, 'status site unavailable');
        return reply
          .code(503)
          .header('retry-after', '5')
          .send({
            error: { code: 'status_unavailable', message: 'The status page cannot be read right now; try again shortly.' },
          });
      }
      return reply;
    });
  }
}
