import { describe, expect, test } from 'vitest';
import {
  batchWebhookId,
  CURSOR_START,
  classifyStatus,
  contactToRow,
  decodeCursor,
  encodeCursor,
  hubspotOutageProperties,
  hubspotPauseMs,
  type SyncLead,
} from './connectors.js';

const headers = (h: Record<string, string>) => ({ get: (name: string) => h[name] ?? null });

const lead: SyncLead = {
  id: 'l1',
  externalId: '501',
  email: 'a@example.test',
  outageStatus: 'active',
  outageChannel: 'Third-party',
  outagePriority: 'medium',
  fallbackSent: false,
  tier: 'B',
  tierRule: 'recent views',
  reEngagedAt: null,
  updatedAt: 5,
};

describe('CRM connector rules', () => {
  test('cursors survive a round trip (ids may hold colons) and junk reads as the start', () => {
    expect(decodeCursor(encodeCursor({ updatedAt: 1700000000123, id: 'a:b' }))).toEqual({ updatedAt: 1700000000123, id: 'a:b' });
    expect(decodeCursor(undefined)).toEqual(CURSOR_START);
    expect(decodeCursor('garbage')).toEqual(CURSOR_START);
  });

  test('a batch keeps its webhook-id across retries; another range gets another id', () => {
    const a = batchWebhookId('inc', CURSOR_START, { updatedAt: 5, id: 'l9' });
    expect(batchWebhookId('inc', CURSOR_START, { updatedAt: 5, id: 'l9' })).toBe(a);
    expect(batchWebhookId('inc', { updatedAt: 5, id: 'l9' }, { updatedAt: 5, id: 'l20' })).not.toBe(a);
    expect(a).toMatch(/^msg_[0-9a-f]{32}$/);
  });

  test('HubSpot gets the four outage properties as strings', () => {
    expect(hubspotOutageProperties(lead)).toEqual({
      outage_status: 'active',
      outage_channel: 'Third-party',
      outage_priority: 'medium',
      fallback_sent: 'false',
    });
  });

  test('HTTP answers: 2xx ok, 429 waits, 408/5xx retry, other 4xx permanent', () => {
    expect(classifyStatus(204, undefined)).toEqual({ kind: 'ok' });
    expect(classifyStatus(429, 7000)).toEqual({ kind: 'rate_limited', retryAfterMs: 7000 });
    expect(classifyStatus(429, undefined)).toEqual({ kind: 'rate_limited', retryAfterMs: 10_000 });
    expect(classifyStatus(503, undefined).kind).toBe('transient');
    expect(classifyStatus(408, undefined).kind).toBe('transient');
    expect(classifyStatus(400, undefined).kind).toBe('permanent');
    expect(classifyStatus(302, undefined).kind).toBe('permanent');
  });

  test('rate-limit headers: pause only when the window or the day is spent', () => {
    expect(hubspotPauseMs(headers({}))).toBe(0);
    expect(hubspotPauseMs(headers({ 'x-hubspot-ratelimit-remaining': '3' }))).toBe(0);
    expect(
      hubspotPauseMs(headers({ 'x-hubspot-ratelimit-remaining': '0', 'x-hubspot-ratelimit-interval-milliseconds': '10000' })),
    ).toBe(10_000);
    expect(hubspotPauseMs(headers({ 'x-hubspot-ratelimit-daily-remaining': '0' }))).toBe(3_600_000);
  });

  test('a HubSpot contact becomes an import row (email lower-cased, lifecycle stage mapped)', () => {
    expect(
      contactToRow({
        id: '77',
        properties: { email: ' Ana@Example.TEST ', firstname: 'Ana', lastname: '', lifecyclestage: 'marketingqualifiedlead' },
      }),
    ).toEqual({
      external_id: '77',
      email: 'ana@example.test',
      first_name: 'Ana',
      last_name: null,
      phone: null,
      company: null,
      title: null,
      lifecycle: 'mql',
    });
  });
});
