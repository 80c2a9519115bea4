import { describe, expect, test } from 'vitest';
import {
  type Beacon,
  beaconSchema,
  clientKeyOf,
  createHostMatcher,
  describeWindow,
  emptyTally,
  hostOfEvent,
  judgeWindow,
  MAX_SAMPLES,
  mergeKeyWindows,
  normalizeOrigin,
  redactUrl,
  tallyBeacon,
  WindowAggregator,
  windowDetails,
} from './beacons.js';

const match = createHostMatcher({
  cdn: ['cdn.example', '*.img.example', 'Assets.Example.'],
  api: ['api.example:8443', 'cdn.example'],
});

function parse(body: unknown): Beacon {
  return beaconSchema.parse(body);
}

describe('payload', () => {
  test('v1 with events and counts; unknown fields ignored; defaults filled', () => {
    const b = parse({
      v: 1,
      page: 'https://showroom.example/',
      events: [{ type: 'fetch_error', host: ' API.Example:8443 ', status: 502, extra: true }],
      counts: [{ host: 'cdn.example', resource_ok: 3 }],
      sdk: '1.2.0',
    });
    expect(b.events[0]).toEqual({ type: 'fetch_error', host: 'api.example:8443', status: 502 });
    expect(b.counts[0]).toEqual({
      host: 'cdn.example',
      resource_ok: 3,
      resource_error: 0,
      fetch_ok: 0,
      fetch_error: 0,
      js_error: 0,
    });
    expect(parse({ v: 1, page: 'x' })).toMatchObject({ events: [], counts: [] });
  });

  test('caps and types name the field at fault', () => {
    const fields = (body: unknown) => beaconSchema.safeParse(body).error?.issues.map((i) => i.path.join('.'));
    expect(fields({ v: 1, page: 'p', events: Array.from({ length: 101 }, () => ({ type: 'js_error' })) })).toEqual(['events']);
    expect(fields({ v: 1, page: 'p', counts: [{ host: 'cdn.example', resource_error: 10_001 }] })).toEqual([
      'counts.0.resource_error',
    ]);
    expect(fields({ v: 1, page: 'p', counts: [{ host: 'cdn.example/path' }] })).toEqual(['counts.0.host']);
    expect(fields({ v: 1, page: 'p', events: [{ type: 'js_error', status: 1.5 }] })).toEqual(['events.0.status']);
    expect(fields({ v: '1', page: 'p' })).toEqual(['v']);
  });
});

describe('hosts', () => {
  test('exact, any port, wildcard subdomains, case and trailing dot; first listed wins', () => {
    expect(match('cdn.example')).toBe('cdn');
    expect(match('CDN.example:443')).toBe('cdn');
    expect(match('a.b.img.example')).toBe('cdn');
    expect(match('img.example')).toBeNull();
    expect(match('evilimg.example')).toBeNull();
    expect(match('assets.example')).toBe('cdn');
    expect(match('api.example:8443')).toBe('api');
    expect(match('api.example')).toBeNull();
    expect(match('[::1]:8080')).toBeNull();
    expect(createHostMatcher({ local: ['[::1]'] })('[::1]:8080')).toBe('local');
  });

  test('an event host comes from host, else from url', () => {
    expect(hostOfEvent({ host: 'CDN.example.' })).toBe('cdn.example');
    expect(hostOfEvent({ url: 'https://cdn.example:444/a.js?x=1' })).toBe('cdn.example:444');
    expect(hostOfEvent({ url: '/relative.js' })).toBeNull();
    expect(hostOfEvent({})).toBeNull();
  });

  test('origins and urls are normalised; samples lose query and fragment', () => {
    expect(normalizeOrigin(' https://Showroom.example/ ')).toBe('https://showroom.example');
    expect(redactUrl('https://cdn.example/app.js?user=ann@example.com#x')).toBe('https://cdn.example/app.js');
    expect(redactUrl('data:text/plain,hi')).toBeNull();
    expect(redactUrl('not a url')).toBeNull();
  });

  test('client keys: IPv4 as is, IPv6 by /64', () => {
    expect(clientKeyOf('192.0.2.7')).toBe('192.0.2.7');
    expect(clientKeyOf('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(clientKeyOf('2001:db8:0a:1:2:3:4:5')).toBe('2001:db8:a:1::/64');
    expect(clientKeyOf('2001:DB8::1')).toBe('2001:db8:0:0::/64');
    expect(clientKeyOf('::1')).toBe('0:0:0:0::/64');
  });
});

describe('tallies and windows', () => {
  const beacon = parse({
    v: 1,
    page: 'https://showroom.example/p',
    events: [
      { type: 'resource_error', url: 'https://cdn.example/a.js?token=secret', status: 503 },
      { type: 'fetch_error', host: 'api.example:8443' },
      { type: 'js_error', url: 'https://cdn.example/a.js', message: 'boom' },
      { type: 'js_error', message: 'no host' },
      { type: 'resource_ok', url: 'https://fonts.other.example/f.woff2' },
    ],
    counts: [
      { host: 'cdn.example', resource_ok: 7, fetch_ok: 2, resource_error: 1 },
      { host: 'x.img.example', resource_error: 4 },
      { host: 'unknown.example', resource_ok: 9 },
    ],
  });

  test('a beacon splits by component and host; unmatched hosts counted apart', () => {
    const t = tallyBeacon(beacon, match);
    expect(t.events).toBe(5 + 10 + 4 + 9);
    expect(Object.fromEntries(t.matched.get('cdn') ?? [])).toEqual({
      'cdn.example': { ok: 9, errors: 2, jsErrors: 1 },
      'x.img.example': { ok: 0, errors: 4, jsErrors: 0 },
    });
    expect(Object.fromEntries(t.matched.get('api') ?? [])).toEqual({ 'api.example:8443': { ok: 0, errors: 1, jsErrors: 0 } });
    expect(Object.fromEntries(t.unmatched)).toEqual({ '(none)': 1, 'fonts.other.example': 1, 'unknown.example': 9 });
    expect(t.samples.get('cdn')).toEqual(['load https://cdn.example/a.js → 503']);
  });

  test('windows are minutes by arrival; only finished ones are taken, oldest first', () => {
    const agg = new WindowAggregator();
    const t0 = Date.UTC(2026, 0, 15, 9, 0, 30);
    const t = tallyBeacon(beacon, match);
    agg.add(t0, t, 'a');
    agg.add(t0 + 10_000, t, 'b');
    agg.add(t0 + 40_000, t, 'a');
    expect(agg.hasDue(t0 + 29_999)).toBe(false);
    expect(agg.hasDue(t0 + 30_000)).toBe(true);
    const due = agg.takeDue(t0 + 50_000);
    expect(due.map((w) => w.start)).toEqual([Date.UTC(2026, 0, 15, 9, 0, 0)]);
    expect(due[0]?.beacons).toBe(2);
    expect(due[0]?.keys.get('cdn')?.clients.size).toBe(2);
    expect(due[0]?.unmatchedEvents).toBe(22);
    expect(agg.open().map((w) => w.beacons)).toEqual([1]);
    expect(agg.takeDue(t0 + 50_000)).toEqual([]);
  });

  test('a component listed by name and id merges into one window; samples capped', () => {
    const agg = new WindowAggregator();
    const t = tallyBeacon(beacon, match);
    for (let i = 0; i < 5; i++) agg.add(0, t, `c${i}`);
    const [w] = agg.takeDue(60_000);
    const parts = [w?.keys.get('cdn'), w?.keys.get('api')].filter((x) => x !== undefined);
    const cw = mergeKeyWindows('comp', 0, 60_000, parts);
    expect(cw.total).toEqual({ ok: 45, errors: 35, jsErrors: 5 });
    expect(cw.clients).toBe(5);
    expect(cw.samples.length).toBe(MAX_SAMPLES);
    expect(describeWindow(cw)).toBe(
      '44% of browser loads from x.img.example, cdn.example, api.example:8443 failed (35 of 80, 5 clients)',
    );
    expect(windowDetails(cw)).toMatchObject({
      loads: 80,
      errors: 35,
      error_rate: 0.438,
      js_errors: 5,
      window_start: '1970-01-01T00:00:00.000Z',
      hosts: { 'api.example:8443': { ok: 0, errors: 5, js_errors: 0 } },
    });
  });
});

describe('threshold rule', () => {
  const rule = { errorRate: 0.2, minEvents: 20 };
  const tally = (ok: number, errors: number, jsErrors = 0) => ({ ...emptyTally(), ok, errors, jsErrors });

  test('too little traffic says nothing', () => {
    expect(judgeWindow(tally(0, 0), rule)).toBeNull();
    expect(judgeWindow(tally(0, 19), rule)).toBeNull();
    expect(judgeWindow(tally(0, 0, 500), rule)).toBeNull();
  });

  test('the error rate decides, the threshold included; JS errors are not in it', () => {
    expect(judgeWindow(tally(16, 4), rule)).toBe('failure');
    expect(judgeWindow(tally(17, 4), rule)).toBe('success');
    expect(judgeWindow(tally(100, 0, 80), rule)).toBe('success');
    expect(judgeWindow(tally(0, 1), { errorRate: 0, minEvents: 1 })).toBe('failure');
    expect(judgeWindow(tally(1, 0), { errorRate: 1, minEvents: 1 })).toBe('success');
  });
});
