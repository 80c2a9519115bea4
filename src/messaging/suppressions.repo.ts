import type { Executor } from '../db/database.js';

export type SuppressionChannel = 'email' | 'sms';

export interface Suppression {
  channel: SuppressionChannel;
  address: string;
  reason: string;
  source: string | null;
  createdAt: number;
}

/** Addresses are compared normalised: emails lower-cased, phone numbers as E.164 digits. */
export function normalizeAddress(channel: SuppressionChannel, address: string): string {
  const trimmed = address.trim();
  if (channel === 'email') return trimmed.toLowerCase();
  const digits = trimmed.replace(/[^\d+]/g, '');
  return digits.startsWith('+') ? digits : `+${digits}`;
}

export async function isSuppressed(ex: Executor, channel: SuppressionChannel, address: string): Promise<boolean> {
  const row = await ex
    .selectFrom('suppressions')
    .select('reason')
    .where('channel', '=', channel)
    .where('address', '=', normalizeAddress(channel, address))
    .executeTakeFirst();
  return row !== undefined;
}

/** The suppressed addresses among many (one query), normalised. */
export async function suppressedAmong(
  ex: Executor,
  channel: SuppressionChannel,
  addresses: readonly string[],
): Promise<Set<string>> {
  const normalized = [...new Set(addresses.map((a) => normalizeAddress(channel, a)))];
  const found = new Set<string>();
  for (let i = 0; i < normalized.length; i += 500) {
    const rows = await ex
      .selectFrom('suppressions')
      .select('address')
      .where('channel', '=', channel)
      .where('address', 'in', normalized.slice(i, i + 500))
      .execute();
    for (const r of rows) found.add(r.address);
  }
  return found;
}

/** Suppress an address; returns false when it already was. */
export async function addSuppression(
  ex: Executor,
  input: { channel: SuppressionChannel; address: string; reason: string; source?: string | null; at: number },
): Promise<boolean> {
  const res = await ex
    .insertInto('suppressions')
    .values({
      channel: input.channel,
      address: normalizeAddress(input.channel, input.address),
      reason: input.reason,
      source: input.source ?? null,
      created_at: input.at,
    })
    .onConflict((oc) => oc.columns(['channel', 'address']).doNothing())
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
}

/** Lift a suppression (the recipient opted back in); returns whether there was one. */
export async function removeSuppression(ex: Executor, channel: SuppressionChannel, address: string): Promise<boolean> {
  const res = await ex
    .deleteFrom('suppressions')
    .where('channel', '=', channel)
    .where('address', '=', normalizeAddress(channel, address))
    .executeTakeFirst();
  return Number(res.numDeletedRows) > 0;
}

export async function listSuppressions(
  ex: Executor,
  filter: { channel?: SuppressionChannel; limit: number },
): Promise<Suppression[]> {
  let q = ex.selectFrom('suppressions').selectAll().orderBy('created_at', 'desc').limit(filter.limit);
  if (filter.channel) q = q.where('channel', '=', filter.channel);
  return (await q.execute()).map((r) => ({
    channel: r.channel as SuppressionChannel,
    address: r.address,
    reason: r.reason,
    source: r.source,
    createdAt: r.created_at,
  }));
}
