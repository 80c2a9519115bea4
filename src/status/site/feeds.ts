import { toIso } from '../../core/clock.js';
import { STATUS_LABELS } from '../../incidents/incident.js';
import type { SiteIncident } from './model.js';

/** Feed entries are incident updates, newest first; this many at most. */
export const FEED_ENTRIES = 50;

export interface FeedInput {
  pageName: string;
  /** Page id (a UUID): the feed's stable identity. */
  pageId: string;
  /** The status page's absolute URL (entries link to anchors on it). */
  pageUrl: string;
  atomUrl: string;
  rssUrl: string;
  /** When the public data last changed. */
  updatedAt: number;
  incidents: SiteIncident[];
}

// XML 1.0 forbids most control characters even when escaped: drop them.
// biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point
const INVALID_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;
const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

export function escapeXml(text: string): string {
  return text.replace(INVALID_XML, '').replace(/[&<>"']/g, (c) => XML_ESCAPES[c] as string);
}

interface Entry {
  id: string;
  incidentId: string;
  title: string;
  body: string;
  at: number;
  link: string;
}

function entries(input: FeedInput): Entry[] {
  const all: Entry[] = [];
  for (const i of input.incidents) {
    for (const u of i.updates) {
      all.push({
        id: u.id,
        incidentId: i.id,
        title: `${i.name}: ${STATUS_LABELS[u.status]}`,
        body: u.body,
        at: u.at,
        link: `${input.pageUrl}#incident-${i.id}`,
      });
    }
  }
  return all.sort((a, b) => b.at - a.at || (a.id < b.id ? 1 : -1)).slice(0, FEED_ENTRIES);
}

/** Atom 1.0 (RFC 4287): entry ids are the update ids as URNs, so readers never see an entry twice. */
export function renderAtom(input: FeedInput): string {
  const list = entries(input);
  const updated = toIso(Math.max(input.updatedAt, list[0]?.at ?? 0));
  const lines = [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<feed xmlns="http://www.w3.org/2005/Atom">',
    `  <id>urn:uuid:${escapeXml(input.pageId)}</id>`,
    `  <title>${escapeXml(input.pageName)}</title>`,
    `  <updated>${updated}</updated>`,
    `  <link rel="alternate" type="text/html" href="${escapeXml(input.pageUrl)}"/>`,
    `  <link rel="self" type="application/atom+xml" href="${escapeXml(input.atomUrl)}"/>`,
    `  <author><name>${escapeXml(input.pageName)}</name></author>`,
  ];
  for (const e of list) {
    lines.push(
      '  <entry>',
      `    <id>urn:uuid:${escapeXml(e.id)}</id>`,
      `    <title>${escapeXml(e.title)}</title>`,
      `    <updated>${toIso(e.at)}</updated>`,
      `    <published>${toIso(e.at)}</published>`,
      `    <link rel="alternate" type="text/html" href="${escapeXml(e.link)}"/>`,
      `    <content type="text">${escapeXml(e.body)}</content>`,
      '  </entry>',
    );
  }
  lines.push('</feed>', '');
  return lines.join('\n');
}

/** RSS 2.0: guids are the update ids (not permalinks), dates in RFC 822 form. */
export function renderRss(input: FeedInput): string {
  const list = entries(input);
  const built = new Date(Math.max(input.updatedAt, list[0]?.at ?? 0)).toUTCString();
  const lines = [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">',
    '  <channel>',
    `    <title>${escapeXml(input.pageName)}</title>`,
    `    <link>${escapeXml(input.pageUrl)}</link>`,
    `    <description>${escapeXml(`Incident updates from ${input.pageName}`)}</description>`,
    `    <atom:link href="${escapeXml(input.rssUrl)}" rel="self" type="application/rss+xml"/>`,
    `    <lastBuildDate>${built}</lastBuildDate>`,
  ];
  for (const e of list) {
    lines.push(
      '    <item>',
      `      <title>${escapeXml(e.title)}</title>`,
      `      <link>${escapeXml(e.link)}</link>`,
      `      <guid isPermaLink="false">${escapeXml(`${e.incidentId}/${e.id}`)}</guid>`,
      `      <pubDate>${new Date(e.at).toUTCString()}</pubDate>`,
      `      <description>${escapeXml(e.body)}</description>`,
      '    </item>',
    );
  }
  lines.push('  </channel>', '</rss>', '');
  return lines.join('\n');
}
