/**
 * SLA credit rules, pure: a policy per plan (monthly availability target, credit bands, cap,
 * weights of partial outage and degraded performance, approval threshold), availability of one
 * account in one UTC month from component outage spans, the band that applies, the cap and the
 * amount in integer cents.
 *
 * Exact arithmetic: percentages are held as integers (thousandths of a percent for availability
 * thresholds, hundredths for credit shares), weights as permille and downtime as
 * milliseconds × permille, so "exactly 99.9 %" is never misjudged by floating point.
 * Rounding: the credit amount is rounded half up to the cent; availability is shown rounded down.
 */
import { z } from 'zod';
import type { Scope } from '../incidents/incident.js';

export const CREDIT_STATES = ['proposed', 'approved', 'rejected', 'withdrawn'] as const;
export type CreditState = (typeof CREDIT_STATES)[number];

/** The component statuses that count against availability (maintenance and operational do not). */
export type OutageStatus = 'degraded_performance' | 'partial_outage' | 'major_outage';

export interface CreditBand {
  /** Availability strictly below this percentage… */
  below_percent: number;
  /** …earns this share of the monthly fee. */
  credit_percent: number;
}

export interface SlaPolicy {
  plan: string;
  /** Monthly availability promised, percent (e.g. 99.9). */
  target_percent: number;
  /** Sorted by below_percent, highest first; credit_percent never decreases down the list. */
  bands: CreditBand[];
  /** A credit never exceeds this share of the monthly fee. */
  cap_percent: number;
  /** How much a minute of partial outage counts (0–1); a minute of major outage counts 1. */
  partial_outage_weight: number;
  /** How much a minute of degraded performance counts (0–1, at most the partial weight). */
  degraded_performance_weight: number;
  /** Credits above this amount need a role with credits.approve_above_threshold (legal, admin). */
  approval_threshold_cents: number;
  /** Who agreed the policy and when, for the record (free text). */
  note: string | null;
}

export interface FieldError {
  field: string;
  message: string;
}

export const PLAN_PATTERN = /^[a-z0-9][a-z0-9_-]{0,39}$/;
const PLAN_HINT = 'lower-case letters, digits, - and _ (at most 40), such as enterprise';

/** True when `value` has at most `places` decimals (as written in JSON). */
function hasDecimals(value: number, places: number): boolean {
  const scaled = value * 10 ** places;
  return Math.abs(scaled - Math.round(scaled)) < 1e-6;
}

const percentField = (places: number, min: number, max: number, minInclusive: boolean) =>
  z
    .number({ error: 'expected a number (percent)' })
    .refine((v) => Number.isFinite(v) && (minInclusive ? v >= min : v > min) && v <= max, {
      message: `expected a percentage ${minInclusive ? 'from' : 'above'} ${min} up to ${max}`,
    })
    .refine((v) => hasDecimals(v, places), { message: `at most ${places} decimal places` });

const weightField = z
  .number({ error: 'expected a number from 0 to 1' })
  .refine((v) => v >= 0 && v <= 1, { message: 'expected a number from 0 to 1' })
  .refine((v) => hasDecimals(v, 3), { message: 'at most 3 decimal places' });

/** The body of PUT /api/v1/credits/policies/:plan (the plan comes from the URL). */
export const policyInputSchema = z.strictObject({
  target_percent: percentField(3, 50, 100, true),
  bands: z
    .array(
      z.strictObject({
        below_percent: percentField(3, 0, 100, false),
        credit_percent: percentField(2, 0, 100, false),
      }),
      { error: 'expected a list of {below_percent, credit_percent}' },
    )
    .min(1, 'at least one band')
    .max(20, 'at most 20 bands'),
  cap_percent: percentField(2, 0, 100, false),
  partial_outage_weight: weightField,
  degraded_performance_weight: weightField,
  approval_threshold_cents: z
    .number({ error: 'expected whole cents' })
    .int('expected whole cents')
    .min(0, 'expected 0 or more cents')
    .max(100_000_000_000, 'at most 100,000,000,000 cents'),
  note: z.string().max(500, 'at most 500 characters').nullable().optional(),
});

export type PolicyInput = z.input<typeof policyInputSchema>;

function fieldName(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out === '' ? '(policy)' : out;
}

/** Validate a policy: every fault named by field (bands[1].credit_percent); bands come back sorted. */
export function checkPolicy(plan: string, input: unknown): { ok: true; policy: SlaPolicy } | { ok: false; errors: FieldError[] } {
  const errors: FieldError[] = [];
  if (!PLAN_PATTERN.test(plan)) errors.push({ field: 'plan', message: PLAN_HINT });
  const parsed = policyInputSchema.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const message =
        issue.code === 'unrecognized_keys'
          ? `unknown field${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.join(', ')}`
          : issue.code === 'invalid_type' && issue.input === undefined
            ? 'required'
            : issue.message;
      errors.push({ field: fieldName(issue.path), message });
    }
    return { ok: false, errors };
  }
  const p = parsed.data;
  const indexed = p.bands.map((b, index) => ({ ...b, index }));
  const seen = new Map<number, number>();
  for (const b of indexed) {
    if (b.below_percent > p.target_percent)
      errors.push({
        field: `bands[${b.index}].below_percent`,
        message: `${b.below_percent} is above the target ${p.target_percent}: a band starts at or below the target`,
      });
    const before = seen.get(b.below_percent);
    if (before !== undefined)
      errors.push({ field: `bands[${b.index}].below_percent`, message: `${b.below_percent} is also bands[${before}]` });
    else seen.set(b.below_percent, b.index);
  }
  const sorted = [...indexed].sort((a, b) => b.below_percent - a.below_percent);
  for (let i = 1; i < sorted.length; i++) {
    const upper = sorted[i - 1] as (typeof sorted)[number];
    const lower = sorted[i] as (typeof sorted)[number];
    if (lower.credit_percent < upper.credit_percent)
      errors.push({
        field: `bands[${lower.index}].credit_percent`,
        message: `${lower.credit_percent} is less than the ${upper.credit_percent} of the band below ${upper.below_percent}: worse availability never earns less`,
      });
  }
  if (p.degraded_performance_weight > p.partial_outage_weight)
    errors.push({
      field: 'degraded_performance_weight',
      message: `${p.degraded_performance_weight} is more than partial_outage_weight ${p.partial_outage_weight}`,
    });
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    policy: {
      plan,
      target_percent: p.target_percent,
      bands: sorted.map((b) => ({ below_percent: b.below_percent, credit_percent: b.credit_percent })),
      cap_percent: p.cap_percent,
      partial_outage_weight: p.partial_outage_weight,
      degraded_performance_weight: p.degraded_performance_weight,
      approval_threshold_cents: p.approval_threshold_cents,
      note: p.note ?? null,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Months

export interface MonthWindow {
  /** YYYY-MM */
  month: string;
  /** First millisecond of the month (UTC). */
  start: number;
  /** First millisecond of the next month. */
  end: number;
}

export const MONTH_PATTERN = /^(\d{4})-(0[1-9]|1[0-2])$/;

export function parseMonth(text: string): MonthWindow | null {
  const m = MONTH_PATTERN.exec(text);
  if (!m) return null;
  const year = Number(m[1]);
  const index = Number(m[2]) - 1;
  return { month: text, start: Date.UTC(year, index, 1), end: Date.UTC(year, index + 1, 1) };
}

/** The month containing `at` (UTC). */
export function monthOf(at: number): MonthWindow {
  const d = new Date(at);
  const month = `${d.getUTCFullYear()}-${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
  return parseMonth(month) as MonthWindow;
}

/** The month before the one containing `at`. */
export function previousMonth(at: number): MonthWindow {
  return monthOf(monthOf(at).start - 1);
}

/** For this many days after a month ends, the monthly close recomputes it (late edits to its incidents). */
export const CLOSE_DAYS = 7;

/**
 * The month the daily close computes at `at`: the month just ended, during its first CLOSE_DAYS
 * days after the end; otherwise none (its undecided credits stay as last computed).
 */
export function monthToClose(at: number): MonthWindow | null {
  return new Date(at).getUTCDate() <= CLOSE_DAYS ? previousMonth(at) : null;
}

// ---------------------------------------------------------------------------------------------
// Availability of one account

/** A component in an outage status for a while, because of one incident. */
export interface OutageSpan {
  incidentId: string;
  componentId: string;
  status: OutageStatus;
  from: number;
  to: number;
  /** The incident's scope: global, or the regions it hit. */
  scope: Scope;
}

/** What an account uses; an empty list means all (every component, every region). */
export interface AccountUsage {
  components: readonly string[];
  regions: readonly string[];
}

export interface Measurement {
  /** Length of the month, ms (the denominator: the whole month, even while it runs). */
  monthMs: number;
  /** Σ duration × weight, in ms × permille (exact). */
  weightedPermilleMs: number;
  /** Weighted downtime, ms (rounded). */
  downtimeMs: number;
  /** Time with any of the account's components in any outage status, ms (overlaps counted once). */
  affectedMs: number;
  /** Availability in parts per million, rounded down (999000 = 99.9 %). */
  availabilityPpm: number;
  /** Each incident that touched the account: its own weighted minutes (overlaps with others not removed). */
  incidents: Array<{ incident_id: string; downtime_minutes: number; affected_minutes: number }>;
}

function weightOf(status: OutageStatus, policy: SlaPolicy): number {
  if (status === 'major_outage') return 1000;
  if (status === 'partial_outage') return Math.round(policy.partial_outage_weight * 1000);
  return Math.round(policy.degraded_performance_weight * 1000);
}

/** Whether a span of an incident with this scope reaches an account in these regions. */
export function scopeReaches(scope: Scope, regions: readonly string[]): boolean {
  if (scope === 'global' || regions.length === 0) return true;
  const mine = new Set(regions.map((r) => r.toLowerCase()));
  return scope.some((r) => mine.has(r.toLowerCase()));
}

/**
 * Merge overlapping spans: at every instant the worst status among the account's components
 * counts, once. Returns the weighted (ms × permille) and plain affected lengths inside [start, end).
 */
function mergeSpans(spans: readonly OutageSpan[], policy: SlaPolicy, start: number, end: number) {
  const points: Array<{ at: number; status: OutageStatus; delta: 1 | -1 }> = [];
  for (const s of spans) {
    const from = Math.max(s.from, start);
    const to = Math.min(s.to, end);
    if (to <= from) continue;
    points.push({ at: from, status: s.status, delta: 1 }, { at: to, status: s.status, delta: -1 });
  }
  points.sort((a, b) => a.at - b.at);
  const open: Record<OutageStatus, number> = { major_outage: 0, partial_outage: 0, degraded_performance: 0 };
  let weighted = 0;
  let affected = 0;
  let last = start;
  for (const p of points) {
    if (p.at > last) {
      const worst: OutageStatus | null =
        open.major_outage > 0
          ? 'major_outage'
          : open.partial_outage > 0
            ? 'partial_outage'
            : open.degraded_performance > 0
              ? 'degraded_performance'
              : null;
      if (worst) {
        weighted += (p.at - last) * weightOf(worst, policy);
        affected += p.at - last;
      }
      last = p.at;
    }
    open[p.status] += p.delta;
  }
  return { weighted, affected };
}

/** Availability of an account in a month: its components' spans, scoped to its regions, merged and weighted. */
export function measureAccount(
  spans: readonly OutageSpan[],
  usage: AccountUsage,
  policy: SlaPolicy,
  window: MonthWindow,
): Measurement {
  const components = new Set(usage.components);
  const mine = spans.filter(
    (s) => (components.size === 0 || components.has(s.componentId)) && scopeReaches(s.scope, usage.regions),
  );
  const monthMs = window.end - window.start;
  const { weighted, affected } = mergeSpans(mine, policy, window.start, window.end);
  const byIncident = new Map<string, OutageSpan[]>();
  for (const s of mine) byIncident.set(s.incidentId, [...(byIncident.get(s.incidentId) ?? []), s]);
  const incidents: Measurement['incidents'] = [];
  for (const [incidentId, list] of byIncident) {
    const own = mergeSpans(list, policy, window.start, window.end);
    if (own.affected === 0) continue;
    incidents.push({
      incident_id: incidentId,
      downtime_minutes: Math.round(own.weighted / 1000 / 6_000) / 10,
      affected_minutes: Math.round(own.affected / 6_000) / 10,
    });
  }
  const total = BigInt(monthMs) * 1000n;
  const up = total - BigInt(weighted);
  return {
    monthMs,
    weightedPermilleMs: weighted,
    downtimeMs: Math.round(weighted / 1000),
    affectedMs: affected,
    availabilityPpm: Number((up * 1_000_000n) / total),
    incidents,
  };
}

// ---------------------------------------------------------------------------------------------
// Credit

export interface CreditOutcome {
  /** The band that applies (the lowest threshold the availability is below), or null: no credit. */
  band: CreditBand | null;
  /** The band's share of the fee, hundredths of a percent. */
  bandBp: number;
  /** After the cap. */
  creditBp: number;
  capped: boolean;
  amountCents: number;
  aboveThreshold: boolean;
}

const thousandths = (percent: number) => Math.round(percent * 1000);
const hundredths = (percent: number) => Math.round(percent * 100);

/** Availability (as measured) is strictly below `percent`: compared in integers. */
export function isBelow(m: Pick<Measurement, 'monthMs' | 'weightedPermilleMs'>, percent: number): boolean {
  // (M·1000 − Dw) / (M·1000) · 100 < p/1000  ⇔  (M·1000 − Dw) · 100 < p · M   (p in thousandths of a percent)
  return (m.monthMs * 1000 - m.weightedPermilleMs) * 100 < thousandths(percent) * m.monthMs;
}

/** Round half up to the cent: fee × share (hundredths of a percent) / 10000. */
export function shareOfCents(feeCents: number, bp: number): number {
  return Math.floor((feeCents * bp + 5_000) / 10_000);
}

export function computeCredit(
  policy: SlaPolicy,
  m: Pick<Measurement, 'monthMs' | 'weightedPermilleMs'>,
  feeCents: number,
): CreditOutcome {
  let band: CreditBand | null = null;
  for (const b of policy.bands) if (isBelow(m, b.below_percent)) band = b; // sorted high → low: the last match is the lowest
  const bandBp = band ? hundredths(band.credit_percent) : 0;
  const capBp = hundredths(policy.cap_percent);
  const creditBp = Math.min(bandBp, capBp);
  const amountCents = shareOfCents(feeCents, creditBp);
  return {
    band,
    bandBp,
    creditBp,
    capped: bandBp > capBp,
    amountCents,
    aboveThreshold: amountCents > policy.approval_threshold_cents,
  };
}

// ---------------------------------------------------------------------------------------------
// Presentation

/** 999000 → "99.900" (three decimals, rounded down as measured). */
export function formatPpm(ppm: number): string {
  return `${Math.floor(ppm / 10_000)}.${String(Math.floor((ppm % 10_000) / 10)).padStart(3, '0')}`;
}

/** 1250 → "12.50" (a share in hundredths of a percent). */
export function formatBp(bp: number): string {
  return `${Math.floor(bp / 100)}${bp % 100 === 0 ? '' : `.${String(bp % 100).padStart(2, '0')}`}`;
}

/** Exact decimal text of an amount in cents: 125000 → "1250.00" (for files). */
export function centsToDecimal(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** For people: "$1,250.00", "€80.00". */
export function formatMoney(cents: number, currency: string): string {
  try {
    return new Intl.NumberFormat('en-US', { style: 'currency', currency }).format(cents / 100);
  } catch {
    return `${currency} ${centsToDecimal(cents)}`;
  }
}

/** Parse an amount as written by people ("1250", "1,250.50"): cents, or null. No floating point. */
export function parseMoney(text: string): number | null {
  const t = text.trim();
  const m = /^(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$/.exec(t);
  if (!m) return null;
  const whole = Number((m[1] as string).replaceAll(',', ''));
  const cents = Number((m[2] ?? '').padEnd(2, '0'));
  const value = whole * 100 + cents;
  return Number.isSafeInteger(value) ? value : null;
}
