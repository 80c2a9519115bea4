import type { Executor } from './database.js';

/** Small key-value facts about this installation (page id, revision counters). */
export async function getSetting(ex: Executor, key: string): Promise<string | undefined> {
  const row = await ex.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst();
  return row?.value;
}

export async function putSetting(ex: Executor, key: string, value: string, now: number): Promise<void> {
  await ex
    .insertInto('settings')
    .values({ key, value, updated_at: now })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: now }))
    .execute();
}

/** Read a setting, creating it with `make()` the first time (safe when several processes race). */
export async function ensureSetting(ex: Executor, key: string, make: () => string, now: number): Promise<string> {
  await ex
    .insertInto('settings')
    .values({ key, value: make(), updated_at: now })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  return (await getSetting(ex, key)) as string;
}
