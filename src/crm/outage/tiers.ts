import { type RawBuilder, sql } from 'kysely';
import { DAY } from '../../core/clock.js';
import type { TierRule as PlaybookTierRule } from '../../playbook/playbook.js';

/**
 * Tier rules: an ordered list, the first rule whose every condition holds decides the tier.
 * Boundaries: `arrAbove` is strict (> X), `arrAtLeast` and `arrAtMost` are inclusive (>= X, <= X).
 * A lead without an ARR potential fails every ARR condition. "demoToday" means the demo falls on
 * the declaration's calendar day in the lead's time zone (UTC when it has none or an unknown one),
 * earlier that day included. "activeWithinDays" holds when the latest product view or cart update,
 * or the lead's last activity, is at most that many days before the declaration.
 */
export type TierRule = PlaybookTierRule;
export type Tier = TierRule['tier'];
export type Priority = 'high' | 'medium' | 'low';

export const PRIORITY_OF_TIER: Record<Tier, Priority> = { A: 'high', B: 'medium', C: 'low' };

/** When no rule matches (a custom list without a catch-all), the lead lands in Tier C under this name. */
export const NO_RULE_MATCHED = 'no rule matched';

export interface TierFacts {
  arr_potential: number | null;
  demo_scheduled_at: number | null;
  timezone: string | null;
  lifecycle: string;
  last_activity_at: number | null;
  /** The latest product_viewed or cart_updated intent event. */
  recent_intent_at: number | null;
}

export interface TierDecision {
  tier: Tier;
  rule: string;
}

const dayFormatters = new Map<string, Intl.DateTimeFormat>();

/** A valid IANA zone name, or UTC. */
export function effectiveZone(timezone: string | null | undefined): string {
  if (!timezone) return 'UTC';
  if (dayFormatters.has(timezone)) return timezone;
  try {
    dayFormatters.set(timezone, makeFormatter(timezone));
    return timezone;
  } catch {
    return 'UTC';
  }
}

function makeFormatter(timeZone: string): Intl.DateTimeFormat {
  return new Intl.DateTimeFormat('en-CA', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hourCycle: 'h23',
  });
}

function formatter(zone: string): Intl.DateTimeFormat {
  let f = dayFormatters.get(zone);
  if (!f) {
    f = makeFormatter(zone);
    dayFormatters.set(zone, f);
  }
  return f;
}

/** Wall-clock parts of an instant in a zone. */
export function localParts(
  at: number,
  timezone: string | null | undefined,
): { y: number; m: number; d: number; hh: number; mm: number; ss: number } {
  const parts = formatter(effectiveZone(timezone)).formatToParts(new Date(at));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value ?? 0);
  return { y: get('year'), m: get('month'), d: get('day'), hh: get('hour'), mm: get('minute'), ss: get('second') };
}

/** Start (inclusive) and end (exclusive) of the calendar day containing `at`, in `timezone`, as epoch ms. */
export function localDayWindow(at: number, timezone: string | null | undefined): { start: number; end: number } {
  const zone = effectiveZone(timezone);
  const p = localParts(at, zone);
  const start = zonedMidnight(p.y, p.m, p.d, zone);
  const next = new Date(Date.UTC(p.y, p.m - 1, p.d + 1));
  const end = zonedMidnight(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), zone);
  return { start, end };
}

/** The instant of local midnight on a date in a zone (two passes handle offset changes). */
function zonedMidnight(y: number, m: number, d: number, zone: string): number {
  const target = Date.UTC(y, m - 1, d);
  let guess = target;
  for (let i = 0; i < 3; i++) {
    const p = localParts(guess, zone);
    const seen = Date.UTC(p.y, p.m - 1, p.d, p.hh, p.mm, p.ss);
    const diff = seen - target;
    if (diff === 0) break;
    guess -= diff;
  }
  return guess;
}

function activeSince(facts: TierFacts): number | null {
  const a = facts.recent_intent_at;
  const b = facts.last_activity_at;
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}

export function ruleMatches(rule: TierRule, facts: TierFacts, declaredAt: number): boolean {
  const w = rule.when;
  const arr = facts.arr_potential;
  if (w.arrAbove !== undefined && !(arr !== null && arr > w.arrAbove)) return false;
  if (w.arrAtLeast !== undefined && !(arr !== null && arr >= w.arrAtLeast)) return false;
  if (w.arrAtMost !== undefined && !(arr !== null && arr <= w.arrAtMost)) return false;
  if (w.lifecycle !== undefined && !w.lifecycle.includes(facts.lifecycle as (typeof w.lifecycle)[number])) return false;
  if (w.activeWithinDays !== undefined) {
    const last = activeSince(facts);
    if (last === null || last < declaredAt - w.activeWithinDays * DAY) return false;
  }
  if (w.demoToday !== undefined) {
    const demo = facts.demo_scheduled_at;
    let today = false;
    if (demo !== null) {
      const day = localDayWindow(declaredAt, facts.timezone);
      today = demo >= day.start && demo < day.end;
    }
    if (today !== w.demoToday) return false;
  }
  return true;
}

/** The tier of a lead at the declaration: the first matching rule wins. */
export function decideTier(rules: readonly TierRule[], facts: TierFacts, declaredAt: number): TierDecision {
  for (const rule of rules) {
    if (ruleMatches(rule, facts, declaredAt)) return { tier: rule.tier, rule: rule.name };
  }
  return { tier: 'C', rule: NO_RULE_MATCHED };
}

/**
 * The same rules as one SQL CASE over the `leads` table (both dialects), returning the index of
 * the first matching rule (or -1). `zones` are the distinct time zones found on the leads being
 * tiered, so "demo today" compares with each zone's day window computed here.
 */
export function ruleIndexSql(
  rules: readonly TierRule[],
  declaredAt: number,
  zones: readonly (string | null)[],
): RawBuilder<number> {
  const conditions = rules.map((rule) => conditionSql(rule, declaredAt, zones));
  const whens = conditions.map((c, i) => sql`when ${c} then ${sql.lit(i)}`);
  if (whens.length === 0) return sql<number>`-1`;
  return sql<number>`case ${sql.join(whens, sql` `)} else -1 end`;
}

function conditionSql(rule: TierRule, declaredAt: number, zones: readonly (string | null)[]): RawBuilder<unknown> {
  const w = rule.when;
  const parts: RawBuilder<unknown>[] = [];
  if (w.arrAbove !== undefined) parts.push(sql`leads.arr_potential > ${sql.lit(w.arrAbove)}`);
  if (w.arrAtLeast !== undefined) parts.push(sql`leads.arr_potential >= ${sql.lit(w.arrAtLeast)}`);
  if (w.arrAtMost !== undefined) parts.push(sql`leads.arr_potential <= ${sql.lit(w.arrAtMost)}`);
  if (w.lifecycle !== undefined) {
    parts.push(w.lifecycle.length === 0 ? sql`1 = 0` : sql`leads.lifecycle in (${sql.join(w.lifecycle.map((l) => sql.lit(l)))})`);
  }
  if (w.activeWithinDays !== undefined) {
    const since = sql.lit(Math.ceil(declaredAt - w.activeWithinDays * DAY));
    parts.push(
      sql`(leads.last_activity_at >= ${since} or exists (select 1 from intent_events ie where ie.lead_id = leads.id and ie.type in ('product_viewed', 'cart_updated') and ie.at >= ${since}))`,
    );
  }
  if (w.demoToday !== undefined) {
    const utc = localDayWindow(declaredAt, 'UTC');
    const named = [...new Set(zones.filter((z): z is string => !!z && effectiveZone(z) !== 'UTC'))];
    const bound = (key: 'start' | 'end') => {
      if (named.length === 0) return sql.lit(utc[key]);
      const cases = named.map((z) => sql`when ${sql.lit(z)} then ${sql.lit(localDayWindow(declaredAt, z)[key])}`);
      return sql`(case leads.timezone ${sql.join(cases, sql` `)} else ${sql.lit(utc[key])} end)`;
    };
    const today = sql`(leads.demo_scheduled_at is not null and leads.demo_scheduled_at >= ${bound('start')} and leads.demo_scheduled_at < ${bound('end')})`;
    parts.push(w.demoToday ? today : sql`not ${today}`);
  }
  if (parts.length === 0) return sql`1 = 1`;
  return sql`(${sql.join(parts, sql` and `)})`;
}
