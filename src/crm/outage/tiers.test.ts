import { describe, expect, test } from 'vitest';
import { loadConfig } from '../../config/config.js';
import { DAY, HOUR } from '../../core/clock.js';
import { assignOwner, isWithinWorkingHours } from '../owners.js';
import { decideTier, localDayWindow, NO_RULE_MATCHED, type TierFacts, type TierRule } from './tiers.js';

const RULES = loadConfig({ env: {}, cwd: '.', overrides: { databaseUrl: 'sqlite::memory:', publicUrl: 'https://x.test' } })
  .playbook.crm.tiers;
// Thursday 15 January 2026, 09:00 UTC.
const AT = Date.UTC(2026, 0, 15, 9, 0, 0);

function lead(over: Partial<TierFacts> = {}): TierFacts {
  return {
    arr_potential: null,
    demo_scheduled_at: null,
    timezone: null,
    lifecycle: 'lead',
    last_activity_at: null,
    recent_intent_at: null,
    ...over,
  };
}

describe('default tier matrix', () => {
  test('Tier A: demo today and ARR strictly above $25K', () => {
    expect(decideTier(RULES, lead({ arr_potential: 25_001, demo_scheduled_at: AT + 3 * HOUR }), AT)).toEqual({
      tier: 'A',
      rule: 'demo today, ARR over $25K',
    });
    // Exactly $25K is not "over": with recent activity it is Tier B (the B range is inclusive).
    expect(
      decideTier(RULES, lead({ arr_potential: 25_000, demo_scheduled_at: AT + HOUR, recent_intent_at: AT - DAY }), AT).tier,
    ).toBe('B');
    expect(decideTier(RULES, lead({ arr_potential: 25_000, demo_scheduled_at: AT + HOUR }), AT).tier).toBe('C');
  });

  test('a demo earlier the same day still counts; tomorrow does not', () => {
    expect(decideTier(RULES, lead({ arr_potential: 90_000, demo_scheduled_at: AT - 2 * HOUR }), AT).tier).toBe('A');
    expect(decideTier(RULES, lead({ arr_potential: 90_000, demo_scheduled_at: AT + 15 * HOUR }), AT).tier).toBe('C');
  });

  test("'today' is the lead's calendar day in its time zone", () => {
    // 09:00 UTC is 01:00 in Los Angeles (15 Jan); a demo at 23:00 UTC on the 15th is 15:00 there: today.
    const la = lead({ arr_potential: 50_000, timezone: 'America/Los_Angeles', demo_scheduled_at: Date.UTC(2026, 0, 15, 23, 0) });
    expect(decideTier(RULES, la, AT).tier).toBe('A');
    // For a UTC lead the same instant is also the 15th; 08:30 UTC on the 16th is the 16th (UTC) but
    // 00:30 on the 16th in LA as well: not today for either.
    expect(decideTier(RULES, { ...la, demo_scheduled_at: Date.UTC(2026, 0, 16, 8, 30) }, AT).tier).toBe('C');
    // Tokyo is already at 18:00 on the 15th; a demo at 16:00 UTC is 01:00 on the 16th there: not today.
    const tokyo = lead({ arr_potential: 50_000, timezone: 'Asia/Tokyo', demo_scheduled_at: Date.UTC(2026, 0, 15, 16, 0) });
    expect(decideTier(RULES, tokyo, AT).tier).toBe('C');
    expect(decideTier(RULES, { ...tokyo, timezone: null }, AT).tier).toBe('A');
    // An unknown zone counts as UTC.
    expect(decideTier(RULES, { ...tokyo, timezone: 'Mars/Olympus' }, AT).tier).toBe('A');
  });

  test('Tier B: recent views or cart within 7 days and $5K-$25K inclusive', () => {
    const recent = { recent_intent_at: AT - 7 * DAY };
    expect(decideTier(RULES, lead({ arr_potential: 5_000, ...recent }), AT)).toEqual({
      tier: 'B',
      rule: 'recent views or cart, $5K-$25K',
    });
    expect(decideTier(RULES, lead({ arr_potential: 25_000, ...recent }), AT).tier).toBe('B');
    expect(decideTier(RULES, lead({ arr_potential: 4_999, ...recent }), AT).tier).toBe('C');
    expect(decideTier(RULES, lead({ arr_potential: 25_001, ...recent }), AT).tier).toBe('C');
    expect(decideTier(RULES, lead({ arr_potential: 10_000, recent_intent_at: AT - 7 * DAY - 1 }), AT).tier).toBe('C');
    // Last activity counts like an intent event.
    expect(decideTier(RULES, lead({ arr_potential: 10_000, last_activity_at: AT - DAY }), AT).tier).toBe('B');
    expect(decideTier(RULES, lead({ arr_potential: null, last_activity_at: AT - DAY }), AT).tier).toBe('C');
  });

  test('Tier C: the rest', () => {
    expect(decideTier(RULES, lead(), AT)).toEqual({ tier: 'C', rule: 'rest of the pipeline' });
  });
});

describe('custom rules', () => {
  const rules: TierRule[] = [
    { name: 'opportunities', tier: 'A', when: { lifecycle: ['opportunity'] } },
    { name: 'no demo, at least 1K', tier: 'B', when: { demoToday: false, arrAtLeast: 1_000 } },
  ];
  test('first match wins, lifecycle and demoToday:false', () => {
    expect(decideTier(rules, lead({ lifecycle: 'opportunity', arr_potential: 5 }), AT).rule).toBe('opportunities');
    expect(decideTier(rules, lead({ arr_potential: 1_000 }), AT).rule).toBe('no demo, at least 1K');
    expect(decideTier(rules, lead({ arr_potential: 1_000, demo_scheduled_at: AT + HOUR }), AT)).toEqual({
      tier: 'C',
      rule: NO_RULE_MATCHED,
    });
  });
});

describe('day windows and working hours', () => {
  test('a local day across a DST change is 23 hours long', () => {
    const w = localDayWindow(Date.UTC(2026, 2, 8, 12), 'America/New_York');
    expect(w.start).toBe(Date.UTC(2026, 2, 8, 5));
    expect(w.end - w.start).toBe(23 * HOUR);
  });

  test('working hours in the owner zone; overnight shifts; round robin skips the owner', () => {
    const paris = { timezone: 'Europe/Paris', working_hours: { days: [1, 2, 3, 4, 5], start: '08:00', end: '18:00' } };
    expect(isWithinWorkingHours(paris, Date.UTC(2026, 0, 15, 7, 0))).toBe(true); // 08:00 Paris, Thursday
    expect(isWithinWorkingHours(paris, Date.UTC(2026, 0, 15, 6, 59))).toBe(false);
    expect(isWithinWorkingHours(paris, Date.UTC(2026, 0, 15, 17, 0))).toBe(false); // 18:00: end is exclusive
    expect(isWithinWorkingHours(paris, Date.UTC(2026, 0, 17, 10, 0))).toBe(false); // Saturday
    const night = { timezone: 'UTC', working_hours: { days: [4], start: '22:00', end: '06:00' } };
    expect(isWithinWorkingHours(night, Date.UTC(2026, 0, 15, 23, 0))).toBe(true);
    expect(isWithinWorkingHours(night, Date.UTC(2026, 0, 16, 5, 0))).toBe(true); // Friday morning, Thursday's shift
    expect(isWithinWorkingHours(night, Date.UTC(2026, 0, 15, 5, 0))).toBe(false);

    const cursor = { next: 0 };
    const working = (id: string) => (id === 'off' ? false : id === 'nohours' ? null : true);
    expect(assignOwner('on', working, ['a', 'b'], cursor)).toEqual({ ownerId: 'on', reason: 'owner' });
    expect(assignOwner('nohours', working, ['a'], cursor).ownerId).toBe('nohours');
    expect([1, 2, 3].map(() => assignOwner('off', working, ['a', 'b'], cursor).ownerId)).toEqual(['a', 'b', 'a']);
    expect(assignOwner('off', working, [], cursor)).toEqual({
      ownerId: 'off',
      reason: 'owner off hours; nobody else in working hours',
    });
    expect(assignOwner(null, working, ['a'], cursor).ownerId).toBeNull();
  });
});
