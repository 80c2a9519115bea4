import { describe, expect, test } from 'vitest';
import { HOUR, MINUTE } from '../core/clock.js';
import { parseCsv } from '../crm/import/csv.js';
import { checkAccountRows } from './accounts.js';
import {
  centsToDecimal,
  checkPolicy,
  computeCredit,
  formatPpm,
  measureAccount,
  monthToClose,
  type OutageSpan,
  parseMoney,
  parseMonth,
  previousMonth,
  type SlaPolicy,
} from './credits.js';
import { outageSpans } from './outages.js';

const POLICY_INPUT = {
  target_percent: 99.9,
  bands: [
    { below_percent: 99, credit_percent: 25 },
    { below_percent: 99.9, credit_percent: 10 },
    { below_percent: 95, credit_percent: 100 },
  ],
  cap_percent: 50,
  partial_outage_weight: 0.5,
  degraded_performance_weight: 0,
  approval_threshold_cents: 50_000,
};

function policy(overrides: Partial<typeof POLICY_INPUT> = {}): SlaPolicy {
  const checked = checkPolicy('enterprise', { ...POLICY_INPUT, ...overrides });
  if (!checked.ok) throw new Error(JSON.stringify(checked.errors));
  return checked.policy;
}

// June 2025 has 30 days: 43,200 minutes; 0.1 % of it is 43.2 minutes.
const JUNE = parseMonth('2025-06') as NonNullable<ReturnType<typeof parseMonth>>;
const at = (day: number, hour = 0, minute = 0) => Date.UTC(2025, 5, day, hour, minute);
const span = (
  from: number,
  to: number,
  status: OutageSpan['status'] = 'major_outage',
  extra: Partial<OutageSpan> = {},
): OutageSpan => ({
  incidentId: 'i1',
  componentId: 'cdn',
  status,
  from,
  to,
  scope: 'global',
  ...extra,
});
const ALL = { components: [], regions: [] };

describe('policies', () => {
  test('bands come back sorted from the highest threshold; a valid policy round-trips', () => {
    const p = policy();
    expect(p.bands.map((b) => b.below_percent)).toEqual([99.9, 99, 95]);
    expect(p.note).toBeNull();
  });

  test('every fault is named by field', () => {
    const bad = checkPolicy('Enterprise Plan', {
      ...POLICY_INPUT,
      cap_percent: 0,
      partial_outage_weight: 1.5,
      bands: [{ below_percent: 99.9, credit_percent: 10.123 }],
      extra: true,
    });
    expect(bad.ok).toBe(false);
    const fields = bad.ok ? [] : bad.errors.map((e) => e.field);
    expect(fields).toEqual(
      expect.arrayContaining(['plan', 'cap_percent', 'partial_outage_weight', 'bands[0].credit_percent', '(policy)']),
    );
  });

  test('a missing field is "required"; bands must not pay less for worse availability or start above the target', () => {
    const missing = checkPolicy('pro', { ...POLICY_INPUT, target_percent: undefined });
    expect(missing).toEqual({ ok: false, errors: [{ field: 'target_percent', message: 'required' }] });
    const inverted = checkPolicy('pro', {
      ...POLICY_INPUT,
      bands: [
        { below_percent: 99.9, credit_percent: 25 },
        { below_percent: 99.95, credit_percent: 5 },
        { below_percent: 99, credit_percent: 10 },
      ],
    });
    expect(inverted.ok).toBe(false);
    const errors = inverted.ok ? [] : inverted.errors;
    expect(errors.find((e) => e.field === 'bands[1].below_percent')?.message).toMatch(/above the target 99.9/);
    expect(errors.find((e) => e.field === 'bands[2].credit_percent')?.message).toMatch(/less than the 25/);
    const weights = checkPolicy('pro', { ...POLICY_INPUT, degraded_performance_weight: 0.6 });
    expect(weights.ok ? [] : weights.errors.map((e) => e.field)).toEqual(['degraded_performance_weight']);
  });
});

describe('months', () => {
  test('a month is [first day 00:00 UTC, next month); previous month wraps the year', () => {
    expect(JUNE.end - JUNE.start).toBe(30 * 24 * HOUR);
    expect(parseMonth('2024-02')?.end).toBe(Date.UTC(2024, 2, 1));
    expect(parseMonth('2025-13')).toBeNull();
    expect(parseMonth('2025-6')).toBeNull();
    expect(previousMonth(Date.UTC(2026, 0, 15)).month).toBe('2025-12');
  });

  test('the monthly close computes the month just ended during its first 7 days, then nothing', () => {
    expect(monthToClose(Date.UTC(2026, 0, 1, 0, 0))?.month).toBe('2025-12');
    expect(monthToClose(Date.UTC(2026, 0, 7, 23, 59))?.month).toBe('2025-12');
    expect(monthToClose(Date.UTC(2026, 0, 8, 0, 0))).toBeNull();
    expect(monthToClose(Date.UTC(2026, 2, 3))?.month).toBe('2026-02');
  });
});

describe('availability and credit', () => {
  test('exactly at a band threshold earns nothing; one millisecond more crosses it', () => {
    const p = policy();
    const exact = measureAccount([span(at(10), at(10) + 43.2 * MINUTE)], ALL, p, JUNE);
    expect(formatPpm(exact.availabilityPpm)).toBe('99.900');
    expect(computeCredit(p, exact, 100_000).amountCents).toBe(0);
    const over = measureAccount([span(at(10), at(10) + 43.2 * MINUTE + 1)], ALL, p, JUNE);
    expect(computeCredit(p, over, 100_000)).toMatchObject({ creditBp: 1000, amountCents: 10_000, capped: false });
  });

  test('the lowest band that applies wins, and the cap limits it', () => {
    const p = policy();
    // 2 days down: 93.33 % → below 95 → 100 %, capped at 50 %.
    const m = measureAccount([span(at(1), at(3))], ALL, p, JUNE);
    const credit = computeCredit(p, m, 250_000);
    expect(credit).toMatchObject({ bandBp: 10_000, creditBp: 5_000, capped: true, amountCents: 125_000, aboveThreshold: true });
    // 8 hours down: 98.89 % → below 99 → 25 %.
    const eight = measureAccount([span(at(1), at(1, 8))], ALL, p, JUNE);
    expect(computeCredit(p, eight, 250_000)).toMatchObject({ creditBp: 2500, amountCents: 62_500, capped: false });
  });

  test('partial outage counts by its weight, degraded performance by its own (0 here), maintenance never', () => {
    const p = policy();
    const partial = measureAccount([span(at(5), at(5, 2), 'partial_outage')], ALL, p, JUNE);
    expect(partial.downtimeMs).toBe(HOUR);
    expect(partial.affectedMs).toBe(2 * HOUR);
    const degraded = measureAccount([span(at(5), at(5, 10), 'degraded_performance')], ALL, p, JUNE);
    expect(degraded.downtimeMs).toBe(0);
    expect(computeCredit(p, degraded, 100_000).amountCents).toBe(0);
    const counted = measureAccount(
      [span(at(5), at(5, 10), 'degraded_performance')],
      ALL,
      policy({ degraded_performance_weight: 0.25 }),
      JUNE,
    );
    expect(counted.downtimeMs).toBe(2.5 * HOUR);
  });

  test('overlapping incidents count once, the worse status winning while they overlap', () => {
    const p = policy();
    const m = measureAccount(
      [
        span(at(7, 10), at(7, 12), 'major_outage', { incidentId: 'a', componentId: 'cdn' }),
        span(at(7, 11), at(7, 13), 'major_outage', { incidentId: 'b', componentId: 'api' }),
        span(at(7, 9), at(7, 14), 'partial_outage', { incidentId: 'c', componentId: 'api' }),
      ],
      ALL,
      p,
      JUNE,
    );
    // Major 10:00–13:00 (3 h) + partial 09:00–10:00 and 13:00–14:00 (2 h × 0.5).
    expect(m.downtimeMs).toBe(4 * HOUR);
    expect(m.affectedMs).toBe(5 * HOUR);
    expect(m.incidents.map((i) => [i.incident_id, i.downtime_minutes])).toEqual([
      ['a', 120],
      ['b', 120],
      ['c', 150],
    ]);
  });

  test('an incident crossing the month edges is clipped to the month', () => {
    const p = policy();
    const m = measureAccount(
      [span(Date.UTC(2025, 4, 31, 22), Date.UTC(2025, 5, 1, 1)), span(at(30, 23), Date.UTC(2025, 6, 1, 5))],
      ALL,
      p,
      JUNE,
    );
    expect(m.downtimeMs).toBe(2 * HOUR);
  });

  test("only the account's components and regions count", () => {
    const p = policy();
    const spans = [
      span(at(2), at(2, 5), 'major_outage', { componentId: 'cdn', scope: ['us-east'] }),
      span(at(3), at(3, 1), 'major_outage', { componentId: 'api', scope: 'global' }),
      span(at(4), at(4, 2), 'major_outage', { componentId: 'cdn', scope: ['EU-West'] }),
    ];
    expect(measureAccount(spans, { components: ['cdn'], regions: ['eu-west'] }, p, JUNE).downtimeMs).toBe(2 * HOUR);
    expect(measureAccount(spans, { components: [], regions: ['eu-west'] }, p, JUNE).downtimeMs).toBe(3 * HOUR);
    expect(measureAccount(spans, ALL, p, JUNE).downtimeMs).toBe(8 * HOUR);
  });

  test('amounts are integer cents rounded half up', () => {
    const p = policy({ bands: [{ below_percent: 99.9, credit_percent: 12.5 }] });
    const m = measureAccount([span(at(1), at(1, 1))], ALL, p, JUNE);
    expect(computeCredit(p, m, 999).amountCents).toBe(125); // 124.875 → 125
    expect(computeCredit(p, m, 996).amountCents).toBe(125); // 124.5 → 125
    expect(computeCredit(p, m, 995).amountCents).toBe(124); // 124.375 → 124
  });
});

describe('outage spans from incident timelines', () => {
  const incident = { id: 'inc', startedAt: at(10, 9), resolvedAt: at(10, 12), drill: false, scope: 'global' as const };
  const events = [
    {
      incidentId: 'inc',
      at: at(10, 9, 20),
      type: 'incident.declared',
      data: { components: [{ id: 'cdn', status: 'major_outage' }] },
    },
    {
      incidentId: 'inc',
      at: at(10, 9, 20),
      type: 'update.published',
      data: { affected_components: [{ id: 'cdn', old_status: 'operational', new_status: 'major_outage' }] },
    },
    {
      incidentId: 'inc',
      at: at(10, 10),
      type: 'update.published',
      data: { affected_components: [{ id: 'cdn', old_status: 'major_outage', new_status: 'partial_outage' }] },
    },
    {
      incidentId: 'inc',
      at: at(10, 11),
      type: 'detection.recovered',
      data: { components: [{ id: 'cdn', old_status: 'partial_outage', new_status: 'operational' }] },
    },
    { incidentId: 'inc', at: at(10, 10, 30), type: 'note.added', data: { message: 'x' } },
  ];

  test('the outage starts when the incident started (before the declaration), follows each update and stops at recovery', () => {
    const spans = outageSpans([incident], events, [], at(20));
    expect(spans.map((s) => [s.status, (s.from - at(10, 9)) / MINUTE, (s.to - at(10, 9)) / MINUTE])).toEqual([
      ['major_outage', 0, 20],
      ['major_outage', 20, 60],
      ['partial_outage', 60, 120],
    ]);
  });

  test('open incidents run until now; drills never count; maintenance is no outage; unmentioned links count from when added', () => {
    const open = { ...incident, resolvedAt: null };
    const spans = outageSpans([open], events.slice(0, 3), [], at(10, 13));
    expect(spans.at(-1)?.to).toBe(at(10, 13));
    expect(outageSpans([{ ...incident, drill: true }], events, [], at(20))).toEqual([]);
    const maintenance = outageSpans(
      [incident],
      [
        {
          incidentId: 'inc',
          at: at(10, 9),
          type: 'incident.declared',
          data: { components: [{ id: 'cdn', status: 'under_maintenance' }] },
        },
      ],
      [],
      at(20),
    );
    expect(maintenance).toEqual([]);
    const linked = outageSpans(
      [incident],
      [],
      [{ incidentId: 'inc', componentId: 'api', status: 'partial_outage', addedAt: at(10, 10) }],
      at(20),
    );
    expect(linked).toMatchObject([{ componentId: 'api', status: 'partial_outage', from: at(10, 10), to: at(10, 12) }]);
  });
});

describe('accounts CSV', () => {
  const known = { plans: new Set(['enterprise', 'pro']), components: [{ id: 'c1', name: 'Showroom CDN' }] };

  test('valid rows: money without floating point, lists, defaults', () => {
    const { accounts, errors } = checkAccountRows(
      parseCsv(
        'external_id,name,plan,monthly_fee,components,regions\nA-1,Acme,Enterprise,"1,250.50",showroom cdn;c1,EU-West|us-east\nA-2,Beta,pro,99,,\n',
      ),
      known,
    );
    expect(errors).toEqual([]);
    expect(accounts).toEqual([
      expect.objectContaining({
        externalId: 'A-1',
        plan: 'enterprise',
        monthlyFeeCents: 125_050,
        currency: 'USD',
        components: ['c1'],
        regions: ['eu-west', 'us-east'],
      }),
      expect.objectContaining({ externalId: 'A-2', monthlyFeeCents: 9_900, components: [], regions: [] }),
    ]);
  });

  test('every fault names its row and column; headers are checked first', () => {
    const header = checkAccountRows(parseCsv('external_id,name,fee\n'), known);
    expect(header.errors).toEqual([
      { row: 1, column: 'fee', message: expect.stringMatching(/unknown column/) },
      { row: 1, column: 'plan', message: 'required column is missing' },
      { row: 1, column: 'monthly_fee', message: 'required column is missing' },
    ]);
    const rows = checkAccountRows(
      parseCsv('external_id,name,plan,monthly_fee,currency,components\nA-1,Acme,gold,12.345,usd,Checkout\nA-1,,pro,10,EURO,\n'),
      known,
    );
    expect(rows.errors.map((e) => `${e.row}:${e.column}`)).toEqual([
      '2:plan',
      '2:monthly_fee',
      '2:components',
      '3:external_id',
      '3:name',
      '3:currency',
    ]);
    expect(rows.errors[0]?.message).toMatch(/no SLA policy for plan "gold"/);
    expect(rows.errors[2]?.message).toMatch(/known: Showroom CDN/);
  });

  test('parseMoney and centsToDecimal are exact', () => {
    expect(parseMoney('0.1')).toBe(10);
    expect(parseMoney('1,000,000.07')).toBe(100_000_007);
    expect(parseMoney('1.005')).toBeNull();
    expect(parseMoney('-5')).toBeNull();
    expect(parseMoney('1,00')).toBeNull();
    expect(centsToDecimal(100_000_007)).toBe('1000000.07');
  });
});
