import { readdirSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { describeNeeding } from '../../../test/harness/env.js';
import { fixturePath, fixturesMissing, readFixtureJson } from '../../../test/harness/fixtures.js';
import { AppError } from '../../core/errors.js';
import { parsePayload } from './adapter.js';
import { adapterFor } from './adapters/index.js';
import type { IntakeSource, Normalized } from './alert.js';
import { labelFingerprint } from './alert.js';

const parse = (source: IntakeSource, payload: unknown): Normalized => parsePayload(adapterFor(source), payload);

/** The 400 a payload gets, as {field: message} of every field at fault. */
function rejection(source: IntakeSource, payload: unknown): Record<string, string> {
  try {
    parse(source, payload);
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    expect(err.status).toBe(400);
    return Object.fromEntries((err.details as Array<{ field: string; message: string }>).map((d) => [d.field, d.message]));
  }
  throw new Error('expected the payload to be rejected');
}

interface UptimeKumaShape {
  heartbeat: Record<string, string>;
  monitor_fields_non_sensitive: string[];
  test_notification: string;
  msg_format: string;
}

/** A heartbeat and monitor with every field the shape lists (values typical of each field). */
function kumaPayload(shape: UptimeKumaShape, status: number, extra: { tags?: unknown[] } = {}) {
  const heartbeat: Record<string, unknown> = {};
  for (const key of Object.keys(shape.heartbeat)) heartbeat[key] = null;
  Object.assign(heartbeat, {
    monitorID: 12,
    status,
    time: '2026-01-15 08:59:30.123',
    msg: status === 0 ? 'connect ECONNREFUSED 10.0.0.5:443' : 'OK',
    ping: status === 0 ? null : 41,
    important: true,
    duration: 60,
    retries: 0,
    response: null,
    timezone: 'Europe/Berlin',
    timezoneOffset: '+01:00',
    localDateTime: '2026-01-15 09:59:30',
  });
  if (status !== 1) delete heartbeat.lastDownTime;
  else heartbeat.lastDownTime = '2026-01-15 08:50:00.000';
  const monitor: Record<string, unknown> = {};
  for (const key of shape.monitor_fields_non_sensitive) monitor[key] = null;
  Object.assign(monitor, {
    id: 12,
    name: 'Showroom home',
    description: null,
    path: ['Showroom', 'Showroom home'],
    pathName: 'Showroom / Showroom home',
    parent: null,
    childrenIDs: [],
    url: 'https://showroom.example/',
    method: 'GET',
    hostname: null,
    port: null,
    maxretries: 1,
    weight: 2000,
    active: true,
    forceInactive: false,
    type: 'http',
    timeout: 48,
    interval: 60,
    retryInterval: 60,
    resendInterval: 0,
    keyword: null,
    invertKeyword: false,
    expiryNotification: false,
    ignoreTls: false,
    upsideDown: false,
    packetSize: 56,
    maxredirects: 10,
    accepted_statuscodes: ['200-299'],
    dns_resolve_type: 'A',
    dns_resolve_server: '1.1.1.1',
    notificationIDList: { '1': true },
    tags: extra.tags ?? [],
    maintenance: false,
    conditions: [],
  });
  const icon = status === 0 ? '🔴 Down' : '✅ Up';
  return { heartbeat, monitor, msg: `[Showroom home] [${icon}] ${heartbeat.msg}` };
}

/** Every sample in shared/fixtures/alerts, with what it must become. */
const FIXTURE_TESTS: Record<string, () => void> = {
  'alertmanager_webhook_v4_firing_icmp.json': () => {
    const { alerts, ignored } = parse('alertmanager', readFixtureJson('alerts', 'alertmanager_webhook_v4_firing_icmp.json'));
    expect(ignored).toEqual([]);
    expect(alerts).toHaveLength(3);
    expect(alerts.map((a) => a.state)).toEqual(['firing', 'firing', 'firing']);
    // No fingerprint in this capture: the labels' hash, as Alertmanager computes it.
    expect(new Set(alerts.map((a) => a.fingerprint)).size).toBe(3);
    for (const a of alerts) expect(a.fingerprint).toBe(labelFingerprint(a.labels));
    expect(alerts[0]).toEqual({
      fingerprint: labelFingerprint({
        alertname: 'ICMP ping failed',
        instance: '172.29.254.30',
        job: 'blackbox-icmp',
        monitor: 'monis',
        severity: 'major',
        tags: 'icmp, ping failed',
        summary: 'No physical connection to 172.29.254.30',
      }),
      state: 'firing',
      labels: {
        alertname: 'ICMP ping failed',
        instance: '172.29.254.30',
        job: 'blackbox-icmp',
        monitor: 'monis',
        severity: 'major',
        tags: 'icmp, ping failed',
        summary: 'No physical connection to 172.29.254.30',
      },
      summary: 'ICMP ping failed: No physical connection to 172.29.254.30',
      startsAt: '2019-09-27T16:27:56.612Z',
      url: 'http://9ed35ff90bf8:9090/graph?g0.expr=probe_success%7Bjob%3D%22blackbox-icmp%22%7D+%3D%3D+0&g0.tab=1',
      details: { annotations: { description: '172.29.254.30 does not reply to ICMP pings' } },
    });
    expect(alerts[2]?.labels.instance).toBe('172.29.254.66');
  },
  'alertmanager_webhook_v4_resolved_icmp.json': () => {
    const firing = parse('alertmanager', readFixtureJson('alerts', 'alertmanager_webhook_v4_firing_icmp.json')).alerts;
    const { alerts } = parse('alertmanager', readFixtureJson('alerts', 'alertmanager_webhook_v4_resolved_icmp.json'));
    expect(alerts.map((a) => a.state)).toEqual(['resolved', 'resolved', 'resolved']);
    // The resolution is the same signal as the firing alert.
    expect(alerts.map((a) => a.fingerprint)).toEqual(firing.map((a) => a.fingerprint));
    expect(alerts[1]?.summary).toBe('ICMP ping failed: No physical connection to 172.29.254.50');
  },
  'alertmanager_exec_testdata_success.json': () => {
    const { alerts } = parse('alertmanager', readFixtureJson('alerts', 'alertmanager_exec_testdata_success.json'));
    expect(alerts).toEqual([
      {
        fingerprint: '4ea129fd903f0e45',
        state: 'firing',
        labels: { Message: 'message' },
        summary: 'Message=message',
        startsAt: '1970-01-01T00:00:00.000Z',
      },
    ]);
    // Alertmanager's own fingerprint of these labels: the fallback hash is the same function.
    expect(labelFingerprint({ Message: 'message' })).toBe('4ea129fd903f0e45');
  },
  'grafana_alerting_webhook_firing_docs.json': () => {
    const { alerts } = parse('grafana', readFixtureJson('alerts', 'grafana_alerting_webhook_firing_docs.json'));
    expect(alerts).toHaveLength(2);
    expect(alerts[0]).toEqual({
      fingerprint: 'c6eadffa33fcdf37',
      state: 'firing',
      labels: { alertname: 'High memory usage', team: 'blue', zone: 'us-1' },
      summary: 'High memory usage: This alert was triggered for zone us-1',
      startsAt: '2021-10-12T07:51:03.157Z',
      url: 'https://play.grafana.org/alerting/1afz29v7z/edit',
      details: {
        annotations: {
          description: 'The system has high memory usage',
          runbook_url: 'https://myrunbook.com/runbook/1234',
          summary: 'This alert was triggered for zone us-1',
        },
        values: { B: 44.23943737541908, C: 1 },
      },
    });
    expect(alerts[1]).toMatchObject({
      fingerprint: 'bc97ff14869b13e3',
      state: 'firing',
      labels: { alertname: 'High CPU usage', zone: 'eu-1' },
      summary: 'High CPU usage: This alert was triggered for zone eu-1',
    });
  },
  'pagerduty_webhook_v3_incident_triggered.json': () => {
    const { alerts, ignored } = parse('pagerduty', readFixtureJson('alerts', 'pagerduty_webhook_v3_incident_triggered.json'));
    expect(ignored).toEqual([]);
    expect(alerts).toEqual([
      {
        fingerprint: 'Q01J2OS7YBWLNY',
        state: 'firing',
        // "None" priority (a Python artefact in this capture) is read as no priority.
        labels: {
          event_type: 'incident.triggered',
          service_id: 'PWJAGSD',
          service_name: 'Port Internal Service',
          urgency: 'high',
          status: 'triggered',
          escalation_policy: 'Test Escalation Policy',
          incident_number: '7',
        },
        summary: '#7 Test PagerDuty Incident',
        startsAt: '2023-06-12T11:56:08.000Z',
        url: 'https://your_account.pagerduty.com/incidents/Q01J2OS7YBWLNY',
        details: { event_id: '01DVUHO6P4XQDFJ9AHOADT3UQ4', occurred_at: '2023-06-12T11:56:08.355Z' },
      },
    ]);
  },
  'statuspage_webhook_component_update_docs_example.json': () => {
    const { alerts } = parse('statuspage', readFixtureJson('alerts', 'statuspage_webhook_component_update_docs_example.json'));
    expect(alerts).toEqual([
      {
        fingerprint: 'component:rb5wq1dczvbm',
        state: 'resolved',
        labels: {
          kind: 'component',
          page_id: 'j2mfxwj97wnj',
          page_host: 'statustest.flyingkleinbrothers.com',
          component_id: 'rb5wq1dczvbm',
          component_name: 'Some Component',
          component_status: 'operational',
          old_status: 'major_outage',
        },
        summary: 'Some Component: Operational (was major outage)',
      },
    ]);
  },
  'statuspage_webhook_incident_docs_example.json': () => {
    const { alerts } = parse('statuspage', readFixtureJson('alerts', 'statuspage_webhook_incident_docs_example.json'));
    expect(alerts).toEqual([
      {
        fingerprint: 'incident:lbkhbwn21v5q',
        // Monitoring is not resolved yet: still firing; impact "high" (the older vocabulary) is down.
        state: 'firing',
        labels: {
          kind: 'incident',
          page_id: 'j2mfxwj97wnj',
          page_host: 'statustest.flyingkleinbrothers.com',
          incident_id: 'lbkhbwn21v5q',
          incident_name: 'Virginia Is Down',
          incident_status: 'monitoring',
          impact: 'high',
        },
        summary: 'Virginia Is Down (monitoring, impact high): A fix has been implemented and we are monitoring the results.',
        severityHint: 'down',
        startsAt: '2013-05-29T21:08:51.000Z',
        url: 'https://status.sentry.io/incidents/bt27tt1h1wsd?u=jwjgrfrf3pjj',
      },
    ]);
  },
  'uptime_kuma_webhook_shape.json': () => {
    const shape = readFixtureJson<UptimeKumaShape>('alerts', 'uptime_kuma_webhook_shape.json');
    // DOWN, with every field the source lists.
    const down = parse('uptime-kuma', kumaPayload(shape, 0, { tags: [{ name: 'region', value: 'eu-west', color: '#fff' }] }));
    expect(down.alerts).toEqual([
      {
        fingerprint: '12',
        state: 'firing',
        labels: {
          region: 'eu-west',
          monitor_id: '12',
          monitor_name: 'Showroom home',
          monitor_type: 'http',
          monitor_url: 'https://showroom.example/',
          monitor_path: 'Showroom / Showroom home',
          heartbeat_status: 'down',
        },
        summary: 'Showroom home is down: connect ECONNREFUSED 10.0.0.5:443',
        region: 'eu-west',
        startsAt: '2026-01-15T08:59:30.123Z',
        url: 'https://showroom.example/',
        details: { heartbeat: { status: 0, time: '2026-01-15 08:59:30.123', ping: null, important: true } },
      },
    ]);
    // UP resolves the same signal; PENDING fires as degraded; MAINTENANCE resolves.
    const up = parse('uptime-kuma', kumaPayload(shape, 1)).alerts[0];
    expect(up).toMatchObject({ fingerprint: '12', state: 'resolved', summary: 'Showroom home is up: OK' });
    expect(parse('uptime-kuma', kumaPayload(shape, 2)).alerts[0]).toMatchObject({ state: 'firing', severityHint: 'degraded' });
    expect(parse('uptime-kuma', kumaPayload(shape, 3)).alerts[0]).toMatchObject({
      state: 'resolved',
      labels: { heartbeat_status: 'maintenance' },
    });
    // The Test button: heartbeat and monitor null.
    expect(shape.test_notification).toMatch(/heartbeat: null, monitor: null/);
    expect(parse('uptime-kuma', { heartbeat: null, monitor: null, msg: 'Keepwarm Testing' })).toEqual({
      alerts: [],
      ignored: ['test notification "Keepwarm Testing" (no heartbeat)'],
    });
  },
};

describeNeeding('the shared fixtures', fixturesMissing, 'intake adapters: every sample in shared/fixtures/alerts', () => {
  test('every file in the folder has a test here', () => {
    const files = readdirSync(fixturePath('alerts')).filter((f) => !f.startsWith('.'));
    expect(files.sort()).toEqual(Object.keys(FIXTURE_TESTS).sort());
  });
  for (const [file, run] of Object.entries(FIXTURE_TESTS)) test(file, run);
});

describe('intake adapters: edge cases', () => {
  test('Alertmanager: a payload that is not one names the field', () => {
    expect(rejection('alertmanager', { version: '4', status: 'firing' })).toEqual({
      alerts: expect.stringMatching(/expected array/),
    });
    expect(
      Object.keys(rejection('alertmanager', { alerts: [{ status: 'burning', labels: { a: 'b' } }, { status: 'firing' }] })),
    ).toEqual(['alerts.0.status', 'alerts.1.labels']);
    expect(Object.keys(rejection('alertmanager', null))).toEqual(['(root)']);
    expect(Object.keys(rejection('alertmanager', []))).toEqual(['(root)']);
  });

  test('Alertmanager: labels sent as numbers or booleans are read as text; null labels dropped', () => {
    const { alerts } = parse('alertmanager', {
      alerts: [{ status: 'firing', labels: { alertname: 'Down', code: 503, critical: true, gone: null } }],
    });
    expect(alerts[0]?.labels).toEqual({ alertname: 'Down', code: '503', critical: 'true' });
    expect(alerts[0]?.summary).toBe('Down');
  });

  test('a region label makes the alert regional', () => {
    const { alerts } = parse('grafana', {
      alerts: [{ status: 'firing', labels: { alertname: 'CDN 5xx', region: 'eu-west' }, fingerprint: 'abc' }],
    });
    expect(alerts[0]).toMatchObject({ fingerprint: 'abc', region: 'eu-west' });
  });

  test('PagerDuty: resolution, other events ignored, priority objects, the incident id required', () => {
    const incident = {
      id: 'PT4KHLK',
      type: 'incident',
      number: 42,
      status: 'resolved',
      title: 'CDN edge errors',
      urgency: 'low',
      priority: { id: 'P1X', summary: 'P2', type: 'priority' },
      service: { id: 'PSVC', summary: 'Showroom CDN' },
      teams: [{ id: 'T1', summary: 'Web' }],
    };
    const resolved = parse('pagerduty', {
      event: { id: 'E1', event_type: 'incident.resolved', resource_type: 'incident', data: incident },
    });
    expect(resolved.alerts[0]).toMatchObject({
      fingerprint: 'PT4KHLK',
      state: 'resolved',
      labels: { priority: 'P2', urgency: 'low', service_name: 'Showroom CDN', teams: 'Web' },
    });
    const acknowledged = parse('pagerduty', {
      event: { event_type: 'incident.acknowledged', resource_type: 'incident', data: { ...incident, status: 'acknowledged' } },
    });
    expect(acknowledged.alerts[0]?.state).toBe('firing');
    expect(parse('pagerduty', { event: { event_type: 'pagey.ping', resource_type: 'pagey', data: null } })).toEqual({
      alerts: [],
      ignored: ['pagey.ping: not an incident state change'],
    });
    expect(
      parse('pagerduty', {
        event: {
          event_type: 'incident.annotated',
          resource_type: 'incident',
          data: { type: 'incident_note', content: 'x', incident: { id: 'PT4KHLK' } },
        },
      }).alerts,
    ).toEqual([]);
    expect(rejection('pagerduty', { event: { event_type: 'incident.triggered', resource_type: 'incident', data: {} } })).toEqual({
      'event.data.id': 'expected the incident id of an incident event',
    });
    expect(Object.keys(rejection('pagerduty', { messages: [] }))).toEqual(['event']);
  });

  test('Statuspage: component statuses map to down, degraded and resolved; maintenance is ignored', () => {
    const update = (status: string) =>
      parse('statuspage', {
        page: { id: 'cdnpage' },
        component_update: { new_status: status, old_status: 'operational', component_id: 'c1' },
        component: { id: 'c1', name: 'Edge network', status },
      }).alerts[0];
    expect(update('major_outage')).toMatchObject({
      state: 'firing',
      severityHint: 'down',
      summary: 'Edge network: Major outage (was operational)',
    });
    expect(update('partial_outage')).toMatchObject({ state: 'firing', severityHint: 'down' });
    expect(update('degraded_performance')).toMatchObject({ state: 'firing', severityHint: 'degraded' });
    expect(update('operational')).toMatchObject({ state: 'resolved' });
    expect(update('operational')?.severityHint).toBeUndefined();
    expect(update('under_maintenance')).toMatchObject({ state: 'resolved' });
    expect(
      rejection('statuspage', { page: { id: 'p' }, component_update: { new_status: 'on_fire', component_id: 'c1' } }),
    ).toHaveProperty(['component_update.new_status']);

    const incident = (status: string, impact: string | null) =>
      parse('statuspage', {
        page: { id: 'cdnpage' },
        incident: { id: 'i1', name: 'Elevated errors', status, impact, components: [{ id: 'c1', name: 'Edge network' }] },
      });
    expect(incident('investigating', 'minor').alerts[0]).toMatchObject({
      fingerprint: 'incident:i1',
      state: 'firing',
      severityHint: 'degraded',
      labels: { components: 'Edge network', impact: 'minor' },
    });
    expect(incident('identified', 'critical').alerts[0]).toMatchObject({ severityHint: 'down' });
    expect(incident('resolved', 'critical').alerts[0]).toMatchObject({ state: 'resolved' });
    expect(incident('postmortem', 'major').alerts[0]).toMatchObject({ state: 'resolved' });
    expect(incident('in_progress', 'maintenance')).toEqual({
      alerts: [],
      ignored: ['incident i1: scheduled maintenance (in_progress)'],
    });
    expect(rejection('statuspage', { page: { id: 'p' } })).toEqual({ incident: 'expected an incident or a component_update' });
    expect(Object.keys(rejection('statuspage', { incident: { id: 'i', status: 'investigating' } }))).toEqual(['page']);
  });

  test('Uptime Kuma: a heartbeat without a monitor names the field; statuses as text are read', () => {
    expect(rejection('uptime-kuma', { heartbeat: { status: 0 }, monitor: null })).toEqual({
      monitor: 'expected the monitor the heartbeat belongs to',
    });
    expect(Object.keys(rejection('uptime-kuma', { heartbeat: { status: 7, monitorID: 1 } }))).toEqual(['heartbeat.status']);
    expect(parse('uptime-kuma', { heartbeat: { status: '0', monitorID: '5', msg: 'N/A' } }).alerts[0]).toMatchObject({
      fingerprint: '5',
      state: 'firing',
      summary: 'Monitor 5 is down',
    });
  });

  test('generic: one alert or several; fingerprint or a hash of the labels; fields at fault named', () => {
    expect(
      parse('generic', {
        fingerprint: 'db-1',
        status: 'firing',
        summary: 'DB down',
        component: 'Product API',
        severity: 'degraded',
      }),
    ).toEqual({
      alerts: [
        {
          fingerprint: 'db-1',
          state: 'firing',
          labels: { keepwarm_component: 'Product API' },
          summary: 'DB down',
          severityHint: 'degraded',
        },
      ],
      ignored: [],
    });
    const batch = parse('generic', {
      alerts: [
        { status: 'firing', labels: { service: 'cdn', region: 'us-east' } },
        { status: 'resolved', labels: { service: 'cdn', region: 'us-east' } },
      ],
    });
    expect(batch.alerts[0]?.fingerprint).toBe(labelFingerprint({ service: 'cdn', region: 'us-east' }));
    expect(batch.alerts[1]?.fingerprint).toBe(batch.alerts[0]?.fingerprint);
    expect(batch.alerts[0]?.region).toBe('us-east');
    expect(rejection('generic', { summary: 'no status' })).toEqual({
      status: 'expected "firing" or "resolved" (or an alerts array)',
      fingerprint: 'expected a fingerprint (or labels to derive one from)',
    });
    expect(Object.keys(rejection('generic', { alerts: [{ status: 'firing', fingerprint: 'a' }, { status: 'up' }] }))).toEqual([
      'alerts.1.status',
    ]);
    expect(rejection('generic', { alerts: [{ status: 'firing', fingerprint: 'a' }, { status: 'firing' }] })).toEqual({
      'alerts.1.fingerprint': 'expected a fingerprint (or labels to derive one from)',
    });
    expect(Object.keys(rejection('generic', 'text'))).toEqual(['(root)']);
    expect(Object.keys(rejection('generic', { status: 'firing', fingerprint: 'x', severity: 'apocalyptic' }))).toEqual([
      'severity',
    ]);
  });
});
