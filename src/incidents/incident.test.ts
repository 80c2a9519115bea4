import { describe, expect, test } from 'vitest';
import {
  checkTransition,
  computeIndicator,
  IMPACTS,
  INCIDENT_STATUSES,
  impactFromComponents,
  outageChannel,
  worstComponentStatus,
} from './incident.js';

describe('incident status transitions', () => {
  test('an open incident moves freely between investigating, identified and monitoring, and may resolve', () => {
    for (const from of ['investigating', 'identified', 'monitoring'] as const) {
      for (const to of ['investigating', 'identified', 'monitoring', 'resolved'] as const) {
        expect(checkTransition(from, to)).toEqual({ ok: true });
      }
    }
  });

  test('a postmortem needs resolution first; a resolved incident only gains its postmortem', () => {
    const early = checkTransition('investigating', 'postmortem');
    expect(early.ok).toBe(false);
    expect(!early.ok && early.reason).toMatch(/Resolve it first/);
    expect(checkTransition('resolved', 'postmortem')).toEqual({ ok: true });
    const reopen = checkTransition('resolved', 'investigating');
    expect(!reopen.ok && reopen.reason).toMatch(/declare a new incident/);
    expect(checkTransition('resolved', 'resolved').ok).toBe(false);
    for (const to of INCIDENT_STATUSES.filter((s) => s !== 'postmortem'))
      expect(checkTransition('postmortem', to).ok).toBe(false);
  });
});

describe('statuses and indicators', () => {
  test('worst component status; maintenance only when nothing is broken', () => {
    expect(worstComponentStatus([])).toBe('operational');
    expect(worstComponentStatus(['operational', 'degraded_performance', 'partial_outage'])).toBe('partial_outage');
    expect(worstComponentStatus(['under_maintenance', 'operational'])).toBe('under_maintenance');
    expect(worstComponentStatus(['under_maintenance', 'major_outage'])).toBe('major_outage');
  });

  test('impact suggested by component statuses follows Statuspage', () => {
    expect(impactFromComponents(['degraded_performance'])).toBe('minor');
    expect(impactFromComponents(['partial_outage', 'degraded_performance'])).toBe('major');
    expect(impactFromComponents(['major_outage'])).toBe('critical');
    expect(impactFromComponents(['operational'])).toBe('none');
  });

  test('indicator: the worst open impact, never calmer than the components', () => {
    expect(computeIndicator([], ['operational'])).toBe('none');
    for (const impact of IMPACTS) expect(computeIndicator([impact, 'none'], [])).toBe(impact);
    expect(computeIndicator(['minor'], ['major_outage'])).toBe('major');
    expect(computeIndicator(['critical'], ['degraded_performance'])).toBe('critical');
    expect(computeIndicator([], ['partial_outage'])).toBe('minor');
  });

  test('outage channel from the failing component kind', () => {
    expect(outageChannel('cdn')).toBe('CDN');
    expect(outageChannel('api')).toBe('API');
    expect(outageChannel('origin')).toBe('API');
    expect(outageChannel('checkout')).toBe('API');
    expect(outageChannel('auth')).toBe('Auth');
    expect(outageChannel('third_party')).toBe('Third-party');
  });
});
