import { describe, expect, test } from 'vitest';
import { DAY } from '../core/clock.js';
import { AppError } from '../core/errors.js';
import { applyPatch, cutoffs, decodeRetention, parseRetentionForm, type Retention } from './retention.js';
import { parseSubject, phoneDigits, scrubText, subjectHash } from './subject.js';

const DEFAULTS: Retention = { messageBodiesDays: 90, beaconsDays: 30, eventsDays: 180, conversationsDays: 90 };

describe('retention settings', () => {
  test('the console form: empty and 0 keep, every bad field named, nothing half-applied', () => {
    expect(parseRetentionForm({ messageBodiesDays: '30', beaconsDays: '', eventsDays: '0', conversationsDays: ' 7 ' })).toEqual({
      ok: true,
      value: { messageBodiesDays: 30, beaconsDays: null, eventsDays: null, conversationsDays: 7 },
    });
    const bad = parseRetentionForm({
      messageBodiesDays: 'ninety',
      beaconsDays: '-3',
      eventsDays: '1.5',
      conversationsDays: '99999',
    });
    expect(bad.ok).toBe(false);
    if (bad.ok) return;
    expect(bad.errors.map((e) => e.field)).toEqual(['messageBodiesDays', 'beaconsDays', 'eventsDays', 'conversationsDays']);
    expect(bad.errors[0]?.message).toContain('whole number of days');
    expect(bad.errors[3]?.message).toContain('3650');
  });

  test('cutoffs: days back from now, null keeps', () => {
    const now = Date.UTC(2026, 5, 1);
    expect(cutoffs({ ...DEFAULTS, beaconsDays: null }, now)).toEqual({
      messageBodiesDays: now - 90 * DAY,
      beaconsDays: null,
      eventsDays: now - 180 * DAY,
      conversationsDays: now - 90 * DAY,
    });
  });

  test('a patch changes only what it names; stored settings that no longer parse fall back', () => {
    expect(applyPatch(DEFAULTS, { eventsDays: null })).toEqual({ ...DEFAULTS, eventsDays: null });
    expect(decodeRetention(undefined, DEFAULTS)).toBeNull();
    expect(decodeRetention('{"messageBodiesDays":1}', DEFAULTS)).toEqual(DEFAULTS);
    expect(decodeRetention('not json', DEFAULTS)).toEqual(DEFAULTS);
  });
});

describe('the person', () => {
  test('emails lower-cased, phones E.164, anything else refused naming the field', () => {
    expect(parseSubject('  Ana@Example.COM ')).toEqual({ kind: 'email', value: 'ana@example.com' });
    expect(parseSubject('+44 20 7946 0958')).toEqual({ kind: 'phone', value: '+442079460958' });
    expect(parseSubject('(415) 555-0101')).toEqual({ kind: 'phone', value: '+14155550101' });
    for (const bad of ['', 'ana@', '555-0101', 'call me', 42]) {
      try {
        parseSubject(bad);
        expect.unreachable(`accepted ${String(bad)}`);
      } catch (err) {
        expect(err).toBeInstanceOf(AppError);
        expect((err as AppError).status).toBe(422);
        expect((err as AppError).message).toMatch(/^subject: /);
      }
    }
  });

  test('the audit hash is keyed and stable, and never the address', () => {
    const a = subjectHash('secret-one', { kind: 'email', value: 'ana@example.com' });
    expect(a).toBe(subjectHash('secret-one', { kind: 'email', value: 'ana@example.com' }));
    expect(a).not.toBe(subjectHash('secret-two', { kind: 'email', value: 'ana@example.com' }));
    expect(a).toMatch(/^[0-9a-f]{32}$/);
  });

  test('scrubbing replaces every spelling of the address; digits compare phone forms', () => {
    expect(scrubText('550 <Ana@Example.com> and ana@example.com', ['ana@example.com'], '[erased]')).toBe(
      '550 <[erased]> and [erased]',
    );
    expect(scrubText('a.b+c@x.io (a.b+c@x.io)', ['a.b+c@x.io'], '#')).toBe('# (#)');
    expect(phoneDigits('+1 (415) 555-0101')).toBe(phoneDigits('+14155550101'));
    expect(phoneDigits('0044 20 7946 0958')).toBe('442079460958');
  });
});
