import { describe, expect, test } from 'vitest';
import { acceptsProviderStatus, consentRefusal, fromTwilioStatus, localParts, quietHoursDeferral } from './messaging.js';

describe('provider status reports', () => {
  test('only forward moves apply: late, repeated and reordered reports change nothing', () => {
    expect(acceptsProviderStatus('sent', 'delivered')).toBe(true);
    expect(acceptsProviderStatus('delivered', 'sent')).toBe(false);
    expect(acceptsProviderStatus('delivered', 'delivered')).toBe(false);
    expect(acceptsProviderStatus('sending', 'sent')).toBe(true);
    expect(acceptsProviderStatus('failed', 'delivered')).toBe(false);
    expect(acceptsProviderStatus('suppressed', 'delivered')).toBe(false);
  });

  test("Twilio's statuses in Keepwarm's words", () => {
    expect(
      ['queued', 'sending', 'sent', 'delivered', 'read', 'undelivered', 'failed', 'receiving'].map(fromTwilioStatus),
    ).toEqual(['sending', 'sending', 'sent', 'delivered', 'delivered', 'bounced', 'failed', null]);
  });
});

describe('consent', () => {
  test('outage notices go to anyone not opted out; marketing needs recorded consent', () => {
    expect(consentRefusal({ channel: 'email', purpose: 'transactional', consent: undefined, suppressed: false })).toBeNull();
    expect(consentRefusal({ channel: 'email', purpose: 'marketing', consent: undefined, suppressed: false })).toBe(
      'marketing email needs recorded consent',
    );
    expect(consentRefusal({ channel: 'sms', purpose: 'marketing', consent: { sms: true }, suppressed: false })).toBeNull();
    expect(consentRefusal({ channel: 'sms', purpose: 'transactional', consent: { sms: false }, suppressed: false })).toBe(
      'no sms consent',
    );
    expect(consentRefusal({ channel: 'sms', purpose: 'transactional', consent: { sms: true }, suppressed: true })).toBe(
      'recipient opted out of sms',
    );
    expect(consentRefusal({ channel: 'slack', purpose: 'marketing', consent: undefined, suppressed: false })).toBeNull();
  });
});

describe('quiet hours for marketing SMS (08:00–21:00 local)', () => {
  const at = (iso: string) => Date.parse(iso);

  test('inside the window: send now', () => {
    expect(quietHoursDeferral(at('2026-03-10T14:00:00Z'), 'Europe/Berlin', '08:00', '21:00')).toBeNull(); // 15:00 in Berlin
  });

  test('late evening: deferred to 08:00 local the next morning', () => {
    const next = quietHoursDeferral(at('2026-03-10T21:30:00Z'), 'Europe/Berlin', '08:00', '21:00') as number; // 22:30 in Berlin
    expect(new Date(next).toISOString()).toBe('2026-03-11T07:00:00.000Z');
    expect(localParts(next, 'Europe/Berlin').minutes).toBe(8 * 60);
  });

  test('early morning: deferred to 08:00 the same day, in the recipient zone, not the server one', () => {
    const next = quietHoursDeferral(at('2026-03-10T10:00:00Z'), 'America/Los_Angeles', '08:00', '21:00') as number; // 03:00 in LA
    expect(new Date(next).toISOString()).toBe('2026-03-10T15:00:00.000Z');
  });

  test('across a daylight-saving change the deferral still lands on 08:00 local', () => {
    const next = quietHoursDeferral(at('2026-03-29T00:30:00Z'), 'Europe/Berlin', '08:00', '21:00') as number; // 01:30, clocks jump at 02:00
    expect(new Date(next).toISOString()).toBe('2026-03-29T06:00:00.000Z');
  });

  test('exactly 21:00 is already quiet; 08:00 is allowed', () => {
    expect(quietHoursDeferral(at('2026-01-10T20:00:00Z'), 'Europe/Berlin', '08:00', '21:00')).not.toBeNull();
    expect(quietHoursDeferral(at('2026-01-10T07:00:00Z'), 'Europe/Berlin', '08:00', '21:00')).toBeNull();
  });
});
