import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Router } from '../app/router.js';
import { STATUSPAGE_DOCUMENTS, type StatuspageDocumentName } from './statuspage.js';
import type { RenderedDocument, StatusFeed } from './statuspage.service.js';

/** Short freshness for clients and CDNs, then stale copies are better than nothing during an outage. */
export const STATUS_CACHE_CONTROL = 'public, max-age=10, stale-while-revalidate=30, stale-if-error=86400';

export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header === etag) return true;
  return header.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag === etag || tag === `W/${etag}`;
  });
}

function serve(req: FastifyRequest, reply: FastifyReply, doc: RenderedDocument): void {
  reply.header('cache-control', STATUS_CACHE_CONTROL);
  reply.header('etag', doc.etag);
  reply.header('access-control-allow-origin', '*');
  reply.header('vary', 'Accept-Encoding');
  if (etagMatches(req.headers['if-none-match'], doc.etag)) {
    reply.code(304).send();
    return;
  }
  reply.header('content-type', 'application/json; charset=utf-8');
  const encodings = req.headers['accept-encoding'];
  if (encodings?.includes('gzip')) {
    reply.header('content-encoding', 'gzip').send(doc.gzip);
    return;
  }
  reply.send(doc.body);
}

/**
 * The Statuspage v2 public API. Served from rendered bytes in memory: no auth, no per-request
 * database work, so a surge of status checks during an outage costs almost nothing.
 */
export function registerStatuspageRoutes(r: Router, feed: StatusFeed): void {
  const summaries: Record<StatuspageDocumentName, string> = {
    'summary.json': 'Page, components, unresolved incidents and the overall status (Statuspage v2)',
    'status.json': 'Overall status indicator and description (Statuspage v2)',
    'components.json': 'Every component and its status (Statuspage v2)',
    'incidents.json': 'The 50 most recent incidents with their updates (Statuspage v2)',
    'incidents/unresolved.json': 'Incidents not yet resolved (Statuspage v2)',
  };
  for (const name of STATUSPAGE_DOCUMENTS) {
    const url = `/api/v2/${name}`;
    r.document({
      method: 'GET',
      url,
      summary: summaries[name],
      tags: ['status'],
      access: 'public',
      responses: {
        200: { description: 'The document; ETag and Cache-Control set', contentType: 'application/json' },
        304: { description: 'Not modified (If-None-Match matched)' },
        503: { description: 'Never rendered yet and the database is unreachable' },
      },
    });
    r.app.get(url, (req, reply) => {
      const doc = feed.peek(name);
      if (doc) {
        serve(req, reply, doc);
        return;
      }
      feed.get(name).then(
        (fresh) => serve(req, reply, fresh),
        (err: unknown) => {
          req.log.error({ err }, 'status document unavailable');
          reply
            .code(503)
            .header('retry-after', '5')
            .send({
              error: { code: 'status_unavailable', message: 'The status documents cannot be read right now; try again shortly.' },
            });
        },
      );
    });
  }
}
