import { describe, expect, test } from 'vitest';
import { DAY, HOUR, MINUTE, toIso } from '../../core/clock.js';
import type { Component } from '../../incidents/components.repo.js';
import type { IncidentRecord, TimelineEvent } from '../../incidents/incidents.repo.js';
import { buildStatuspageDocuments } from '../../incidents/statuspage.js';
import { escapeXml } from './feeds.js';
import type { HistoryData } from './history.repo.js';
import { computeUptime } from './model.js';
import { renderSite, type SiteFile } from './site.js';

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const HOSTILE = `<script>alert("x")</script> & 'quotes' \u0001`;

function component(id: string, name: string, extra: Partial<Component> = {}): Component {
  return {
    id,
    name,
    kind: 'cdn',
    group: null,
    description: null,
    position: 1,
    status: 'operational',
    onlyShowIfDegraded: false,
    createdAt: NOW - 200 * DAY,
    updatedAt: NOW - 200 * DAY,
    ...extra,
  } as Component;
}

function incident(id: string, name: string, startedAt: number, resolvedAt: number | null): IncidentRecord {
  return {
    id,
    name,
    status: resolvedAt ? 'resolved' : 'investigating',
    impact: 'major',
    commanderId: null,
    scope: 'global',
    drill: false,
    startedAt,
    detectedAt: startedAt,
    declaredAt: startedAt,
    acknowledgedAt: startedAt,
    monitoringAt: null,
    resolvedAt,
    createdAt: startedAt,
    updatedAt: resolvedAt ?? startedAt,
  };
}

let seq = 0;
function update(
  incidentId: string,
  at: number,
  message: string,
  status: string,
  affected: Array<[string, string]> = [],
): TimelineEvent {
  seq += 1;
  return {
    id: `0190f000-0000-7000-8000-${String(seq).padStart(12, '0')}`,
    incidentId,
    at,
    type: 'update.published',
    actor: { type: 'system', id: null, name: 'test' },
    public: true,
    data: {
      status,
      previous_status: null,
      message,
      impact: 'major',
      affected_components: affected.map(([id, s]) => ({ id, name: id, old_status: 'operational', new_status: s })),
    },
  };
}

/** A day with a 90-minute major outage 3 days ago (resolved), an open hostile incident today. */
function fixture(): HistoryData {
  const cdn = component('c-cdn', `CDN ${HOSTILE}`);
  const api = component('c-api', 'Product API', { group: 'Platform' } as Partial<Component>);
  const threeDaysAgo = Math.floor(NOW / DAY) * DAY - 3 * DAY + 10 * HOUR;
  const past = incident('i-past', 'Checkout slow', threeDaysAgo, threeDaysAgo + 90 * MINUTE);
  const open = incident('i-open', `Images missing ${HOSTILE}`, NOW - 2 * HOUR, null);
  return {
    components: [{ ...cdn, status: 'major_outage' }, api],
    incidents: [open, past],
    incidentComponents: [
      { incidentId: 'i-past', componentId: 'c-api', status: 'operational', addedAt: threeDaysAgo },
      { incidentId: 'i-open', componentId: 'c-cdn', status: 'major_outage', addedAt: NOW - 2 * HOUR },
    ],
    events: [
      update('i-past', threeDaysAgo, 'Looking into slow checkout', 'investigating', [['c-api', 'partial_outage']]),
      update('i-past', threeDaysAgo + 90 * MINUTE, 'Fixed', 'resolved', [['c-api', 'operational']]),
      update('i-open', NOW - 2 * HOUR, `First: ${HOSTILE}`, 'investigating'),
      update('i-open', NOW - HOUR, 'Second: a fix is rolling out', 'identified'),
    ],
  };
}

function site(history = fixture()): Map<string, SiteFile> {
  const documents = buildStatuspageDocuments(
    {
      revision: 'r1',
      revisionAt: NOW - HOUR,
      pageId: '0190f000-0000-7000-8000-000000000001',
      components: history.components,
      incidents: history.incidents,
      incidentComponents: history.incidentComponents,
      events: history.events,
    },
    { name: `Acme ${HOSTILE}`, url: 'https://status.acme.test' },
  );
  const files = renderSite({
    pageName: `Acme ${HOSTILE}`,
    publicUrl: 'https://status.acme.test',
    documents,
    history,
    now: NOW,
    banner: { statusUrl: 'https://status.acme.test/status', fallbackUrl: 'https://mirror.acme.test/' },
    mode: 'static',
  });
  return new Map(files.map((f) => [f.path, f]));
}

/** A minimal well-formedness check: every tag closes in order, entities are known, no raw '<' or '&'. */
function parseXml(text: string): { root: string; elements: Array<{ name: string; text: string }> } {
  const body = text.replace(/^<\?xml[^?]*\?>\s*/, '');
  const stack: string[] = [];
  const open: number[] = [];
  const elements: Array<{ name: string; text: string }> = [];
  const re = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let root = '';
  let consumed = 0;
  for (let m = re.exec(body); m !== null; m = re.exec(body)) {
    consumed = re.lastIndex;
    const [, close, name, , selfClose, textPart] = m;
    if (textPart !== undefined) {
      const stripped = textPart.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, '');
      if (/[&<]/.test(stripped)) throw new Error(`unescaped text: ${textPart}`);
      if (stack.length === 0 && textPart.trim()) throw new Error('text outside the root');
      const current = elements[open[open.length - 1] ?? -1];
      if (current) current.text += textPart;
      continue;
    }
    if (close) {
      if (stack.pop() !== name) throw new Error(`mismatched </${name}>`);
      open.pop();
    } else {
      if (stack.length === 0) {
        if (root) throw new Error('two roots');
        root = name as string;
      }
      elements.push({ name: name as string, text: '' });
      if (!selfClose) {
        stack.push(name as string);
        open.push(elements.length - 1);
      }
    }
  }
  if (consumed !== body.length) throw new Error(`unparsable at ${consumed}: ${body.slice(consumed, consumed + 40)}`);
  if (stack.length > 0) throw new Error(`unclosed ${stack.join(',')}`);
  return { root, elements };
}

describe('status site rendering', () => {
  test('publishes every file a static host needs, with its type and caching', () => {
    const files = site();
    expect([...files.keys()].sort()).toEqual(
      [
        'index.html',
        'feed.atom',
        'feed.rss',
        'status.css',
        'favicon.svg',
        'banner.json',
        'api/v2/summary.json',
        'api/v2/status.json',
        'api/v2/components.json',
        'api/v2/incidents.json',
        'api/v2/incidents/unresolved.json',
      ].sort(),
    );
    expect(files.get('index.html')?.contentType).toBe('text/html; charset=utf-8');
    expect(files.get('feed.atom')?.contentType).toBe('application/atom+xml; charset=utf-8');
    expect(files.get('feed.rss')?.contentType).toBe('application/rss+xml; charset=utf-8');
    expect(files.get('api/v2/summary.json')?.cacheControl).toMatch(/max-age=10.*stale-if-error/);
    expect(files.get('status.css')?.cacheControl).toMatch(/max-age=3600/);
    expect(files.get('favicon.svg')?.contentType).toBe('image/svg+xml');
    expect(files.get('index.html')?.body.toString()).toContain('<link rel="icon" type="image/svg+xml" href="favicon.svg"');
    // Entry documents are written last by publishers.
    expect([...files.values()].filter((f) => f.entry).map((f) => f.path)).toEqual([
      'api/v2/summary.json',
      'banner.json',
      'index.html',
    ]);
    const banner = JSON.parse(String(files.get('banner.json')?.body));
    expect(banner.active).toBe(true);
    expect(banner.status_url).toBe('https://status.acme.test/status');
    expect(banner.fallback_url).toBe('https://mirror.acme.test/');
  });

  test('the page escapes hostile names and has no inline script or style', () => {
    const html = String(site().get('index.html')?.body);
    expect(html).not.toContain('<script');
    expect(html).not.toContain('style=');
    expect(html).not.toMatch(/<style/);
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quotes&#39;');
    expect(html).toContain('Content-Security-Policy');
    expect(html).toContain('form-action https://status.acme.test');
    expect(html).toContain('action="https://status.acme.test/status/subscribe"');
    expect(html).toContain('href="feed.atom"');
    expect(html).toContain('href="status.css"');
    // The open incident with both its updates, newest first; the past one under its day.
    const first = html.indexOf('Second: a fix is rolling out');
    const second = html.indexOf('First: &lt;script&gt;');
    expect(first).toBeGreaterThan(0);
    expect(second).toBeGreaterThan(first);
    expect(html).toContain('Checkout slow');
    expect(html).toContain('12 January 2026');
  });

  test('90 daily bars per component, coloured by the worst status, with outage minutes', () => {
    const history = fixture();
    const uptime = computeUptime(history, NOW);
    const api = uptime.get('c-api');
    const cdn = uptime.get('c-cdn');
    expect(api?.days).toHaveLength(90);
    expect(api?.days.at(-1)?.date).toBe('2026-01-15');
    const bad = api?.days.filter((d) => d.status !== 'operational');
    expect(bad).toEqual([{ date: '2026-01-12', status: 'partial_outage', outageMinutes: 90, affectedMinutes: 90 }]);
    expect(api?.percent).toBeCloseTo(100 - (90 / (89 * 24 * 60 + 12 * 60)) * 100, 1);
    // Today: open for two hours so far.
    expect(cdn?.days.at(-1)).toEqual({ date: '2026-01-15', status: 'major_outage', outageMinutes: 120, affectedMinutes: 120 });
    const html = String(site(history).get('index.html')?.body);
    expect(html.match(/class="bar d-/g)).toHaveLength(180);
    expect(html).toContain('title="2026-01-12: partial outage (90 min affected, 90 min of outage)"');
    expect(html).toContain('title="2026-01-11: no incidents"');
  });

  test('an incident over midnight counts in both days; a component created last week has no data before', () => {
    const start = Date.UTC(2026, 0, 13, 23, 30);
    const history: HistoryData = {
      components: [component('c1', 'Auth', { createdAt: Date.UTC(2026, 0, 8, 12) })],
      incidents: [incident('i1', 'Sign-in down', start, start + HOUR)],
      incidentComponents: [{ incidentId: 'i1', componentId: 'c1', status: 'degraded_performance', addedAt: start }],
      events: [],
    };
    const days = computeUptime(history, NOW).get('c1')?.days ?? [];
    expect(days.find((d) => d.date === '2026-01-13')).toMatchObject({
      status: 'degraded_performance',
      affectedMinutes: 30,
      outageMinutes: 0,
    });
    expect(days.find((d) => d.date === '2026-01-14')).toMatchObject({ status: 'degraded_performance', affectedMinutes: 30 });
    expect(days.find((d) => d.date === '2026-01-07')?.status).toBe('no_data');
    expect(days.find((d) => d.date === '2026-01-08')?.status).toBe('operational');
    expect(computeUptime(history, NOW).get('c1')?.percent).toBe(100); // degraded is not downtime
  });

  test('Atom and RSS feeds parse back, escape hostile text and keep stable ids', () => {
    const history = fixture();
    const files = site(history);
    const atom = parseXml(String(files.get('feed.atom')?.body));
    expect(atom.root).toBe('feed');
    const ids = atom.elements.filter((e) => e.name === 'id').map((e) => e.text);
    expect(ids[0]).toBe('urn:uuid:0190f000-0000-7000-8000-000000000001');
    expect(ids).toHaveLength(5); // the feed and four updates
    const titles = atom.elements.filter((e) => e.name === 'title').map((e) => e.text);
    expect(titles[1]).toBe(
      'Images missing &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &apos;quotes&apos; : Identified',
    );
    expect(String(files.get('feed.atom')?.body)).not.toContain('\u0001');
    // Same input, same ids: readers never see an entry twice.
    expect(String(site(history).get('feed.atom')?.body)).toBe(String(files.get('feed.atom')?.body));

    const rss = parseXml(String(files.get('feed.rss')?.body));
    expect(rss.root).toBe('rss');
    const items = rss.elements.filter((e) => e.name === 'item');
    expect(items).toHaveLength(4);
    const dates = rss.elements.filter((e) => e.name === 'pubDate').map((e) => e.text);
    expect(dates[0]).toBe(new Date(NOW - HOUR).toUTCString());
    expect(toIso(Date.parse(dates[0] as string))).toBe(toIso(NOW - HOUR));
  });

  test('escapeXml drops characters XML cannot carry', () => {
    expect(escapeXml('a\u0000b\u0008c\td\ne<&>')).toBe('abc\td\ne&lt;&amp;&gt;');
  });
});
