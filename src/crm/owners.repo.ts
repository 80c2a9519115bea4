import { fromDbJson, toDbJson } from '../db/codec.js';
import type { Executor } from '../db/database.js';
import { getSetting, putSetting } from '../db/settings.repo.js';
import {
  type Assignment,
  assignOwner,
  DEFAULT_WORKING_HOURS,
  isWithinWorkingHours,
  type OwnerProfile,
  type WorkingHours,
} from './owners.js';

const CURSOR_KEY = 'crm.round_robin.cursor';

export async function findOwnerProfile(ex: Executor, userId: string): Promise<OwnerProfile | undefined> {
  const row = await ex.selectFrom('owner_profiles').selectAll().where('user_id', '=', userId).executeTakeFirst();
  return row && toProfile(row);
}

function toProfile(row: {
  user_id: string;
  phone: string | null;
  calendar_link: string | null;
  timezone: string;
  working_hours: string;
}): OwnerProfile {
  return {
    user_id: row.user_id,
    phone: row.phone,
    calendar_link: row.calendar_link,
    timezone: row.timezone,
    working_hours: fromDbJson<WorkingHours>(row.working_hours, DEFAULT_WORKING_HOURS),
  };
}

export async function upsertOwnerProfile(ex: Executor, profile: OwnerProfile, now: number): Promise<void> {
  const values = {
    phone: profile.phone,
    calendar_link: profile.calendar_link,
    timezone: profile.timezone,
    working_hours: toDbJson(profile.working_hours),
    updated_at: now,
  };
  await ex
    .insertInto('owner_profiles')
    .values({ user_id: profile.user_id, ...values })
    .onConflict((oc) => oc.column('user_id').doUpdateSet(values))
    .execute();
}

export interface OwnerDirectory {
  profiles: Map<string, OwnerProfile>;
  names: Map<string, string>;
  /** Sales users inside their working hours now, by id. */
  available: string[];
  cursor: { next: number };
  assign(ownerId: string | null): Assignment;
  /** Store the rotation's position (call once after assigning). */
  save(ex: Executor, now: number): Promise<void>;
}

/** Everything needed to assign tasks at `now`: profiles, sales users, the rotation cursor. */
export async function loadOwnerDirectory(ex: Executor, now: number): Promise<OwnerDirectory> {
  const profiles = new Map((await ex.selectFrom('owner_profiles').selectAll().execute()).map((r) => [r.user_id, toProfile(r)]));
  const users = await ex
    .selectFrom('users')
    .select(['id', 'name', 'role'])
    .where('disabled_at', 'is', null)
    .orderBy('id')
    .execute();
  const names = new Map(users.map((u) => [u.id, u.name]));
  const within = (id: string): boolean | null => {
    const p = profiles.get(id);
    return p ? isWithinWorkingHours(p, now) : null;
  };
  const available = users.filter((u) => u.role === 'sales' && within(u.id) === true).map((u) => u.id);
  const start = Number(await getSetting(ex, CURSOR_KEY)) || 0;
  const cursor = { next: start };
  return {
    profiles,
    names,
    available,
    cursor,
    assign: (ownerId) => assignOwner(ownerId && names.has(ownerId) ? ownerId : null, within, available, cursor),
    async save(trx, at) {
      if (cursor.next !== start) await putSetting(trx, CURSOR_KEY, String(cursor.next), at);
    },
  };
}
