/**
 * Browser beacons, the pure part: the payload the browser SDK sends, matching hosts to
 * components, per-minute windows, and the error-rate rule that turns a closed window into a
 * probe-like result ("failure" / "success") for the component's beacon pseudo-monitor.
 *
 * Only counts are kept: no page URL, no user data, and no error message ever leaves memory. A few
 * failing URLs (scheme, host and path only: no query, no fragment) are kept per window as samples
 * for the signal's details.
 */
import { z } from 'zod';

export const BEACON_VERSION = 1;
export const WINDOW_MS = 60_000;
/** Largest accepted body, in bytes (answered 413 above it). */
export const MAX_BEACON_BYTES = 16 * 1024;
export const MAX_EVENTS = 100;
export const MAX_COUNT_ROWS = 50;
export const MAX_COUNT = 10_000;
/** Failing URLs kept per component and window, for the signal's details. */
export const MAX_SAMPLES = 3;
/** Distinct unmatched hosts remembered per window (the rest only counted). */
export const MAX_UNMATCHED_HOSTS = 50;
/** Distinct clients counted per component and window (beyond it: "at least"). */
export const MAX_CLIENTS = 1000;

export const EVENT_TYPES = ['resource_error', 'fetch_error', 'js_error', 'resource_ok', 'fetch_ok'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

const hostSchema = z
  .string()
  .trim()
  .toLowerCase()
  .min(1)
  .max(255)
  .regex(/^(\[[0-9a-f:.]+\]|[a-z0-9_.-]+)(:\d{1,5})?$/, 'expected a host name with an optional port, e.g. cdn.example.com')
  .describe('Host the request went to (host[:port]); taken from url when absent');

const count = z.number().int().min(0).max(MAX_COUNT).default(0);

/**
 * The beacon body, version 1. Unknown fields are ignored (an SDK may add some within v1); the known
 * ones are checked and a wrong one answers 400 naming it.
 */
export const beaconSchema = z
  .object({
    v: z.literal(BEACON_VERSION).describe('Payload version: 1'),
    page: z.string().min(1).max(2048).describe('URL of the page that sent it (not stored)'),
    events: z
      .array(
        z.object({
          type: z
            .enum(EVENT_TYPES)
            .describe(
              'resource_error / resource_ok: a script, stylesheet, image or font that failed / loaded; fetch_error / fetch_ok: a fetch or XHR that failed (network error or 5xx) / was answered; js_error: an uncaught error or unhandled rejection',
            ),
          host: hostSchema.optional(),
          url: z.string().max(2048).optional().describe('URL of the resource or request (js_error: the script)'),
          status: z.number().int().min(0).max(999).optional().describe('HTTP status, when there was an answer'),
          message: z.string().max(1000).optional().describe('Error message (js_error); not stored'),
          at: z.number().min(0).optional().describe('When it happened, epoch ms (informational: windows use arrival time)'),
        }),
      )
      .max(MAX_EVENTS)
      .default([])
      .describe(`Individual events, at most ${MAX_EVENTS} per beacon`),
    counts: z
      .array(
        z.object({
          host: hostSchema,
          resource_ok: count,
          resource_error: count,
          fetch_ok: count,
          fetch_error: count,
          js_error: count,
        }),
      )
      .max(MAX_COUNT_ROWS)
      .default([])
      .describe(
        `Totals per host since the previous beacon (at most ${MAX_COUNT_ROWS} hosts, ${MAX_COUNT} per number): the cheap way to report successful loads`,
      ),
  })
  .describe('A browser beacon (version 1)');

export type Beacon = z.output<typeof beaconSchema>;

/** Tallies of one host or one component in one window. */
export interface Tally {
  ok: number;
  errors: number;
  jsErrors: number;
}

export function emptyTally(): Tally {
  return { ok: 0, errors: 0, jsErrors: 0 };
}

function addTally(into: Tally, from: Tally): void {
  into.ok += from.ok;
  into.errors += from.errors;
  into.jsErrors += from.jsErrors;
}

/** Origins compare as browsers send them: lower case, no trailing slash. */
export function normalizeOrigin(origin: string): string {
  return origin.trim().toLowerCase().replace(/\/+$/, '');
}

/** Host names compare in lower case, without a trailing dot. */
export function normalizeHost(host: string): string {
  return host
    .trim()
    .toLowerCase()
    .replace(/\.(?=:\d+$|$)/, '');
}

function hostnameOf(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const colon = host.lastIndexOf(':');
  return colon === -1 ? host : host.slice(0, colon);
}

export type HostMatcher = (host: string) => string | null;

/**
 * Host → the config key (component name or id) that lists it. An entry matches the request's
 * host exactly, with or without its port ("cdn.example.com" matches "cdn.example.com:8443" too,
 * "cdn.example.com:8443" only that port); "*.example.com" matches any subdomain of example.com.
 * When two components list the same host the first wins.
 */
export function createHostMatcher(hosts: Readonly<Record<string, readonly string[]>>): HostMatcher {
  const exact = new Map<string, string>();
  const suffixes: Array<[string, string]> = [];
  for (const [key, list] of Object.entries(hosts)) {
    for (const raw of list) {
      const host = normalizeHost(raw);
      if (host.startsWith('*.')) suffixes.push([host.slice(1), key]);
      else if (!exact.has(host)) exact.set(host, key);
    }
  }
  return (raw) => {
    const host = normalizeHost(raw);
    const hit = exact.get(host);
    if (hit !== undefined) return hit;
    const name = hostnameOf(host);
    const byName = exact.get(name);
    if (byName !== undefined) return byName;
    for (const [suffix, key] of suffixes) if (name.endsWith(suffix) && name.length > suffix.length) return key;
    return null;
  };
}

/** The host of an event: its `host`, else the host of its `url`, else null. */
export function hostOfEvent(event: { host?: string | undefined; url?: string | undefined }): string | null {
  if (event.host) return normalizeHost(event.host);
  if (!event.url) return null;
  try {
    const url = new URL(event.url);
    return url.host ? normalizeHost(url.host) : null;
  } catch {
    return null;
  }
}

/** A URL without its query and fragment (which may carry personal data), for samples. */
export function redactUrl(raw: string): string | null {
  try {
    const url = new URL(raw);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    return `${url.protocol}//${url.host}${url.pathname}`.slice(0, 300);
  } catch {
    return null;
  }
}

/** What one beacon adds: per matched config key and host, plus what matched nothing. */
export interface BeaconTally {
  /** config key → host → tally */
  matched: Map<string, Map<string, Tally>>;
  /** config key → failing URLs (redacted), at most MAX_SAMPLES */
  samples: Map<string, string[]>;
  /** unmatched host (or "(none)") → events */
  unmatched: Map<string, number>;
  events: number;
}

function tallyOf(type: EventType, n: number): Tally {
  switch (type) {
    case 'resource_ok':
    case 'fetch_ok':
      return { ok: n, errors: 0, jsErrors: 0 };
    case 'resource_error':
    case 'fetch_error':
      return { ok: 0, errors: n, jsErrors: 0 };
    case 'js_error':
      return { ok: 0, errors: 0, jsErrors: n };
  }
}

/** Split a beacon's events and counts by the component their host belongs to. */
export function tallyBeacon(beacon: Beacon, match: HostMatcher): BeaconTally {
  const out: BeaconTally = { matched: new Map(), samples: new Map(), unmatched: new Map(), events: 0 };
  const add = (host: string | null, type: EventType, n: number, url?: string, status?: number) => {
    if (n <= 0) return;
    out.events += n;
    const key = host === null ? null : match(host);
    if (key === null || host === null) {
      const label = host ?? '(none)';
      out.unmatched.set(label, (out.unmatched.get(label) ?? 0) + n);
      return;
    }
    const byHost = out.matched.get(key) ?? new Map<string, Tally>();
    out.matched.set(key, byHost);
    const tally = byHost.get(host) ?? emptyTally();
    byHost.set(host, tally);
    addTally(tally, tallyOf(type, n));
    if (url && (type === 'resource_error' || type === 'fetch_error')) {
      const samples = out.samples.get(key) ?? [];
      const redacted = redactUrl(url);
      if (redacted && samples.length < MAX_SAMPLES) {
        samples.push(`${type === 'fetch_error' ? 'fetch' : 'load'} ${redacted}${status ? ` → ${status}` : ''}`);
        out.samples.set(key, samples);
      }
    }
  };
  for (const event of beacon.events) add(hostOfEvent(event), event.type, 1, event.url, event.status);
  for (const row of beacon.counts) {
    const host = normalizeHost(row.host);
    for (const type of EVENT_TYPES) add(host, type, row[type]);
  }
  return out;
}

/** One component (config key) in one window. */
export interface KeyWindow {
  hosts: Map<string, Tally>;
  samples: string[];
  clients: Set<string>;
}

export interface OpenWindow {
  start: number;
  keys: Map<string, KeyWindow>;
  unmatched: Map<string, number>;
  unmatchedEvents: number;
  beacons: number;
}

/** Minute windows by arrival time, in memory: filled by beacons, taken when their minute is over. */
export class WindowAggregator {
  readonly #windows = new Map<number, OpenWindow>();
  readonly #windowMs: number;

  constructor(windowMs = WINDOW_MS) {
    this.#windowMs = windowMs;
  }

  get windowMs(): number {
    return this.#windowMs;
  }

  startOf(at: number): number {
    return Math.floor(at / this.#windowMs) * this.#windowMs;
  }

  add(at: number, tally: BeaconTally, client: string): void {
    const start = this.startOf(at);
    let window = this.#windows.get(start);
    if (!window) {
      window = { start, keys: new Map(), unmatched: new Map(), unmatchedEvents: 0, beacons: 0 };
      this.#windows.set(start, window);
    }
    window.beacons++;
    for (const [key, hosts] of tally.matched) {
      let kw = window.keys.get(key);
      if (!kw) {
        kw = { hosts: new Map(), samples: [], clients: new Set() };
        window.keys.set(key, kw);
      }
      for (const [host, t] of hosts) {
        const into = kw.hosts.get(host) ?? emptyTally();
        kw.hosts.set(host, into);
        addTally(into, t);
      }
      for (const s of tally.samples.get(key) ?? []) if (kw.samples.length < MAX_SAMPLES) kw.samples.push(s);
      if (kw.clients.size < MAX_CLIENTS) kw.clients.add(client);
    }
    for (const [host, n] of tally.unmatched) {
      window.unmatchedEvents += n;
      if (window.unmatched.has(host) || window.unmatched.size < MAX_UNMATCHED_HOSTS)
        window.unmatched.set(host, (window.unmatched.get(host) ?? 0) + n);
    }
  }

  /** Is any window over at `now`? */
  hasDue(now: number): boolean {
    for (const start of this.#windows.keys()) if (start + this.#windowMs <= now) return true;
    return false;
  }

  /** Remove and return the windows that are over at `now`, oldest first. */
  takeDue(now: number): OpenWindow[] {
    const due = [...this.#windows.values()].filter((w) => w.start + this.#windowMs <= now).sort((a, b) => a.start - b.start);
    for (const w of due) this.#windows.delete(w.start);
    return due;
  }

  /** The windows still open (the current minute, and any a late close has not taken yet). */
  open(): OpenWindow[] {
    return [...this.#windows.values()].sort((a, b) => a.start - b.start);
  }
}

/** A component's share of a closed window, with its key windows merged (name and id may both be listed). */
export interface ComponentWindow {
  componentId: string;
  start: number;
  end: number;
  hosts: Map<string, Tally>;
  total: Tally;
  samples: string[];
  clients: number;
}

export function mergeKeyWindows(componentId: string, start: number, end: number, parts: readonly KeyWindow[]): ComponentWindow {
  const hosts = new Map<string, Tally>();
  const total = emptyTally();
  const samples: string[] = [];
  const clients = new Set<string>();
  for (const part of parts) {
    for (const [host, t] of part.hosts) {
      const into = hosts.get(host) ?? emptyTally();
      hosts.set(host, into);
      addTally(into, t);
      addTally(total, t);
    }
    for (const s of part.samples) if (samples.length < MAX_SAMPLES) samples.push(s);
    for (const c of part.clients) clients.add(c);
  }
  return { componentId, start, end, hosts, total, samples, clients: clients.size };
}

export interface Thresholds {
  /** Error rate (0..1) at or above which a window is a failure. */
  errorRate: number;
  /** Loads and fetches a window needs before it says anything. */
  minEvents: number;
}

export type Verdict = 'failure' | 'success' | null;

/**
 * The rule: errors / (errors + successes) over the loads and fetches of the window. Fewer than
 * minEvents: no verdict (too little traffic to tell). JS errors are reported but not in the rate:
 * they have no denominator, and one broken loop can throw hundreds.
 */
export function judgeWindow(total: Tally, thresholds: Thresholds): Verdict {
  const n = total.ok + total.errors;
  if (n === 0 || n < thresholds.minEvents) return null;
  return total.errors / n >= thresholds.errorRate ? 'failure' : 'success';
}

export function errorRateOf(t: Tally): number {
  const n = t.ok + t.errors;
  return n === 0 ? 0 : t.errors / n;
}

/** The hosts that failed most, worst first (at most three named). */
function worstHosts(hosts: ReadonlyMap<string, Tally>): string[] {
  return [...hosts]
    .filter(([, t]) => t.errors > 0)
    .sort((a, b) => b[1].errors - a[1].errors || a[0].localeCompare(b[0]))
    .map(([h]) => h);
}

/** Signal summary, e.g. "34% of browser loads from cdn.example failed (120 of 350, 12 clients)". */
export function describeWindow(w: ComponentWindow): string {
  const n = w.total.ok + w.total.errors;
  const pct = Math.round(errorRateOf(w.total) * 100);
  const worst = worstHosts(w.hosts);
  const named = worst.slice(0, 3).join(', ') + (worst.length > 3 ? ` and ${worst.length - 3} more` : '');
  const from = named ? ` from ${named}` : '';
  return `${pct}% of browser loads${from} failed (${w.total.errors} of ${n}, ${w.clients} client${w.clients === 1 ? '' : 's'})`;
}

/** The window as plain data for a signal's details and the stats endpoint. */
export function windowDetails(w: ComponentWindow): Record<string, unknown> {
  return {
    window_start: new Date(w.start).toISOString(),
    window_end: new Date(w.end).toISOString(),
    loads: w.total.ok + w.total.errors,
    errors: w.total.errors,
    error_rate: Math.round(errorRateOf(w.total) * 1000) / 1000,
    js_errors: w.total.jsErrors,
    clients: w.clients,
    hosts: Object.fromEntries(
      [...w.hosts]
        .sort((a, b) => a[0].localeCompare(b[0]))
        .map(([h, t]) => [h, { ok: t.ok, errors: t.errors, js_errors: t.jsErrors }]),
    ),
    samples: w.samples,
  };
}

/** A key for the client's address: IPv6 by its /64 (one household or server), IPv4 as it is. */
export function clientKeyOf(ip: string): string {
  const addr = ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
  if (!addr.includes(':')) return addr;
  const [head = '', tail = ''] = addr.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = addr.includes('::')
    ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
    : left;
  return `${groups
    .slice(0, 4)
    .map((g) => (g || '0').toLowerCase().replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
