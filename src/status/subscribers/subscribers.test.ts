import { describe, expect, test } from 'vitest';
import { AppError } from '../../core/errors.js';
import {
  buildWebhookUpdate,
  checkSmsCode,
  hashSmsCode,
  isLoopbackHost,
  maskSubscriberAddress,
  normalizeSubscriberAddress,
  parseComponentSelection,
  SMS_MAX_ATTEMPTS,
  wantsUpdate,
} from './subscribers.js';

function fieldOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError && err.status === 422) return (err.details as { field: string }).field;
    throw err;
  }
  return undefined;
}

describe('addresses', () => {
  test('normalised per channel', () => {
    expect(normalizeSubscriberAddress('email', ' Buyer@Example.COM ')).toBe('buyer@example.com');
    expect(normalizeSubscriberAddress('sms', '+1 (415) 555-0100')).toBe('+14155550100');
    expect(normalizeSubscriberAddress('sms', '0044 20 7946 0958')).toBe('+442079460958');
    expect(normalizeSubscriberAddress('webhook', 'https://hooks.example.com/x#frag')).toBe('https://hooks.example.com/x');
    expect(normalizeSubscriberAddress('webhook', 'http://127.0.0.1:8080/hook')).toBe('http://127.0.0.1:8080/hook');
  });

  test('refused with the field named', () => {
    expect(fieldOf(() => normalizeSubscriberAddress('email', 'no-at-sign'))).toBe('address');
    expect(fieldOf(() => normalizeSubscriberAddress('email', 'a@b', 'email'))).toBe('email');
    expect(fieldOf(() => normalizeSubscriberAddress('sms', '4155550100'))).toBe('address');
    expect(fieldOf(() => normalizeSubscriberAddress('webhook', 'http://hooks.example.com/x'))).toBe('address');
    expect(fieldOf(() => normalizeSubscriberAddress('webhook', 'https://user:pw@hooks.example.com/'))).toBe('address');
    expect(fieldOf(() => parseComponentSelection(['c1', 'zz'], new Set(['c1'])))).toBe('components');
  });

  test('plain http only for loopback hosts', () => {
    expect(['127.0.0.1', '127.8.0.1', '[::1]', 'localhost'].map(isLoopbackHost)).toEqual([true, true, true, true]);
    expect(['10.0.0.1', '127.0.0.1.example.com', 'example.com'].map(isLoopbackHost)).toEqual([false, false, false]);
  });

  test('masked for people who may not read them', () => {
    expect(maskSubscriberAddress('email', 'jane@example.com')).toBe('j•••@e•••.com');
    expect(maskSubscriberAddress('sms', '+14155550100')).toBe('•••••••0100');
    expect(maskSubscriberAddress('webhook', 'https://hooks.example.com/secret/path')).toBe('https://hooks.example.com/•••');
  });
});

describe('who receives an update', () => {
  test('component choice against affected components, or the incident components when none are named', () => {
    expect(parseComponentSelection(undefined, new Set())).toBe('all');
    expect(parseComponentSelection(['b', 'a', 'b'], new Set(['a', 'b']))).toEqual(['a', 'b']);
    expect(wantsUpdate('all', [], [])).toBe(true);
    expect(wantsUpdate(['cdn'], ['cdn'], ['cdn', 'api'])).toBe(true);
    expect(wantsUpdate(['api'], ['cdn'], ['cdn', 'api'])).toBe(false);
    expect(wantsUpdate(['api'], [], ['cdn', 'api'])).toBe(true);
    expect(wantsUpdate(['auth'], [], ['cdn', 'api'])).toBe(false);
  });
});

describe('SMS codes', () => {
  const secret = 's'.repeat(40);
  const stored = hashSmsCode(secret, 'sub1', '123456');
  const base = { state: 'pending' as const, storedHash: stored, expiresAt: 1_000, attempts: 0, now: 500 };

  test('right, wrong, the last wrong locks, expired, not pending', () => {
    expect(checkSmsCode({ ...base, givenHash: hashSmsCode(secret, 'sub1', '123456') })).toBe('confirmed');
    expect(checkSmsCode({ ...base, givenHash: hashSmsCode(secret, 'sub1', '654321') })).toBe('wrong');
    // The same code for another subscriber does not match.
    expect(checkSmsCode({ ...base, givenHash: hashSmsCode(secret, 'sub2', '123456') })).toBe('wrong');
    expect(checkSmsCode({ ...base, attempts: SMS_MAX_ATTEMPTS - 1, givenHash: hashSmsCode(secret, 'sub1', '0') })).toBe('locked');
    expect(checkSmsCode({ ...base, attempts: SMS_MAX_ATTEMPTS, givenHash: stored })).toBe('locked');
    expect(checkSmsCode({ ...base, now: 1_001, givenHash: stored })).toBe('expired');
    expect(checkSmsCode({ ...base, state: 'confirmed', givenHash: stored })).toBe('not_pending');
  });
});

test('the webhook body has Statuspage field names', () => {
  const body = buildWebhookUpdate({
    page: { id: 'p', name: 'Northwind', url: 'https://s.example/status' },
    incident: {
      id: 'i1',
      name: 'API down',
      status: 'identified',
      impact: 'major',
      createdAt: '2026-01-01T00:00:00.000Z',
      updatedAt: '2026-01-01T00:10:00.000Z',
      shortlink: 'https://s.example/status',
    },
    update: { id: 'u1', status: 'identified', body: 'Found it.', createdAt: '2026-01-01T00:10:00.000Z' },
    components: [{ id: 'c1', name: 'API', status: 'major_outage', oldStatus: 'operational' }],
    unsubscribeUrl: 'https://s.example/status/unsubscribe?token=t',
  });
  expect(body).toMatchObject({
    meta: { unsubscribe: 'https://s.example/status/unsubscribe?token=t' },
    page: { id: 'p', name: 'Northwind' },
    incident: {
      id: 'i1',
      incident_updates: [
        {
          id: 'u1',
          body: 'Found it.',
          affected_components: [{ code: 'c1', old_status: 'operational', new_status: 'major_outage' }],
        },
      ],
    },
  });
});
