import { describe, expect, test } from 'vitest';
import { classifyOutage, evaluateHealth, type RegionalProbe } from './health.js';

const NOW = 1_000_000;
const probe = (region: string, state: RegionalProbe['state'], extra: Partial<RegionalProbe> = {}): RegionalProbe => ({
  monitorId: 'm1',
  region,
  state,
  degraded: false,
  lastResultAt: NOW - 1_000,
  intervalMs: 10_000,
  firstFailureAt: state === 'down' ? NOW - 20_000 : null,
  ...extra,
});

describe('component health from every source', () => {
  test('down in every fresh region: major outage, global', () => {
    const h = evaluateHealth({ probes: [probe('eu', 'down'), probe('us', 'down')], signals: [], now: NOW });
    expect(h).toMatchObject({ status: 'major_outage', down: true, scope: 'global', firstFailureAt: NOW - 20_000 });
  });

  test('down in half the regions: partial outage scoped to them; in fewer than half: not confirmed', () => {
    expect(evaluateHealth({ probes: [probe('eu', 'down'), probe('us', 'up')], signals: [], now: NOW })).toMatchObject({
      status: 'partial_outage',
      scope: ['eu'],
    });
    const minority = evaluateHealth({
      probes: [probe('eu', 'down'), probe('us', 'up'), probe('ap', 'up')],
      signals: [],
      now: NOW,
    });
    expect(minority.status).toBe('operational');
    expect(minority.reasons[0]).toMatch(/not confirmed/);
  });

  test('results older than three intervals do not count (a gone agent is not a vote)', () => {
    const stale = probe('us', 'up', { lastResultAt: NOW - 31_000 });
    expect(evaluateHealth({ probes: [probe('eu', 'down'), stale], signals: [], now: NOW })).toMatchObject({
      status: 'major_outage',
      scope: 'global',
    });
  });

  test('pending is not down; recovering still is', () => {
    expect(evaluateHealth({ probes: [probe('eu', 'pending')], signals: [], now: NOW }).status).toBe('operational');
    expect(
      evaluateHealth({ probes: [probe('eu', 'recovering', { firstFailureAt: NOW - 5_000 })], signals: [], now: NOW }).status,
    ).toBe('major_outage');
  });

  test('alerts and beacons: a firing down signal is an outage (global unless it names a region); degraded signals degrade', () => {
    expect(
      evaluateHealth({
        probes: [probe('eu', 'up')],
        signals: [{ source: 'alertmanager', severity: 'down', region: null, summary: 'ICMP down', firstAt: NOW - 3000 }],
        now: NOW,
      }),
    ).toMatchObject({ status: 'major_outage', scope: 'global', firstFailureAt: NOW - 3000 });
    expect(
      evaluateHealth({
        probes: [],
        signals: [{ source: 'grafana', severity: 'down', region: 'ap', summary: 'x', firstAt: NOW }],
        now: NOW,
      }),
    ).toMatchObject({ status: 'partial_outage', scope: ['ap'] });
    expect(
      evaluateHealth({
        probes: [probe('eu', 'up', { degraded: true })],
        signals: [{ source: 'statuspage', severity: 'degraded', region: null, summary: 'y', firstAt: NOW }],
        now: NOW,
      }).status,
    ).toBe('degraded_performance');
  });

  test('an outage is classified by the failing components: channels, scope, impact', () => {
    const cdn = { kind: 'cdn' as const, health: evaluateHealth({ probes: [probe('eu', 'down')], signals: [], now: NOW }) };
    const api = {
      kind: 'api' as const,
      health: evaluateHealth({ probes: [probe('eu', 'down'), probe('us', 'up')], signals: [], now: NOW }),
    };
    const auth = { kind: 'auth' as const, health: evaluateHealth({ probes: [probe('eu', 'up')], signals: [], now: NOW }) };
    expect(classifyOutage([cdn, api, auth])).toEqual({ channels: ['CDN', 'API'], scope: 'global', impact: 'critical' });
    expect(classifyOutage([api])).toEqual({ channels: ['API'], scope: ['eu'], impact: 'major' });
  });
});
