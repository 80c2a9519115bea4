import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { HOUR, MINUTE } from '../core/clock.js';
import {
  attributeIncident,
  checkSite,
  clockSkew,
  eventTime,
  type IncidentWindow,
  normaliseOrigin,
  sourceOfSite,
} from './events.js';

const T = Date.UTC(2026, 0, 15, 9, 0, 0);

describe('the events SDK file', () => {
  test('stays within its 5 KB gzip budget and has no dependencies', () => {
    const body = readFileSync(fileURLToPath(new URL('../../web/sdk/keepwarm-events.js', import.meta.url)));
    const size = gzipSync(body, { level: 9 }).length;
    expect(size).toBeGreaterThan(1000);
    expect(size).toBeLessThanOrEqual(5120);
    const text = body.toString('utf8');
    expect(text).not.toMatch(/\bimport\b|\brequire\(/);
  });
});

describe('clock skew and event times', () => {
  test('a sender clock behind or ahead by more than 5 s shifts its times; within 5 s is network delay', () => {
    expect(clockSkew(undefined, T)).toBe(0);
    expect(clockSkew('not a time', T)).toBe(0);
    expect(clockSkew(new Date(T - 4_000).toISOString(), T)).toBe(0);
    expect(clockSkew(new Date(T - 2 * HOUR).toISOString(), T)).toBe(2 * HOUR);
    expect(clockSkew(new Date(T + 10 * MINUTE).toISOString(), T)).toBe(-10 * MINUTE);
  });

  test('an event time is shifted by the skew, and never later than its receipt', () => {
    const at = new Date(T - 3 * HOUR).toISOString();
    expect(eventTime({ at }, T)).toBe(T - 3 * HOUR);
    expect(eventTime({ at }, T, 2 * HOUR)).toBe(T - HOUR);
    expect(eventTime({ at }, T, 5 * HOUR)).toBe(T);
    expect(eventTime({ at: undefined }, T, HOUR)).toBe(T);
  });
});

describe('incident attribution', () => {
  const real: IncidentWindow = { id: 'inc-real', drill: false, start: T - 3 * HOUR, end: T - HOUR };
  const drill: IncidentWindow = { id: 'inc-drill', drill: true, start: T - 2 * HOUR, end: null };
  const later: IncidentWindow = { id: 'inc-later', drill: false, start: T - 2 * HOUR, end: T - 90 * MINUTE };

  test('the window is started_at..resolved_at inclusive; an open incident has no end', () => {
    expect(attributeIncident([real], T - 3 * HOUR)?.id).toBe('inc-real');
    expect(attributeIncident([real], T - HOUR)?.id).toBe('inc-real');
    expect(attributeIncident([real], T - HOUR + 1)).toBeNull();
    expect(attributeIncident([real], T - 3 * HOUR - 1)).toBeNull();
    expect(attributeIncident([drill], T + 10 * HOUR)?.id).toBe('inc-drill');
    expect(attributeIncident([], T)).toBeNull();
  });

  test('a real incident wins over a drill; among equals the one that started last (the narrower window)', () => {
    expect(attributeIncident([drill, real], T - 90 * MINUTE)?.id).toBe('inc-real');
    expect(attributeIncident([real, drill], T - 30 * MINUTE)).toMatchObject({ id: 'inc-drill', drill: true });
    expect(attributeIncident([later, real, drill], T - 100 * MINUTE)?.id).toBe('inc-later');
    expect(attributeIncident([real, later], T - 2.5 * HOUR)?.id).toBe('inc-real');
  });
});

describe('site keys for the browser', () => {
  const sites = [
    { name: 'acme', key: 'pk_acme_0123456789abcdef', origins: ['https://showroom.example', 'http://127.0.0.1:8080'] },
  ];

  test('origins compare as scheme://host[:port], case and default ports aside', () => {
    expect(normaliseOrigin('https://Showroom.Example:443/')).toBe('https://showroom.example');
    expect(normaliseOrigin('null')).toBeNull();
    expect(normaliseOrigin('file:///tmp/x.html')).toBeNull();
  });

  test('a known key from one of its origins (or from no browser at all) is taken; anything else is refused, saying why', () => {
    expect(checkSite(sites, 'pk_acme_0123456789abcdef', 'https://SHOWROOM.example')).toMatchObject({
      ok: true,
      site: { name: 'acme' },
    });
    expect(checkSite(sites, 'pk_acme_0123456789abcdef', undefined)).toMatchObject({ ok: true });
    expect(checkSite(sites, undefined, 'https://showroom.example')).toMatchObject({
      ok: false,
      status: 401,
      code: 'site_key_missing',
    });
    expect(checkSite(sites, 'pk_other_0123456789abcdef', 'https://showroom.example')).toMatchObject({
      ok: false,
      status: 403,
      code: 'unknown_site_key',
    });
    const wrong = checkSite(sites, 'pk_acme_0123456789abcdef', 'http://127.0.0.1:9090');
    expect(wrong).toMatchObject({ ok: false, status: 403, code: 'origin_not_allowed' });
    expect(wrong.ok ? '' : wrong.message).toContain('crm.events.sites[].origins of site "acme"');
    expect(checkSite(sites, 'pk_acme_0123456789abcdef', 'null')).toMatchObject({ ok: false, code: 'origin_not_allowed' });
  });

  test('the stored source names the site', () => {
    expect(sourceOfSite(null)).toBe('api');
    expect(sourceOfSite('acme')).toBe('site:acme');
  });
});
