import { Readable } from 'node:stream';
import type { LightMyRequestResponse } from 'fastify';
import { expect, test } from 'vitest';
import { TEST_ACTOR, type TestContext, useTestContext } from '../../../test/harness/context.js';
import { describeEachDialect } from '../../../test/harness/databases.js';
import { buildApp } from '../../app/build-app.js';
import { MINUTE } from '../../core/clock.js';
import { listIncidentComponents, listIncidents } from '../../incidents/incidents.repo.js';
import { listDetections, listHealth, listSignals } from '../detection.repo.js';
import type { SignalInput } from '../detection.service.js';
import { beaconSchema, MAX_BEACON_BYTES } from './beacons.js';
import { BEACONS_PATH } from './beacons.routes.js';
import { BeaconService, beaconFingerprint, beaconsFor, STALE_PENDING_WINDOWS } from './beacons.service.js';

const SHOWROOM = 'https://showroom.example';
const TEXT = 'text/plain;charset=UTF-8';

const CONFIG = {
  'detection.declare': 'auto',
  'detection.failuresToDown': 2,
  'detection.successesToUp': 2,
  'detection.beacons': {
    origins: [SHOWROOM, 'https://www.showroom.example/'],
    hosts: { 'Showroom CDN': ['cdn.example', '*.img.example'], 'Catalog API': ['api.example'] },
    errorRate: 0.2,
    minEvents: 20,
  },
};

interface Send {
  body: unknown;
  origin?: string | null;
  ip?: string;
  contentType?: string;
}

function send(c: TestContext, { body, origin = SHOWROOM, ip = '198.51.100.1', contentType = TEXT }: Send) {
  return c.app.inject({
    method: 'POST',
    url: BEACONS_PATH,
    remoteAddress: ip,
    headers: { 'content-type': contentType, ...(origin !== null && { origin }) },
    payload: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

function beacon(counts: Array<Record<string, unknown>>, events: Array<Record<string, unknown>> = []) {
  return { v: 1, page: `${SHOWROOM}/products/42?utm=mail`, events, counts };
}

/** A minute of traffic: `beacons` browsers each loading `ok` good and `failed` failed assets from the CDN. */
async function minuteOfTraffic(c: TestContext, opts: { beacons: number; ok: number; failed: number; host?: string }) {
  for (let i = 0; i < opts.beacons; i++) {
    const res = await send(c, {
      ip: `192.0.2.${10 + i}`,
      body: beacon(
        [{ host: opts.host ?? 'cdn.example', resource_ok: opts.ok, resource_error: opts.failed }],
        opts.failed > 0
          ? [{ type: 'resource_error', url: `https://${opts.host ?? 'cdn.example'}/app.js?v=3&u=me`, status: 503 }]
          : [],
      ),
    });
    expect(res.statusCode).toBe(204);
  }
}

function errorOf(res: LightMyRequestResponse) {
  return res.json().error as { code: string; message: string; details?: unknown };
}

describeEachDialect('browser beacons', (dialect) => {
  const ctx = useTestContext(dialect, { config: CONFIG });

  test('CORS: configured origins get Access-Control-Allow-Origin, others 403, no Origin is accepted', async () => {
    const c = ctx();
    const allowed = await send(c, { body: beacon([]) });
    expect(allowed.statusCode).toBe(204);
    expect(allowed.headers['access-control-allow-origin']).toBe(SHOWROOM);
    expect(allowed.headers.vary).toContain('Origin');
    expect(allowed.body).toBe('');

    // Configured with a trailing slash: compared as browsers send it.
    const www = await send(c, { body: beacon([]), origin: 'https://www.showroom.example' });
    expect(www.statusCode).toBe(204);
    expect(www.headers['access-control-allow-origin']).toBe('https://www.showroom.example');

    for (const origin of ['https://evil.example', 'https://showroom.example.evil.example', 'http://showroom.example', 'null']) {
      const res = await send(c, { body: beacon([]), origin });
      expect(res.statusCode, origin).toBe(403);
      expect(errorOf(res).code).toBe('origin_not_allowed');
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    }

    const curl = await send(c, { body: beacon([]), origin: null });
    expect(curl.statusCode).toBe(204);
    expect(curl.headers['access-control-allow-origin']).toBeUndefined();

    const json = await send(c, { body: beacon([]), contentType: 'application/json' });
    expect(json.statusCode).toBe(204);
  });

  test('CORS preflight: allowed origin answered, others 403', async () => {
    const c = ctx();
    const preflight = (origin: string) =>
      c.app.inject({
        method: 'OPTIONS',
        url: BEACONS_PATH,
        headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
      });
    const ok = await preflight(SHOWROOM);
    expect(ok.statusCode).toBe(204);
    expect(ok.headers).toMatchObject({
      'access-control-allow-origin': SHOWROOM,
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers': 'Content-Type',
      'access-control-max-age': '7200',
    });
    expect(ok.headers.vary).toContain('Origin');
    const bad = await preflight('https://evil.example');
    expect(bad.statusCode).toBe(403);
    expect(bad.headers['access-control-allow-origin']).toBeUndefined();
  });

  test('bodies over 16 KiB: 413 naming the beacon limit, with or without Content-Length', async () => {
    const c = ctx();
    const big = beacon([], [{ type: 'js_error', message: 'x'.repeat(1000) }]);
    (big as { padding?: string }).padding = 'y'.repeat(MAX_BEACON_BYTES);
    const res = await send(c, { body: big, ip: '198.51.100.2' });
    expect(res.statusCode).toBe(413);
    expect(errorOf(res)).toMatchObject({ code: 'payload_too_large', details: { limit_bytes: MAX_BEACON_BYTES } });
    expect(errorOf(res).message).toContain('16 KiB');
    expect(res.headers['access-control-allow-origin']).toBe(SHOWROOM);

    const chunked = await c.app.inject({
      method: 'POST',
      url: BEACONS_PATH,
      remoteAddress: '198.51.100.2',
      headers: { 'content-type': TEXT, origin: SHOWROOM },
      payload: Readable.from([JSON.stringify(big)]),
    });
    expect(chunked.statusCode).toBe(413);
    expect(errorOf(chunked)).toMatchObject({ code: 'payload_too_large', details: { limit_bytes: MAX_BEACON_BYTES } });
    expect(errorOf(chunked).message).toContain('16 KiB');
  });

  test('bad payloads: 400 naming the field; not JSON: 400 with the position; other types: 415; never 500', async () => {
    const c = ctx();
    const ip = '198.51.100.3';
    const wrongType = await send(c, { ip, body: beacon([], [{ type: 'resource_fail', host: 'cdn.example' }]) });
    expect(wrongType.statusCode).toBe(400);
    expect(errorOf(wrongType).code).toBe('validation_failed');
    expect((errorOf(wrongType).details as Array<{ field: string }>).map((d) => d.field)).toEqual(['events.0.type']);

    const many = await send(c, {
      ip,
      body: { v: 2, events: Array.from({ length: 101 }, () => ({ type: 'js_error' })), counts: [{ host: 'a b' }] },
    });
    expect(many.statusCode).toBe(400);
    expect((errorOf(many).details as Array<{ field: string }>).map((d) => d.field)).toEqual(
      expect.arrayContaining(['v', 'page', 'events', 'counts.0.host']),
    );

    const notJson = await send(c, { ip, body: '{"v":1,\n"page": oops}' });
    expect(notJson.statusCode).toBe(400);
    expect(errorOf(notJson)).toMatchObject({ code: 'malformed_json', details: { line: 2 } });

    const xml = await send(c, { ip, body: '<beacon/>', contentType: 'application/xml' });
    expect(xml.statusCode).toBe(415);
    expect(errorOf(xml).code).toBe('unsupported_media_type');

    for (const body of [
      '',
      '[]',
      '42',
      'null',
      '"text"',
      '{"__proto__":{"v":1}}',
      '{"v":1,"page":"x","counts":{"cdn.example":1}}',
    ]) {
      const res = await send(c, { ip, body });
      expect(res.statusCode, body).toBe(400);
    }
  });

  test('a flood from one address: 429 with Retry-After; other addresses unaffected', async () => {
    const c = ctx();
    const flood = '203.0.113.9';
    let first429: LightMyRequestResponse | undefined;
    for (let i = 0; i < 125 && !first429; i++) {
      const res = await send(c, { ip: flood, body: beacon([]) });
      if (res.statusCode === 429) first429 = res;
      else expect(res.statusCode).toBe(204);
    }
    expect(first429).toBeDefined();
    expect(errorOf(first429 as LightMyRequestResponse).code).toBe('rate_limited');
    expect(Number((first429 as LightMyRequestResponse).headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((first429 as LightMyRequestResponse).headers['access-control-allow-origin']).toBe(SHOWROOM);
    // Garbage is refused by the limit before it is read.
    expect((await send(c, { ip: flood, body: 'not json' })).statusCode).toBe(429);
    expect((await send(c, { ip: '203.0.113.10', body: beacon([]) })).statusCode).toBe(204);
    // The allowance comes back with time.
    c.clock.advance(MINUTE);
    expect((await send(c, { ip: flood, body: beacon([]) })).statusCode).toBe(204);
  });

  test('failing CDN loads over two minutes → beacon signal → incident declared; recovery → resolved', async () => {
    const c = ctx();
    const beacons = beaconsFor(c.services);
    await beacons.closeDueWindows();
    const cdn = await c.services.components.create(TEST_ACTOR, { name: 'Showroom CDN', kind: 'cdn' });
    const api = await c.services.components.create(TEST_ACTOR, { name: 'Catalog API', kind: 'api' });
    // Start on a minute boundary.
    c.clock.advance(MINUTE - (c.clock.now() % MINUTE));

    // Minute 1: 10 browsers, 6 of 16 CDN loads failing each (5 counted, 1 as an event: 38%); the API is fine; an unknown host.
    await minuteOfTraffic(c, { beacons: 10, ok: 10, failed: 5 });
    await minuteOfTraffic(c, { beacons: 3, ok: 10, failed: 0, host: 'api.example' });
    await send(c, { body: beacon([{ host: 'fonts.elsewhere.example', resource_ok: 4 }]) });
    c.clock.advance(MINUTE);
    const first = await beacons.closeDueWindows();
    expect(first.find((o) => o.componentId === cdn.id)).toMatchObject({
      verdict: 'failure',
      state: 'pending',
      transition: null,
      loads: 160,
      errors: 60,
    });
    expect(first.find((o) => o.componentId === api.id)).toMatchObject({ verdict: 'success', state: 'up' });
    expect(await listSignals(c.db.kysely, { limit: 10 })).toEqual([]);
    const stats = (await c.call('GET', `${BEACONS_PATH}/stats`, { token: await c.token('viewer') })).json();
    expect(stats.last_closed.unmatched_hosts).toEqual({ 'fonts.elsewhere.example': 4 });
    expect(stats.components.find((x: { component_id: string }) => x.component_id === cdn.id).state).toBe('pending');

    // Minute 2: still failing. Closed lazily by the first beacon of minute 3.
    await minuteOfTraffic(c, { beacons: 10, ok: 10, failed: 5, host: 'static.img.example' });
    c.clock.advance(MINUTE);
    await minuteOfTraffic(c, { beacons: 1, ok: 1, failed: 0 });
    expect(await beacons.closeDueWindows()).toEqual([]);

    const signals = await listSignals(c.db.kysely, { limit: 10 });
    expect(signals).toHaveLength(1);
    expect(signals[0]).toMatchObject({
      source: 'beacon',
      fingerprint: beaconFingerprint(cdn.id),
      componentId: cdn.id,
      state: 'firing',
      severity: 'down',
      summary: '38% of browser loads from static.img.example failed (60 of 160, 10 clients)',
    });
    const details = signals[0]?.details as { last_failure: { samples: string[] } };
    expect(details.last_failure.samples[0]).toBe('load https://static.img.example/app.js → 503');
    expect((await listHealth(c.db.kysely)).get(cdn.id)?.status).toBe('major_outage');

    await c.worker.pump();
    const [detection] = await listDetections(c.db.kysely, 10);
    expect(detection).toMatchObject({ state: 'declared' });
    const incidents = await listIncidents(c.db.kysely, { open: true, limit: 10, includeDrills: false });
    expect(incidents).toHaveLength(1);
    const links = await listIncidentComponents(
      c.db.kysely,
      incidents.map((i) => i.id),
    );
    expect(links.map((l) => l.componentId)).toEqual([cdn.id]);

    // Recovery: the minute-3 beacon was too little to judge; two good minutes resolve it.
    c.clock.advance(MINUTE);
    expect((await beacons.closeDueWindows()).find((o) => o.componentId === cdn.id)).toMatchObject({ verdict: null });
    for (const expected of ['recovering', 'up']) {
      await minuteOfTraffic(c, { beacons: 5, ok: 20, failed: 0 });
      c.clock.advance(MINUTE);
      const [outcome] = (await beacons.closeDueWindows()).filter((o) => o.componentId === cdn.id);
      expect(outcome).toMatchObject({ verdict: 'success', state: expected });
    }
    const [resolved] = await listSignals(c.db.kysely, { limit: 10 });
    expect(resolved).toMatchObject({ state: 'resolved', fingerprint: beaconFingerprint(cdn.id) });
    expect(resolved?.summary).toContain('healthy again');
    expect((await listHealth(c.db.kysely)).get(cdn.id)?.status).toBe('operational');
  });

  test('a restart starts fresh, but a still-firing beacon signal starts its component down so it can resolve', async () => {
    const c = ctx();
    const cdn = (await c.services.components.list()).find((x) => x.name === 'Showroom CDN');
    if (!cdn) throw new Error('needs the CDN component of the previous test');
    await c.services.detection.recordSignals([
      {
        source: 'beacon',
        fingerprint: beaconFingerprint(cdn.id),
        componentId: cdn.id,
        state: 'firing',
        severity: 'down',
        summary: 'from before the restart',
      },
    ]);
    // Another process's service graph, as after a restart.
    const built = await buildApp({ config: c.config, db: c.db, clock: c.clock, log: c.services.log });
    try {
      const fresh = beaconsFor(built.services);
      expect(fresh).not.toBe(beaconsFor(c.services));
      expect(fresh.running).toBe(true);
      for (const expected of ['recovering', 'up']) {
        for (let i = 0; i < 2; i++) {
          const res = await built.app.inject({
            method: 'POST',
            url: BEACONS_PATH,
            headers: { 'content-type': TEXT, origin: SHOWROOM },
            payload: JSON.stringify(beacon([{ host: 'cdn.example', resource_ok: 30 }])),
          });
          expect(res.statusCode).toBe(204);
        }
        c.clock.advance(MINUTE);
        const [outcome] = await fresh.closeDueWindows();
        expect(outcome).toMatchObject({ componentId: cdn.id, state: expected });
      }
      const [signal] = await listSignals(c.db.kysely, { limit: 1 });
      expect(signal).toMatchObject({ fingerprint: beaconFingerprint(cdn.id), state: 'resolved' });
    } finally {
      await built.app.close();
    }
    expect(beaconsFor(built.services).running).toBe(false);
    // The suite's own app still holds its service.
    expect(beaconsFor(c.services).running).toBe(true);
  });

  test('a change that could not be recorded is recorded at the next close', async () => {
    const c = ctx();
    const api = (await c.services.components.list()).find((x) => x.name === 'Catalog API');
    if (!api) throw new Error('needs the API component');
    const recorded: SignalInput[][] = [];
    let fail = true;
    const service = new BeaconService({
      db: c.db,
      clock: c.clock,
      log: c.services.log,
      signals: {
        async recordSignals(inputs) {
          if (fail) throw new Error('database unavailable');
          recorded.push([...inputs]);
          return undefined;
        },
      },
      options: {
        origins: [],
        hosts: { [api.id]: ['api.example'] },
        errorRate: 0.5,
        minEvents: 4,
        failuresToDown: 1,
        successesToUp: 1,
      },
    });
    const body = beacon([{ host: 'api.example', fetch_error: 3, fetch_ok: 1 }]);
    service.ingest(beaconSchema.parse(body), 'x');
    c.clock.advance(MINUTE);
    expect(await service.closeDueWindows()).toMatchObject([{ componentId: api.id, transition: 'down', state: 'down' }]);
    expect(recorded).toEqual([]);
    expect(service.stats().components[0]).toMatchObject({ state: 'down', signal: null });
    fail = false;
    expect(await service.closeDueWindows()).toEqual([]);
    expect(recorded).toMatchObject([
      [{ fingerprint: beaconFingerprint(api.id), state: 'firing', summary: expect.stringContaining('75%') }],
    ]);
    expect(service.stats().components[0]).toMatchObject({ signal: 'firing' });
    await service.stop();
  });

  test('failing minutes far apart are not "in a row"', async () => {
    const c = ctx();
    const api = (await c.services.components.list()).find((x) => x.name === 'Catalog API');
    if (!api) throw new Error('needs the API component');
    const service = new BeaconService({
      db: c.db,
      clock: c.clock,
      log: c.services.log,
      signals: { recordSignals: async () => undefined },
      options: {
        origins: [],
        hosts: { 'Catalog API': ['api.example'] },
        errorRate: 0.5,
        minEvents: 4,
        failuresToDown: 2,
        successesToUp: 1,
      },
    });
    const failing = beaconSchema.parse(beacon([{ host: 'api.example', fetch_error: 4 }]));
    const closeAfter = async (minutes: number) => {
      c.clock.advance(minutes * MINUTE);
      return (await service.closeDueWindows())[0]?.state;
    };
    service.ingest(failing, 'x');
    expect(await closeAfter(1)).toBe('pending');
    c.clock.advance(STALE_PENDING_WINDOWS * MINUTE);
    service.ingest(failing, 'x');
    expect(await closeAfter(1)).toBe('pending');
    service.ingest(failing, 'x');
    expect(await closeAfter(1)).toBe('down');
    await service.stop();
  });

  test('the routes are documented', async () => {
    const c = ctx();
    const doc = (await c.call('GET', '/api/openapi.json')).json();
    const post = doc.paths[BEACONS_PATH].post;
    expect(Object.keys(post.requestBody.content)).toEqual(['text/plain']);
    expect(post.requestBody.content['text/plain'].schema.properties.events).toBeDefined();
    expect(post.description).toContain('sendBeacon');
    expect(doc.paths[BEACONS_PATH].options).toBeDefined();
    expect(doc.paths[`${BEACONS_PATH}/stats`].get['x-keepwarm-roles']).toContain('viewer');
  });
});
