import { newId } from '../../core/ids.js';
import { fromDbJson, toDbJson } from '../../db/codec.js';
import type { Executor } from '../../db/database.js';
import type { Row } from '../../db/schema.js';
import type { TwilioParams } from './twilio-signature.js';

export const INBOUND_KINDS = ['stop', 'start', 'help', 'conversation'] as const;
export type InboundKind = (typeof INBOUND_KINDS)[number];

export interface InboundRecord {
  id: string;
  channel: 'sms';
  providerMessageId: string;
  from: string;
  to: string;
  body: string;
  kind: InboundKind;
  receivedAt: number;
  params: TwilioParams;
  handledAt: number | null;
  outcome: string | null;
}

function toRecord(row: Row<'inbound_messages'>): InboundRecord {
  return {
    id: row.id,
    channel: 'sms',
    providerMessageId: row.provider_message_id,
    from: row.from_address,
    to: row.to_address,
    body: row.body,
    kind: row.kind as InboundKind,
    receivedAt: row.received_at,
    params: fromDbJson<TwilioParams>(row.params, {}),
    handledAt: row.handled_at,
    outcome: row.outcome,
  };
}

/**
 * Record an inbound message once. Returns the new row's id, or null when a message with this
 * provider id was recorded already (a retried webhook): the caller then does nothing again.
 */
export async function insertInbound(
  ex: Executor,
  input: {
    providerMessageId: string;
    from: string;
    to: string;
    body: string;
    kind: InboundKind;
    receivedAt: number;
    params: TwilioParams;
  },
): Promise<string | null> {
  const id = newId(input.receivedAt);
  const inserted = await ex
    .insertInto('inbound_messages')
    .values({
      id,
      channel: 'sms',
      provider_message_id: input.providerMessageId,
      from_address: input.from,
      to_address: input.to,
      body: input.body,
      kind: input.kind,
      received_at: input.receivedAt,
      params: toDbJson(input.params),
      handled_at: null,
      outcome: null,
    })
    .onConflict((oc) => oc.column('provider_message_id').doNothing())
    .returning('id')
    .executeTakeFirst();
  return inserted ? inserted.id : null;
}

export async function markInboundHandled(
  ex: Executor,
  id: string,
  patch: { kind?: InboundKind; handledAt: number | null; outcome: string | null },
): Promise<void> {
  await ex
    .updateTable('inbound_messages')
    .set({
      handled_at: patch.handledAt,
      outcome: patch.outcome === null ? null : patch.outcome.slice(0, 2000),
      ...(patch.kind !== undefined && { kind: patch.kind }),
    })
    .where('id', '=', id)
    .execute();
}

export async function findInbound(ex: Executor, id: string): Promise<InboundRecord | undefined> {
  const row = await ex.selectFrom('inbound_messages').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toRecord(row) : undefined;
}

export async function findInboundByProviderId(ex: Executor, providerMessageId: string): Promise<InboundRecord | undefined> {
  const row = await ex
    .selectFrom('inbound_messages')
    .selectAll()
    .where('provider_message_id', '=', providerMessageId)
    .executeTakeFirst();
  return row ? toRecord(row) : undefined;
}

/** Inbound messages, newest first, optionally from one address or only those no handler took. */
export async function listInbound(
  ex: Executor,
  filter: { from?: string; unhandled?: boolean; limit: number },
): Promise<InboundRecord[]> {
  let q = ex.selectFrom('inbound_messages').selectAll().orderBy('id', 'desc').limit(filter.limit);
  if (filter.from !== undefined) q = q.where('from_address', '=', filter.from);
  if (filter.unhandled) q = q.where('handled_at', 'is', null);
  return (await q.execute()).map(toRecord);
}
