import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter } from 'prom-client';
import type { Metrics } from '../app/metrics.js';
import type { Router } from '../app/router.js';
import { etagMatches } from '../core/etag.js';
import { STATUSPAGE_DOCUMENTS, type StatuspageDocumentName } from './statuspage.js';
import type { RenderedDocument, StatusFeed } from './statuspage.service.js';

const SUMMARIES: Record<StatuspageDocumentName, string> = {
  'summary.json': 'Page, components, unresolved incidents and the overall status (Statuspage v2)',
  'status.json': 'Overall status indicator and description (Statuspage v2)',
  'components.json': 'Every component and its status (Statuspage v2)',
  'incidents.json': 'The 50 most recent incidents with their updates (Statuspage v2)',
  'incidents/unresolved.json': 'Incidents not yet resolved (Statuspage v2)',
};

/**
 * The Statuspage v2 public API, served from bytes rendered once per change: no auth, no hooks,
 * no per-request database work, so a surge of status checks during an outage costs almost
 * nothing. `tryServe` answers straight from the HTTP server's request listener, ahead of the
 * framework; the same documents are also Fastify routes (for inject() and anything the fast path
 * declines, such as URLs with a query string).
 */
export class StatusDocumentServer {
  readonly #feed: StatusFeed;
  readonly #byPath = new Map<string, StatuspageDocumentName>(STATUSPAGE_DOCUMENTS.map((n) => [`/api/v2/${n}`, n]));
  readonly #served = new Map<StatuspageDocumentName, number>(STATUSPAGE_DOCUMENTS.map((n) => [n, 0]));

  constructor(feed: StatusFeed, metrics: Metrics) {
    this.#feed = feed;
    const served = this.#served;
    new Counter({
      name: 'keepwarm_status_documents_served_total',
      help: 'Statuspage documents served (the public status API)',
      labelNames: ['document'],
      registers: [metrics.registry],
      collect() {
        this.reset();
        for (const [document, count] of served) this.inc({ document }, count);
      },
    });
  }

  /** Serve the request if it is a plain GET/HEAD of a rendered document; false to pass it on. */
  tryServe(req: IncomingMessage, res: ServerResponse): boolean {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const name = this.#byPath.get(req.url ?? '');
    if (name === undefined) return false;
    const doc = this.#feed.peek(name);
    if (!doc) return false; // needs a (re)render: the framework route waits for it
    this.#count(name);
    writeRendered(req, res, doc);
    return true;
  }

  register(r: Router): void {
    for (const name of STATUSPAGE_DOCUMENTS) {
      const url = `/api/v2/${name}`;
      r.document({
        method: 'GET',
        url,
        summary: SUMMARIES[name],
        tags: ['status'],
        access: 'public',
        responses: {
          200: { description: 'The document; ETag and Cache-Control set', contentType: 'application/json' },
          304: { description: 'Not modified (If-None-Match matched)' },
          503: { description: 'Never rendered yet and the database is unreachable' },
        },
      });
      // No per-request child logger here: errors log through the root logger.
      r.app.get(url, { childLoggerFactory: (logger) => logger }, async (req, reply) => {
        this.#count(name);
        try {
          const doc = await this.#feed.get(name);
          reply.hijack();
          writeRendered(req.raw, reply.raw, doc);
        } catch (err) {
          req.log.error({ err }, 'status document unavailable');
          return reply
            .code(503)
            .header('retry-after', '5')
            .send({
              error: { code: 'status_unavailable', message: 'The status documents cannot be read right now; try again shortly.' },
            });
        }
        return reply;
      });
    }
  }

  #count(name: StatuspageDocumentName): void {
    this.#served.set(name, (this.#served.get(name) ?? 0) + 1);
  }
}

/**
 * Answer with a document rendered once per change (status JSON, banner, status site, SDK):
 * headers were built with it, so a request costs an ETag comparison and one write.
 */
export function writeRendered(
  req: IncomingMessage,
  res: ServerResponse,
  doc: Pick<RenderedDocument, 'body' | 'gzip' | 'etag' | 'headers' | 'gzipHeaders' | 'notModifiedHeaders'>,
): void {
  if (etagMatches(req.headers['if-none-match'], doc.etag)) {
    res.writeHead(304, doc.notModifiedHeaders);
    res.end();
  } else if (req.headers['accept-encoding']?.includes('gzip')) {
    res.writeHead(200, doc.gzipHeaders);
    res.end(req.method === 'HEAD' ? undefined : doc.gzip);
  } else {
    res.writeHead(200, doc.headers);
    res.end(req.method === 'HEAD' ? undefined : doc.body);
  }
}
