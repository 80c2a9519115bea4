import { z } from 'zod';
import { effectiveZone, localParts } from './outage/tiers.js';

/**
 * Owners are users with the sales role; their profile says how to reach them and when they work.
 * Working hours are in the owner's time zone; days are ISO weekdays (1 Monday … 7 Sunday, 0 is
 * accepted for Sunday too). `end` is exclusive; an `end` before `start` spans midnight.
 */
export interface WorkingHours {
  days: number[];
  start: string;
  end: string;
}

export const DEFAULT_WORKING_HOURS: WorkingHours = { days: [1, 2, 3, 4, 5], start: '08:00', end: '18:00' };

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'expected HH:MM (24-hour)');

export const workingHoursSchema = z.strictObject({
  days: z.array(z.number().int().min(0).max(7)).max(8),
  start: hhmm,
  end: hhmm,
});

export const ownerProfileInputSchema = z.strictObject({
  phone: z
    .string()
    .regex(/^\+[1-9]\d{6,14}$/, 'expected an E.164 number like +14155550100')
    .nullable()
    .optional(),
  calendar_link: z.url().nullable().optional(),
  timezone: z
    .string()
    .refine((tz) => tz === 'UTC' || effectiveZone(tz) === tz, 'expected an IANA time zone like Europe/Paris')
    .optional(),
  working_hours: workingHoursSchema.optional(),
});
export type OwnerProfileInput = z.output<typeof ownerProfileInputSchema>;

export interface OwnerProfile {
  user_id: string;
  phone: string | null;
  calendar_link: string | null;
  timezone: string;
  working_hours: WorkingHours;
}

function minutesOf(value: string): number {
  const [h, m] = value.split(':');
  return Number(h) * 60 + Number(m);
}

/** Whether `at` falls inside the owner's working hours. */
export function isWithinWorkingHours(profile: Pick<OwnerProfile, 'timezone' | 'working_hours'>, at: number): boolean {
  const wh = profile.working_hours;
  const p = localParts(at, profile.timezone);
  const weekday = new Date(Date.UTC(p.y, p.m - 1, p.d)).getUTCDay(); // 0 Sunday
  const iso = weekday === 0 ? 7 : weekday;
  const minute = p.hh * 60 + p.mm;
  const start = minutesOf(wh.start);
  const end = minutesOf(wh.end);
  const onDay = (d: number) => wh.days.includes(d) || (d === 7 && wh.days.includes(0));
  if (start === end) return false;
  if (start < end) return onDay(iso) && minute >= start && minute < end;
  // Overnight shift: the evening part belongs to today, the morning part to the day before.
  if (minute >= start) return onDay(iso);
  const yesterday = iso === 1 ? 7 : iso - 1;
  return minute < end && onDay(yesterday);
}

export interface Assignment {
  ownerId: string | null;
  reason: string;
}

/**
 * Who works a task: the lead's owner when inside working hours (or with no hours on file), else
 * the next sales user inside working hours in a fair rotation (`cursor` counts assignments made so
 * far; the caller stores it), else the owner anyway (nobody else is working). No owner: unassigned.
 */
export function assignOwner(
  ownerId: string | null,
  isWorking: (userId: string) => boolean | null,
  available: readonly string[],
  cursor: { next: number },
): Assignment {
  if (!ownerId) return { ownerId: null, reason: 'unassigned: the lead has no owner' };
  const working = isWorking(ownerId);
  if (working === null) return { ownerId, reason: 'owner (no working hours on file)' };
  if (working) return { ownerId, reason: 'owner' };
  const others = available.filter((id) => id !== ownerId);
  if (others.length === 0) return { ownerId, reason: 'owner off hours; nobody else in working hours' };
  const pick = others[cursor.next % others.length] as string;
  cursor.next += 1;
  return { ownerId: pick, reason: 'round robin: owner off hours' };
}
