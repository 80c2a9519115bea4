import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { Logger } from 'pino';
import type { Router } from '../app/router.js';
import { writeRendered } from '../incidents/statuspage.routes.js';
import { type RenderedDocument, renderJsonDocument, type StatusFeed } from '../incidents/statuspage.service.js';
import { type BannerDocument, type BannerOptions, buildBanner } from './banner.js';

/** When the next public update is promised, per open incident id (the cadence's nextUpdates()). */
export type NextUpdates = () => Promise<ReadonlyMap<string, string>>;

export const BANNER_PATH = '/status/banner.json';
export const SDK_PATH = '/sdk/keepwarm-banner.js';
/** The SDK's URL is not content-hashed: cache it for a day, keep serving a stale copy when we are down. */
export const SDK_CACHE_CONTROL = 'public, max-age=86400, stale-while-revalidate=604800, stale-if-error=2592000';

interface RenderedBanner {
  /** The summary rendering this banner was built from: a new rendering means a new banner. */
  source: RenderedDocument;
  banner: BannerDocument;
  doc: RenderedDocument;
}

/** Serve a shipped SDK file at `path` (public, ETag and 304, gzip when accepted) and document it. */
export function registerSdkRoute(r: Router, sdk: { path: string; file: string; summary: string; tags: string[] }): void {
  const doc = loadSdk(sdk.file);
  r.document({
    method: 'GET',
    url: sdk.path,
    summary: sdk.summary,
    tags: sdk.tags,
    access: 'public',
    responses: {
      200: { description: 'The script; ETag and a long Cache-Control set', contentType: 'text/javascript' },
      304: { description: 'Not modified (If-None-Match matched)' },
    },
  });
  r.app.get(sdk.path, async (req, reply) => {
    reply.hijack();
    writeRendered(req.raw, reply.raw, doc);
    return reply;
  });
}

/** A shipped SDK file (web/sdk/), read once, with its ETag and headers. */
export function loadSdk(file = 'keepwarm-banner.js'): RenderedDocument {
  const body = readFileSync(fileURLToPath(new URL(`../../web/sdk/${file}`, import.meta.url)));
  const etag = `"${createHash('sha1').update(body).digest('base64url')}"`;
  const gzip = gzipSync(body, { level: 9 });
  const common = {
    'cache-control': SDK_CACHE_CONTROL,
    etag,
    'access-control-allow-origin': '*',
    'x-content-type-options': 'nosniff',
    vary: 'Accept-Encoding',
  };
  const type = 'text/javascript; charset=utf-8';
  return {
    body,
    gzip,
    etag,
    headers: { ...common, 'content-type': type, 'content-length': String(body.length) },
    gzipHeaders: { ...common, 'content-type': type, 'content-encoding': 'gzip', 'content-length': String(gzip.length) },
    notModifiedHeaders: common,
  };
}

/**
 * `banner.json` served live, built from the Statuspage summary once per rendering of the status
 * feed (the feed's cache decides when; this only remembers which rendering it was built from).
 * Every showroom visitor polls it, so like the Statuspage documents it is answered ahead of the
 * framework when the rendering is current.
 */
export class BannerServer {
  readonly #feed: StatusFeed;
  readonly #options: BannerOptions;
  readonly #sdk: RenderedDocument;
  readonly #nextUpdates: NextUpdates | null;
  readonly #log: Logger | null;
  #current: RenderedBanner | null = null;

  constructor(feed: StatusFeed, options: BannerOptions, deps: { nextUpdates?: NextUpdates; log?: Logger } = {}) {
    this.#feed = feed;
    this.#options = options;
    this.#nextUpdates = deps.nextUpdates ?? null;
    this.#log = deps.log ?? null;
    this.#sdk = loadSdk();
  }

  /** Serve a plain GET/HEAD of banner.json from memory when current; false to pass it on. */
  tryServe(req: IncomingMessage, res: ServerResponse): boolean {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || req.url !== BANNER_PATH) return false;
    const source = this.#feed.peek('summary.json');
    const current = this.#current;
    if (!source || !current || current.source !== source) return false;
    writeRendered(req, res, current.doc);
    return true;
  }

  /** The banner for the current status documents (renders when the feed has a new rendering). */
  async current(): Promise<RenderedBanner> {
    const source = await this.#feed.get('summary.json');
    if (this.#current?.source === source) return this.#current;
    const documents = await this.#feed.documents();
    const banner = buildBanner(documents['summary.json'], { ...this.#options, nextUpdateAt: await this.#promised() });
    const rendered = { source, banner, doc: renderJsonDocument(banner) };
    this.#current = rendered;
    return rendered;
  }

  /** The promised next updates; without them (cadence unreadable) the banner still renders. */
  async #promised(): Promise<ReadonlyMap<string, string>> {
    if (!this.#nextUpdates) return new Map();
    try {
      return await this.#nextUpdates();
    } catch (err) {
      this.#log?.warn({ err }, 'next update times unavailable; banner rendered without them');
      return new Map();
    }
  }

  register(r: Router): void {
    r.document({
      method: 'GET',
      url: BANNER_PATH,
      summary: 'The website banner document the showroom script reads (active, message, fallback and status links)',
      tags: ['status'],
      access: 'public',
      responses: {
        200: {
          description: 'The banner document (version 1); ETag, Cache-Control and CORS set',
          contentType: 'application/json',
        },
        304: { description: 'Not modified (If-None-Match matched)' },
        503: { description: 'Never rendered yet and the database is unreachable' },
      },
    });
    r.app.get(BANNER_PATH, { childLoggerFactory: (logger) => logger }, async (req, reply) => {
      try {
        const { doc } = await this.current();
        reply.hijack();
        writeRendered(req.raw, reply.raw, doc);
      } catch (err) {
        req.log.error({ err }, 'banner document unavailable');
        return reply
          .code(503)
          .header('retry-after', '5')
          .header('access-control-allow-origin', '*')
          .send({ error: { code: 'status_unavailable', message: 'The banner cannot be read right now; try again shortly.' } });
      }
      return reply;
    });

    r.document({
      method: 'GET',
      url: SDK_PATH,
      summary: 'The browser script a showroom embeds to show the outage banner (zero dependencies)',
      tags: ['status'],
      access: 'public',
      responses: {
        200: { description: 'The script; ETag and a long Cache-Control set', contentType: 'text/javascript' },
        304: { description: 'Not modified (If-None-Match matched)' },
      },
    });
    r.app.get(SDK_PATH, { childLoggerFactory: (logger) => logger }, async (req, reply) => {
      reply.hijack();
      writeRendered(req.raw, reply.raw, this.#sdk);
      return reply;
    });
  }
}
