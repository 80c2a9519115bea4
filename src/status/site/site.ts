import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ASSETS, assetUrl } from '../../console/assets.js';
import { renderDocument } from '../../console/html.js';
import { STATUSPAGE_DOCUMENTS, type StatuspageDocuments } from '../../incidents/statuspage.js';
import { STATUS_CACHE_CONTROL } from '../../incidents/statuspage.service.js';
import type { BannerOptions } from '../banner.js';
import { renderBannerJson } from './banner-json.js';
import { renderAtom, renderRss } from './feeds.js';
import type { HistoryData } from './history.repo.js';
import { buildSiteIncidents, computeUptime } from './model.js';
import { type PageLinks, StatusPage, statusPageCsp } from './page.js';

/** One file of a published status site. */
export interface SiteFile {
  /** Relative path inside the site ("index.html", "api/v2/summary.json"). */
  path: string;
  contentType: string;
  cacheControl: string;
  body: Buffer;
  /**
   * Entry documents point at the rest (the page at its CSS and feeds, summary.json and banner.json
   * are what clients poll first): publishers write them last.
   */
  entry: boolean;
  /** Extra response headers where a server can send them (the page's CSP). */
  headers?: Record<string, string>;
}

/** The stylesheet changes only with a release: longer freshness than the documents. */
export const CSS_CACHE_CONTROL = 'public, max-age=3600, stale-while-revalidate=86400, stale-if-error=604800';

/** The same icon as the console's, so a static host answers /favicon.svg too. */
const FAVICON: Buffer = [...ASSETS.values()].find((a) => a.name === 'favicon.svg')?.body ?? Buffer.alloc(0);

export const STATUS_CSS: Buffer = readFileSync(fileURLToPath(new URL('./status.css', import.meta.url)));

const TYPES = {
  html: 'text/html; charset=utf-8',
  json: 'application/json; charset=utf-8',
  atom: 'application/atom+xml; charset=utf-8',
  rss: 'application/rss+xml; charset=utf-8',
  css: 'text/css; charset=utf-8',
} as const;

export interface SiteInput {
  pageName: string;
  /** Keepwarm's public URL (no trailing slash). */
  publicUrl: string;
  documents: StatuspageDocuments;
  history: HistoryData;
  now: number;
  banner: BannerOptions;
  /** static: links relative to the site's root; live: absolute paths under /status on Keepwarm. */
  mode: 'static' | 'live';
}

export function siteLinks(publicUrl: string, mode: SiteInput['mode']): PageLinks {
  const live = mode === 'live';
  return {
    css: live ? '/status/status.css' : 'status.css',
    icon: live ? assetUrl('favicon.svg') : 'favicon.svg',
    atom: live ? '/status/feed.atom' : 'feed.atom',
    rss: live ? '/status/feed.rss' : 'feed.rss',
    summaryJson: live ? '/api/v2/summary.json' : 'api/v2/summary.json',
    subscribe: `${publicUrl}/status/subscribe`,
    subscribeOrigin: new URL(publicUrl).origin,
    // Published incident reports are served live by Keepwarm (src/reports), also for a static copy of the page.
    reports: live ? '/status/incidents' : `${publicUrl}/status/incidents`,
  };
}

/** Every file of the status site, from the same data the Statuspage API serves. Pure. */
export function renderSite(input: SiteInput): SiteFile[] {
  const summary = input.documents['summary.json'];
  const incidents = buildSiteIncidents(input.history);
  const uptime = computeUptime(input.history, input.now);
  const pageUrl = `${input.publicUrl}/status`;
  const links = siteLinks(input.publicUrl, input.mode);
  const html = renderDocument(
    StatusPage({
      pageName: input.pageName,
      summary,
      incidents,
      uptime,
      now: input.now,
      links,
      fallbackUrl: input.banner.fallbackUrl,
    }),
  );
  const feed = {
    pageName: input.pageName,
    pageId: summary.page.id,
    pageUrl,
    atomUrl: `${pageUrl}/feed.atom`,
    rssUrl: `${pageUrl}/feed.rss`,
    updatedAt: Date.parse(summary.page.updated_at) || 0,
    incidents,
  };
  const file = (
    path: string,
    contentType: string,
    body: Buffer | string,
    entry = false,
    cache = STATUS_CACHE_CONTROL,
  ): SiteFile => ({
    path,
    contentType,
    cacheControl: cache,
    body: typeof body === 'string' ? Buffer.from(body) : body,
    entry,
  });
  return [
    file('status.css', TYPES.css, STATUS_CSS, false, CSS_CACHE_CONTROL),
    file('favicon.svg', 'image/svg+xml', FAVICON, false, CSS_CACHE_CONTROL),
    file('feed.atom', TYPES.atom, renderAtom(feed)),
    file('feed.rss', TYPES.rss, renderRss(feed)),
    ...STATUSPAGE_DOCUMENTS.map((name) =>
      file(`api/v2/${name}`, TYPES.json, JSON.stringify(input.documents[name]), name === 'summary.json'),
    ),
    file('banner.json', TYPES.json, renderBannerJson(summary, input.banner), true),
    {
      ...file('index.html', TYPES.html, html, true),
      headers: {
        'content-security-policy': `${statusPageCsp(links.subscribeOrigin)}; frame-ancestors 'none'`,
        'x-content-type-options': 'nosniff',
        'referrer-policy': 'no-referrer',
      },
    },
  ];
}
