import { readFileSync } from 'node:fs';
import type { LightMyRequestResponse } from 'fastify';
import { beforeAll, expect, test } from 'vitest';
import { type TestContext, useTestContext } from '../../../test/harness/context.js';
import { describeEachDialect } from '../../../test/harness/databases.js';
import { describeNeeding } from '../../../test/harness/env.js';
import { fixturePath, fixturesMissing } from '../../../test/harness/fixtures.js';
import { buildApp } from '../../app/build-app.js';
import { MINUTE } from '../../core/clock.js';
import { listSignals, type Signal } from '../detection.repo.js';
import { INTAKE_SOURCES } from './alert.js';
import { hmacHex } from './auth.js';
import { intakePath } from './intake.routes.js';

const TOKEN = {
  alertmanager: 'am-intake-token-0123456789',
  grafana: 'grafana-intake-token-0123456789',
  'uptime-kuma': 'kuma-intake-token-0123456789',
  statuspage: 'statuspage-intake-token-0123456789',
  generic: 'generic-intake-token-0123456789',
} as const;
const PAGERDUTY_SECRET = 'pagerduty-signing-secret-0123456789';
const GENERIC_SECRET = 'generic-signing-secret-0123456789';

const CONFIG = {
  'detection.declare': 'auto',
  'detection.intake': {
    alertmanager: { token: TOKEN.alertmanager },
    grafana: { token: TOKEN.grafana },
    'uptime-kuma': { token: TOKEN['uptime-kuma'] },
    statuspage: { token: TOKEN.statuspage },
    pagerduty: { hmacSecret: PAGERDUTY_SECRET },
    generic: { token: TOKEN.generic, hmacSecret: GENERIC_SECRET },
  },
  'detection.rules': [
    { match: { job: 'blackbox-icmp', instance: '/^172\\.29\\.254\\.(30|50|66)$/' }, component: 'Showroom CDN' },
    { match: { service_name: 'Port Internal Service' }, component: 'Product API', severity: 'degraded' },
    { match: { page_host: 'statustest.flyingkleinbrothers.com' }, component: 'Upstream CDN' },
  ],
};

function fixtureText(name: string): string {
  return readFileSync(fixturePath('alerts', name), 'utf8');
}

/** POST raw text to a hook (exact bytes, for signatures), with headers. */
function post(c: TestContext, source: string, payload: string, headers: Record<string, string> = {}, query = '') {
  return c.app.inject({
    method: 'POST',
    url: `/api/v1/hooks/${source}${query}`,
    headers: { 'content-type': 'application/json', ...headers },
    payload,
  });
}

const bearer = (source: keyof typeof TOKEN) => ({ authorization: `Bearer ${TOKEN[source]}` });

function expectError(res: LightMyRequestResponse, status: number, code: string) {
  expect(res.statusCode, res.body).toBe(status);
  expect(res.json().error).toMatchObject({ code, message: expect.any(String) });
}

async function health(c: TestContext, token: string, name: string) {
  const all = (await c.call('GET', '/api/v1/health', { token })).json().components as Array<Record<string, unknown>>;
  const found = all.find((x) => x.name === name);
  if (!found) throw new Error(`no component ${name}`);
  return found as { status: string; scope: unknown; reasons: string[]; signals: unknown[] };
}

async function signals(c: TestContext, source: string): Promise<Signal[]> {
  return (await listSignals(c.db.kysely, { limit: 500 })).filter((s) => s.source === source);
}

describeEachDialect('alert intake over HTTP', (dialect) => {
  const ctx = useTestContext(dialect, { config: CONFIG });
  const ids: Record<string, string> = {};
  let token = '';

  beforeAll(async () => {
    const c = ctx();
    token = await c.token('commander');
    for (const [name, kind] of [
      ['Showroom CDN', 'cdn'],
      ['Product API', 'api'],
      ['Upstream CDN', 'third_party'],
      ['Sign-in', 'auth'],
      ['Checkout', 'checkout'],
    ] as const) {
      const res = await c.call('POST', '/api/v1/components', { token, body: { name, kind } });
      expect(res.statusCode, res.body).toBe(201);
      ids[name] = res.json().id;
    }
  });

  test('unknown source: 404 in the error shape, naming the sources', async () => {
    const res = await post(ctx(), 'nagios', '{}');
    expectError(res, 404, 'unknown_source');
    expect(res.json().error.details.sources).toEqual([...INTAKE_SOURCES]);
    expectError(await ctx().call('GET', intakePath('alertmanager')), 404, 'route_not_found');
  });

  test('a source with nothing configured answers 503 (never an open endpoint)', async () => {
    const c = ctx();
    const config = { ...c.config, detection: { ...c.config.detection, intake: {} } };
    const built = await buildApp({ config, db: c.db, clock: c.clock, log: c.services.log });
    try {
      for (const source of INTAKE_SOURCES) {
        const res = await built.app.inject({
          method: 'POST',
          url: intakePath(source),
          headers: { 'content-type': 'application/json', authorization: 'Bearer whatever-token-0123456789' },
          payload: '{"alerts":[]}',
        });
        expectError(res, 503, 'intake_not_configured');
        expect(res.json().error.details.settings[0]).toBe(`detection.intake.${source}.token`);
      }
    } finally {
      await built.app.close();
    }
  });

  test('credentials: missing 401, wrong 403; checked before the body is read', async () => {
    const c = ctx();
    const body = JSON.stringify({ alerts: [] });
    const missing = await post(c, 'alertmanager', body);
    expectError(missing, 401, 'unauthenticated');
    expect(missing.headers['www-authenticate']).toMatch(/^Bearer/);
    expectError(await post(c, 'alertmanager', body, { authorization: `Bearer ${TOKEN.grafana}` }), 403, 'invalid_token');
    // A Keepwarm API token is not an intake credential.
    expectError(await post(c, 'alertmanager', body, { authorization: `Bearer ${await c.token('admin')}` }), 403, 'invalid_token');
    // Not JSON, unauthenticated: the credentials are what is wrong.
    expectError(await post(c, 'grafana', '{not json'), 401, 'unauthenticated');
    expectError(await post(c, 'pagerduty', body), 401, 'signature_missing');
    expectError(
      await post(c, 'pagerduty', body, { 'x-pagerduty-signature': `v1=${hmacHex('some-other-secret-0123', body)}` }),
      403,
      'invalid_signature',
    );
    // Generic needs both its token and its signature.
    expectError(await post(c, 'generic', body, bearer('generic')), 401, 'signature_missing');
    expectError(
      await post(c, 'generic', body, { 'x-keepwarm-signature': `sha256=${hmacHex(GENERIC_SECRET, body)}` }),
      401,
      'unauthenticated',
    );
    expectError(await post(c, 'statuspage', body, {}, '?token=wrong'), 403, 'invalid_token');
  });

  test('malformed payloads: 400 naming the field or the JSON position; never a 500 on garbage', async () => {
    const c = ctx();
    const bad = await post(
      c,
      'alertmanager',
      JSON.stringify({ version: '4', alerts: [{ status: 'burning', labels: {} }] }),
      bearer('alertmanager'),
    );
    expectError(bad, 400, 'validation_failed');
    expect(bad.json().error.details).toEqual([expect.objectContaining({ in: 'body', field: 'alerts.0.status' })]);
    const notJson = await post(c, 'alertmanager', '{\n  "alerts": [,]\n}', bearer('alertmanager'));
    expectError(notJson, 400, 'malformed_json');
    expect(notJson.json().error.details).toMatchObject({ line: 2, column: 14 });
    expectError(
      await post(c, 'alertmanager', '{"__proto__": {"admin": true}, "alerts": []}', bearer('alertmanager')),
      400,
      'malformed_json',
    );

    const garbage = [
      '',
      'text',
      '42',
      'null',
      '[]',
      '{}',
      '{"alerts":"all"}',
      '{"alerts":[null]}',
      '{"event":7}',
      '\u0000\u0001',
      '{"a":',
    ];
    const failures: string[] = [];
    for (const source of INTAKE_SOURCES) {
      const headers: Record<string, string> =
        source === 'pagerduty' ? {} : bearer(source === 'generic' ? 'generic' : (source as keyof typeof TOKEN));
      for (const text of garbage) {
        for (const type of [
          'application/json',
          'text/plain',
          'multipart/form-data; boundary=x',
          'application/x-www-form-urlencoded',
        ]) {
          const signed = { ...headers };
          if (source === 'pagerduty') signed['x-pagerduty-signature'] = `v1=${hmacHex(PAGERDUTY_SECRET, text)}`;
          if (source === 'generic') signed['x-keepwarm-signature'] = `sha256=${hmacHex(GENERIC_SECRET, text)}`;
          const res = await post(c, source, text, { ...signed, 'content-type': type });
          // Uptime Kuma reads {} (or a form without data) as its Test notification: 202, nothing recorded.
          const fine = res.statusCode === 202 ? res.json().received === 0 : res.statusCode === 400 && !!res.json().error?.code;
          if (!fine) failures.push(`${source} ${type} ${JSON.stringify(text)} → ${res.statusCode} ${res.body}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  test('generic JSON: signed and with a token; a region label makes a partial outage; the component field maps it', async () => {
    const c = ctx();
    const body = JSON.stringify({
      fingerprint: 'checkout-eu',
      status: 'firing',
      summary: 'Checkout 5xx in eu-west',
      component: 'Checkout',
      region: 'eu-west',
    });
    const res = await post(c, 'generic', body, {
      ...bearer('generic'),
      'x-keepwarm-signature': `sha256=${hmacHex(GENERIC_SECRET, body)}`,
    });
    expect(res.statusCode, res.body).toBe(202);
    expect(res.json()).toEqual({ received: 1, firing: 1, resolved: 0, changed: 1, unmapped: [], ignored: [] });
    expect(await health(c, token, 'Checkout')).toMatchObject({ status: 'partial_outage', scope: ['eu-west'] });
    const resolved = JSON.stringify({
      fingerprint: 'checkout-eu',
      status: 'resolved',
      summary: 'Checkout fine',
      component: 'Checkout',
    });
    const again = await post(c, 'generic', resolved, {
      ...bearer('generic'),
      'x-keepwarm-signature': `sha256=${hmacHex(GENERIC_SECRET, resolved)}`,
    });
    expect(again.json()).toMatchObject({ received: 1, resolved: 1, changed: 1 });
    expect((await health(c, token, 'Checkout')).status).toBe('operational');
  });

  describeNeeding('the shared fixtures', fixturesMissing, 'every sample in shared/fixtures/alerts, through HTTP', () => {
    test('Alertmanager firing → signals → component down → incident declared (auto); the same payload again changes nothing', async () => {
      const c = ctx();
      const firing = fixtureText('alertmanager_webhook_v4_firing_icmp.json');
      const res = await post(c, 'alertmanager', firing, bearer('alertmanager'));
      expect(res.statusCode, res.body).toBe(202);
      expect(res.json()).toEqual({ received: 3, firing: 3, resolved: 0, changed: 3, unmapped: [], ignored: [] });
      const cdn = await health(c, token, 'Showroom CDN');
      expect(cdn).toMatchObject({ status: 'major_outage', scope: 'global' });
      expect(cdn.reasons).toContain('alertmanager: ICMP ping failed: No physical connection to 172.29.254.30');

      await c.worker.pump();
      const open = (await c.call('GET', '/api/v1/incidents?state=open', { token })).json().incidents;
      expect(open).toHaveLength(1);
      const incident = (await c.call('GET', `/api/v1/incidents/${open[0].id}`, { token })).json();
      expect(incident.components).toEqual([expect.objectContaining({ id: ids['Showroom CDN'], status: 'major_outage' })]);

      const stored = await signals(c, 'alertmanager');
      expect(stored).toHaveLength(3);
      expect(stored.every((s) => s.state === 'firing' && s.componentId === ids['Showroom CDN'] && s.severity === 'down')).toBe(
        true,
      );
      expect(stored[0]?.details).toMatchObject({ mapped_by: 'rule 0', labels: { job: 'blackbox-icmp' } });

      // Duplicate delivery: nothing changes, no second detection or incident.
      c.clock.advance(MINUTE);
      const detectionsBefore = (await c.call('GET', '/api/v1/detections', { token })).json().detections.length;
      const again = await post(c, 'alertmanager', firing, bearer('alertmanager'));
      expect(again.json()).toMatchObject({ received: 3, changed: 0 });
      await c.worker.pump();
      expect(await signals(c, 'alertmanager')).toHaveLength(3);
      expect((await c.call('GET', '/api/v1/detections', { token })).json().detections).toHaveLength(detectionsBefore);
      expect((await c.call('GET', '/api/v1/incidents?state=open', { token })).json().incidents).toHaveLength(1);
    });

    test('Alertmanager resolved → signals resolved → component healthy, resolution proposed; again changes nothing', async () => {
      const c = ctx();
      const resolved = fixtureText('alertmanager_webhook_v4_resolved_icmp.json');
      const res = await post(c, 'alertmanager', resolved, bearer('alertmanager'));
      expect(res.json()).toEqual({ received: 3, firing: 0, resolved: 3, changed: 3, unmapped: [], ignored: [] });
      expect((await signals(c, 'alertmanager')).map((s) => s.state)).toEqual(['resolved', 'resolved', 'resolved']);
      expect(await health(c, token, 'Showroom CDN')).toMatchObject({ status: 'operational', signals: [] });
      const [open] = (await c.call('GET', '/api/v1/incidents?state=open', { token })).json().incidents;
      const timeline = (await c.call('GET', `/api/v1/incidents/${open.id}/timeline`, { token })).json().events;
      expect(timeline.at(-1)).toMatchObject({ type: 'detection.recovered' });
      expect((await post(c, 'alertmanager', resolved, bearer('alertmanager'))).json()).toMatchObject({ changed: 0 });
    });

    test('Alertmanager exec testdata: recorded, unmapped (no rule, no component label), fingerprint as sent', async () => {
      const c = ctx();
      const res = await post(c, 'alertmanager', fixtureText('alertmanager_exec_testdata_success.json'), bearer('alertmanager'));
      expect(res.json()).toEqual({
        received: 1,
        firing: 1,
        resolved: 0,
        changed: 1,
        unmapped: [{ fingerprint: '4ea129fd903f0e45', summary: 'Message=message', reason: 'no rule matches its labels' }],
        ignored: [],
      });
      const [signal] = (await signals(c, 'alertmanager')).filter((s) => s.fingerprint === '4ea129fd903f0e45');
      expect(signal).toMatchObject({ componentId: null, state: 'firing' });
    });

    test('Grafana (POST and PUT): unmapped alerts are recorded without a component and listed with their fingerprints', async () => {
      const c = ctx();
      const body = fixtureText('grafana_alerting_webhook_firing_docs.json');
      const res = await post(c, 'grafana', body, bearer('grafana'));
      expect(res.statusCode, res.body).toBe(202);
      expect(res.json().unmapped.map((u: { fingerprint: string }) => u.fingerprint)).toEqual([
        'c6eadffa33fcdf37',
        'bc97ff14869b13e3',
      ]);
      expect((await signals(c, 'grafana')).map((s) => s.componentId)).toEqual([null, null]);
      const put = await c.app.inject({
        method: 'PUT',
        url: intakePath('grafana'),
        headers: { 'content-type': 'application/json', ...bearer('grafana') },
        payload: body,
      });
      expect(put.json()).toMatchObject({ received: 2, changed: 0 });
    });

    test('PagerDuty: the signed fixture (exact bytes, "None" values) maps by service name with the rule\'s severity', async () => {
      const c = ctx();
      const body = fixtureText('pagerduty_webhook_v3_incident_triggered.json');
      const rotated = `v1=${hmacHex('old-secret-being-rotated-out', body)},v1=${hmacHex(PAGERDUTY_SECRET, body)}`;
      const res = await post(c, 'pagerduty', body, { 'x-pagerduty-signature': rotated });
      expect(res.statusCode, res.body).toBe(202);
      expect(res.json()).toMatchObject({ received: 1, firing: 1, unmapped: [] });
      expect(await signals(c, 'pagerduty')).toEqual([
        expect.objectContaining({
          fingerprint: 'Q01J2OS7YBWLNY',
          componentId: ids['Product API'],
          severity: 'degraded',
          state: 'firing',
        }),
      ]);
      expect((await health(c, token, 'Product API')).status).toBe('degraded_performance');
      // A body changed after signing is refused.
      const tampered = body.replace('"high"', '"low"');
      expectError(await post(c, 'pagerduty', tampered, { 'x-pagerduty-signature': rotated }), 403, 'invalid_signature');
    });

    test('Statuspage (token in the URL): an upstream component outage, its recovery, and an upstream incident', async () => {
      const c = ctx();
      const operational = fixtureText('statuspage_webhook_component_update_docs_example.json');
      // The captured update is a recovery; the outage before it is the same file with the statuses swapped.
      const outage = JSON.parse(operational);
      outage.component_update.new_status = 'major_outage';
      outage.component_update.old_status = 'operational';
      outage.component.status = 'major_outage';
      const q = `?token=${TOKEN.statuspage}`;
      const down = await post(c, 'statuspage', JSON.stringify(outage), {}, q);
      expect(down.statusCode, down.body).toBe(202);
      expect(down.json()).toMatchObject({ received: 1, firing: 1, unmapped: [] });
      expect((await health(c, token, 'Upstream CDN')).status).toBe('major_outage');

      const up = await post(c, 'statuspage', operational, {}, q);
      expect(up.json()).toMatchObject({ received: 1, resolved: 1, changed: 1 });
      expect((await health(c, token, 'Upstream CDN')).status).toBe('operational');

      const incident = await post(
        c,
        'statuspage',
        fixtureText('statuspage_webhook_incident_docs_example.json'),
        bearer('statuspage'),
      );
      expect(incident.json()).toMatchObject({ received: 1, firing: 1, unmapped: [] });
      expect(await signals(c, 'statuspage')).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ fingerprint: 'component:rb5wq1dczvbm', state: 'resolved' }),
          expect.objectContaining({
            fingerprint: 'incident:lbkhbwn21v5q',
            state: 'firing',
            severity: 'down',
            componentId: ids['Upstream CDN'],
          }),
        ]),
      );
    });

    test('Uptime Kuma: JSON and form-data; a `component` tag maps it; the Test button is accepted and ignored', async () => {
      const c = ctx();
      const shape = JSON.parse(fixtureText('uptime_kuma_webhook_shape.json')) as { monitor_fields_non_sensitive: string[] };
      const monitor: Record<string, unknown> = Object.fromEntries(shape.monitor_fields_non_sensitive.map((f) => [f, null]));
      Object.assign(monitor, {
        id: 7,
        name: 'Sign-in page',
        type: 'http',
        url: 'https://login.showroom.example/',
        tags: [{ name: 'component', value: 'Sign-in' }],
      });
      const beat = (status: number, msg: string) => ({
        monitorID: 7,
        status,
        msg,
        time: '2026-01-15 09:00:00.000',
        important: true,
      });
      const down = await post(
        c,
        'uptime-kuma',
        JSON.stringify({ heartbeat: beat(0, 'timeout'), monitor, msg: '[Sign-in page] [🔴 Down] timeout' }),
        bearer('uptime-kuma'),
      );
      expect(down.statusCode, down.body).toBe(202);
      expect(down.json()).toMatchObject({ received: 1, firing: 1, unmapped: [] });
      expect((await health(c, token, 'Sign-in')).status).toBe('major_outage');

      const data = JSON.stringify({ heartbeat: beat(1, 'OK'), monitor, msg: '[Sign-in page] [✅ Up] OK' });
      const form = `--kb\r\nContent-Disposition: form-data; name="data"\r\n\r\n${data}\r\n--kb--\r\n`;
      const up = await post(c, 'uptime-kuma', form, {
        ...bearer('uptime-kuma'),
        'content-type': 'multipart/form-data; boundary=kb',
      });
      expect(up.statusCode, up.body).toBe(202);
      expect(up.json()).toMatchObject({ received: 1, resolved: 1, changed: 1 });
      expect((await health(c, token, 'Sign-in')).status).toBe('operational');

      const testing = await post(
        c,
        'uptime-kuma',
        JSON.stringify({ heartbeat: null, monitor: null, msg: 'Keepwarm Testing' }),
        bearer('uptime-kuma'),
      );
      expect(testing.json()).toEqual({
        received: 0,
        firing: 0,
        resolved: 0,
        changed: 0,
        unmapped: [],
        ignored: ['test notification "Keepwarm Testing" (no heartbeat)'],
      });
    });
  });
});
