import { beforeAll, expect, test } from 'vitest';
import { type TestContext, useTestContext } from '../../test/harness/context.js';
import { describeEachDialect } from '../../test/harness/databases.js';
import { MINUTE, SECOND } from '../core/clock.js';
import { DetectionService } from './detection.service.js';

async function setup(c: TestContext): Promise<{ token: string; cdn: string; api: string; monitor: string }> {
  const token = await c.token('commander');
  const cdn = (await c.call('POST', '/api/v1/components', { token, body: { name: 'Showroom CDN', kind: 'cdn' } })).json().id;
  const api = (await c.call('POST', '/api/v1/components', { token, body: { name: 'Product API', kind: 'api' } })).json().id;
  const res = await c.call('POST', '/api/v1/monitors', {
    token,
    body: {
      component: 'Showroom CDN',
      name: 'CDN home page',
      type: 'http',
      check: { url: 'https://cdn.showroom.example/health', timeoutMs: 2000 },
      interval_seconds: 10,
      regions: ['*'],
    },
  });
  expect(res.statusCode).toBe(201);
  return { token, cdn, api, monitor: res.json().id };
}

async function report(c: TestContext, region: string, monitor: string, ok: boolean, times = 1) {
  const agent = await c.token('agent');
  for (let i = 0; i < times; i++) {
    c.clock.advance(10 * SECOND);
    const res = await c.call('POST', '/api/v1/probe-results', {
      token: agent,
      body: { region, results: [{ monitor_id: monitor, ok, latency_ms: ok ? 40 : 2000, ...(ok ? {} : { error: 'HTTP 503' }) }] },
    });
    expect(res.statusCode).toBe(200);
  }
}

describeEachDialect('detection: auto-declare, regions, joining and recovery', (dialect) => {
  const ctx = useTestContext(dialect, { config: { 'detection.declare': 'auto' } });
  let ids: Awaited<ReturnType<typeof setup>>;

  beforeAll(async () => {
    ids = await setup(ctx());
  });

  test('monitors are validated: interval, component, check shape by type', async () => {
    const c = ctx();
    const bad = async (body: Record<string, unknown>) =>
      c.call('POST', '/api/v1/monitors', {
        token: ids.token,
        body: {
          component: 'Showroom CDN',
          name: 'x',
          type: 'http',
          check: { url: 'https://a.example' },
          interval_seconds: 10,
          ...body,
        },
      });
    expect((await bad({ interval_seconds: 2 })).json().error.details[0]).toMatchObject({ field: 'interval_seconds' });
    expect((await bad({ component: 'Nope' })).json().error).toMatchObject({ code: 'unknown_component' });
    const tls = await bad({ type: 'tls', check: { port: 443 } });
    expect(tls.statusCode).toBe(400);
    expect(tls.json().error.details[0]).toMatchObject({ field: 'host' });
    expect((await bad({ check: { url: 'https://a.example', timeoutMs: 20_000 } })).json().error.code).toBe('timeout_too_long');
  });

  test('one failed probe is pending and declares nothing; the second confirms the outage and an incident is declared', async () => {
    const c = ctx();
    await report(c, 'eu-west', ids.monitor, false);
    await c.worker.pump();
    expect((await c.call('GET', '/api/v1/incidents?state=open', { token: ids.token })).json().incidents).toEqual([]);
    const firstFailure = c.clock.now();
    await report(c, 'eu-west', ids.monitor, false);
    await c.worker.pump();
    const open = (await c.call('GET', '/api/v1/incidents?state=open', { token: ids.token })).json().incidents;
    expect(open).toHaveLength(1);
    const incident = (await c.call('GET', `/api/v1/incidents/${open[0].id}`, { token: ids.token })).json();
    expect(incident).toMatchObject({
      name: 'CDN outage: Showroom CDN',
      scope: 'global',
      impact: 'critical',
      channels: ['CDN'],
      started_at: new Date(firstFailure).toISOString(),
      acknowledged_at: null,
      components: [{ id: ids.cdn, status: 'major_outage' }],
    });
    // Detection's own entries (the playbook adds its acknowledgement and checklist entries beside them).
    const timeline = (await c.call('GET', `/api/v1/incidents/${open[0].id}/timeline`, { token: ids.token }))
      .json()
      .events.filter((e: { type: string }) => e.type === 'incident.declared' || e.type.startsWith('detection.'));
    expect(timeline.map((e: { type: string }) => e.type)).toEqual(['incident.declared', 'detection.signal']);
    expect(timeline[1].data.reasons[0]).toMatch(/probes down in eu-west/);
    // More failures: no second incident, no event per probe.
    await report(c, 'eu-west', ids.monitor, false, 3);
    await c.worker.pump();
    expect((await c.call('GET', '/api/v1/incidents?state=open', { token: ids.token })).json().incidents).toHaveLength(1);
    const after = (await c.call('GET', `/api/v1/incidents/${open[0].id}/timeline`, { token: ids.token })).json().events;
    expect(after.filter((e: { type: string }) => e.type.startsWith('detection.'))).toHaveLength(1);
    expect((await c.call('GET', `/api/v1/components/${ids.cdn}`, { token: ids.token })).json().status).toBe('major_outage');
  });

  test('a second region that sees the origin fine narrows the outage to the failing region; the incident learns it', async () => {
    const c = ctx();
    await report(c, 'us-east', ids.monitor, true, 2);
    await report(c, 'eu-west', ids.monitor, false);
    const health = (await c.call('GET', '/api/v1/health', { token: ids.token }))
      .json()
      .components.find((x: { id: string }) => x.id === ids.cdn);
    expect(health, JSON.stringify(health)).toMatchObject({ status: 'partial_outage', scope: ['eu-west'] });
    const [open] = (await c.call('GET', '/api/v1/incidents?state=open', { token: ids.token })).json().incidents;
    const detail = (await c.call('GET', `/api/v1/incidents/${open.id}`, { token: ids.token })).json();
    expect(detail.components).toEqual([{ id: ids.cdn, name: 'Showroom CDN', kind: 'cdn', status: 'partial_outage' }]);
  });

  test('recovery everywhere: the unacknowledged incident gets a proposal, not a public update; the acknowledged one moves to monitoring', async () => {
    const c = ctx();
    await report(c, 'eu-west', ids.monitor, true, 2);
    const [open] = (await c.call('GET', '/api/v1/incidents?state=open', { token: ids.token })).json().incidents;
    let timeline = (await c.call('GET', `/api/v1/incidents/${open.id}/timeline`, { token: ids.token })).json().events;
    expect(timeline.at(-1)).toMatchObject({ type: 'detection.recovered', public: false });
    expect(timeline.at(-1).data.summary).toMatch(/resolution proposed/);
    expect((await c.call('GET', `/api/v1/incidents/${open.id}`, { token: ids.token })).json().status).toBe('investigating');

    // Fail again (same incident: the component is in it), acknowledge, recover.
    await report(c, 'eu-west', ids.monitor, false, 2);
    await report(c, 'us-east', ids.monitor, false, 2);
    expect((await c.call('GET', `/api/v1/components/${ids.cdn}`, { token: ids.token })).json().status).toBe('major_outage');
    await c.call('POST', `/api/v1/incidents/${open.id}/updates`, {
      token: ids.token,
      body: { message: 'We know; the CDN is failing.' },
    });
    await report(c, 'eu-west', ids.monitor, true, 2);
    await report(c, 'us-east', ids.monitor, true, 2);
    const after = (await c.call('GET', `/api/v1/incidents/${open.id}`, { token: ids.token })).json();
    expect(after.status).toBe('monitoring');
    expect(after.updates[0].message).toMatch(/Showroom CDN responding normally from every region/);
    timeline = (await c.call('GET', `/api/v1/incidents/${open.id}/timeline`, { token: ids.token })).json().events;
    expect(timeline.at(-1).type).toBe('detection.recovered');
    expect((await c.call('GET', '/api/v1/incidents?state=open', { token: ids.token })).json().incidents).toHaveLength(1);
  });

  test('state is stored: a restarted process does not alert again', async () => {
    const c = ctx();
    const before = (await c.call('GET', '/api/v1/detections', { token: ids.token })).json().detections.length;
    const fresh = new DetectionService({
      db: c.db,
      clock: c.clock,
      bus: c.services.bus,
      jobs: c.services.jobs,
      incidents: c.services.incidents,
      log: c.services.log,
      options: c.services.detection.options,
    });
    expect(await fresh.evaluate()).toEqual([]);
    expect((await c.call('GET', '/api/v1/detections', { token: ids.token })).json().detections).toHaveLength(before);
  });
});

describeEachDialect('detection: signals from other sources', (dialect) => {
  const ctx = useTestContext(dialect, { config: { 'detection.declare': 'off' } });

  test('unmapped signals are listed; a signal whose resolution never comes can be closed by hand', async () => {
    const c = ctx();
    const ids = await setup(c);
    await c.services.detection.recordSignals([
      {
        source: 'alertmanager',
        fingerprint: 'f-unmapped',
        componentId: null,
        state: 'firing',
        severity: 'down',
        summary: 'disk full on db-7',
      },
      {
        source: 'statuspage',
        fingerprint: 'component:cdn',
        componentId: ids.api,
        state: 'firing',
        severity: 'down',
        summary: 'upstream API outage',
        startedAt: c.clock.now() - 60_000,
      },
    ]);
    const signals = (await c.call('GET', '/api/v1/signals?state=firing', { token: ids.token })).json().signals;
    expect(signals.map((s: { fingerprint: string; component_id: string | null }) => [s.fingerprint, s.component_id])).toEqual(
      expect.arrayContaining([
        ['f-unmapped', null],
        ['component:cdn', ids.api],
      ]),
    );
    const upstream = signals.find((s: { fingerprint: string }) => s.fingerprint === 'component:cdn');
    expect(upstream.first_at).toBe(new Date(c.clock.now() - 60_000).toISOString());
    expect((await c.call('GET', `/api/v1/components/${ids.api}`, { token: ids.token })).json().status).toBe('operational');
    const health = (await c.call('GET', '/api/v1/health', { token: ids.token }))
      .json()
      .components.find((x: { id: string }) => x.id === ids.api);
    expect(health).toMatchObject({ status: 'major_outage', scope: 'global' });
    // declare: off → recorded only
    expect((await c.call('GET', '/api/v1/detections', { token: ids.token })).json().detections[0]).toMatchObject({
      state: 'observed',
    });
    expect((await c.call('POST', `/api/v1/signals/${upstream.id}/resolve`, { token: ids.token })).statusCode).toBe(204);
    const after = (await c.call('GET', '/api/v1/health', { token: ids.token }))
      .json()
      .components.find((x: { id: string }) => x.id === ids.api);
    expect(after.status).toBe('operational');
    expect((await c.call('POST', `/api/v1/signals/${upstream.id}/resolve`, { token: ids.token })).statusCode).toBe(404);
  });
});

describeEachDialect('detection: suggestions the commander confirms or dismisses', (dialect) => {
  const ctx = useTestContext(dialect, { config: { 'detection.declare': 'suggest', 'detection.confirmWithinMinutes': 5 } });
  let ids: Awaited<ReturnType<typeof setup>>;

  beforeAll(async () => {
    ids = await setup(ctx());
  });

  const suggestions = async (c: TestContext) =>
    (await c.call('GET', '/api/v1/detections', { token: ids.token }))
      .json()
      .detections.filter((d: { state: string }) => d.state === 'suggested');

  test('a confirmed outage is suggested, not declared; one click declares it with the commander in charge', async () => {
    const c = ctx();
    await report(c, 'eu-west', ids.monitor, false, 2);
    await c.worker.pump();
    expect((await c.call('GET', '/api/v1/incidents?state=open', { token: ids.token })).json().incidents).toEqual([]);
    const [suggestion] = await suggestions(c);
    expect(suggestion).toMatchObject({ components: [{ id: ids.cdn, status: 'major_outage' }], scope: 'global' });
    const viewer = await c.token('viewer');
    expect((await c.call('POST', `/api/v1/detections/${suggestion.id}/confirm`, { token: viewer })).statusCode).toBe(403);
    const confirmed = await c.call('POST', `/api/v1/detections/${suggestion.id}/confirm`, { token: ids.token });
    expect(confirmed.statusCode).toBe(201);
    const incident = (await c.call('GET', `/api/v1/incidents/${confirmed.json().incident_id}`, { token: ids.token })).json();
    expect(incident.name).toBe('CDN outage: Showroom CDN');
    expect((await c.call('POST', `/api/v1/detections/${suggestion.id}/confirm`, { token: ids.token })).statusCode).toBe(409);
    // The job of the confirmation window finds it declared and does nothing more.
    c.clock.advance(10 * MINUTE);
    await c.worker.pump();
    expect((await c.call('GET', '/api/v1/incidents?state=open', { token: ids.token })).json().incidents).toHaveLength(1);
    await c.call('POST', `/api/v1/incidents/${incident.id}/updates`, {
      token: ids.token,
      body: { status: 'resolved', message: 'Fixed.' },
    });
    await report(c, 'eu-west', ids.monitor, true, 2);
  });

  test('nobody answers: the suggestion is declared when its window ends; a dismissed one never is', async () => {
    const c = ctx();
    await report(c, 'eu-west', ids.monitor, false, 2);
    const [pending] = await suggestions(c);
    c.clock.advance(5 * MINUTE - 30 * SECOND);
    await c.worker.pump();
    expect((await c.call('GET', '/api/v1/incidents?state=open', { token: ids.token })).json().incidents).toEqual([]);
    c.clock.advance(30 * SECOND);
    await c.worker.pump();
    const open = (await c.call('GET', '/api/v1/incidents?state=open', { token: ids.token })).json().incidents;
    expect(open.map((i: { id: string }) => i.id)).toEqual([pending.id]);
    await c.call('POST', `/api/v1/incidents/${pending.id}/updates`, {
      token: ids.token,
      body: { status: 'resolved', message: 'Fixed.' },
    });
    await report(c, 'eu-west', ids.monitor, true, 2);

    await report(c, 'eu-west', ids.monitor, false, 2);
    const [falseAlarm] = await suggestions(c);
    expect((await c.call('POST', `/api/v1/detections/${falseAlarm.id}/dismiss`, { token: ids.token })).statusCode).toBe(204);
    c.clock.advance(10 * MINUTE);
    await c.worker.pump();
    expect((await c.call('GET', '/api/v1/incidents?state=open', { token: ids.token })).json().incidents).toEqual([]);
  });

  test('an outage that heals before anyone acts is recorded as a blip', async () => {
    const c = ctx();
    // Its own monitor: the CDN one has flapped enough above to need more successes to come back.
    const monitor = (
      await c.call('POST', '/api/v1/monitors', {
        token: ids.token,
        body: {
          component: 'Product API',
          name: 'API health',
          type: 'http',
          check: { url: 'https://api.showroom.example/health' },
          interval_seconds: 10,
        },
      })
    ).json().id;
    await report(c, 'eu-west', monitor, true, 2);
    await report(c, 'eu-west', monitor, false, 2);
    const [blip] = await suggestions(c);
    expect(blip.components).toEqual([{ id: ids.api, status: 'major_outage' }]);
    await report(c, 'eu-west', monitor, true, 2);
    const after = (await c.call('GET', '/api/v1/detections', { token: ids.token }))
      .json()
      .detections.find((d: { id: string }) => d.id === blip.id);
    expect(after.state).toBe('recovered');
    c.clock.advance(10 * MINUTE);
    await c.worker.pump();
    expect((await c.call('GET', '/api/v1/incidents?state=open', { token: ids.token })).json().incidents).toEqual([]);
  });
});
