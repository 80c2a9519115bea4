import { sql } from 'kysely';
import { newId } from '../core/ids.js';
import { fromDbBool, fromDbJson, toDbBool, toDbJson } from '../db/codec.js';
import type { Executor } from '../db/database.js';
import type { Row } from '../db/schema.js';
import { acceptsProviderStatus, type MessageStatus, type OutboundChannel, type Purpose } from './messaging.js';

export interface Message {
  id: string;
  idempotencyKey: string;
  incidentId: string | null;
  channel: OutboundChannel;
  purpose: Purpose;
  templateKey: string | null;
  templateVersionId: string | null;
  recipient: string;
  recipientName: string | null;
  recipientRef: string | null;
  timezone: string | null;
  drill: boolean;
  subject: string | null;
  bodyText: string;
  bodyHtml: string | null;
  status: MessageStatus;
  statusReason: string | null;
  provider: string | null;
  providerMessageId: string | null;
  attempts: number;
  metadata: Record<string, unknown>;
  createdAt: number;
  updatedAt: number;
  sentAt: number | null;
  deliveredAt: number | null;
}

export interface NewMessage {
  idempotencyKey: string;
  incidentId?: string | null | undefined;
  channel: OutboundChannel;
  purpose: Purpose;
  templateKey?: string | null | undefined;
  templateVersionId?: string | null | undefined;
  recipient: string;
  recipientName?: string | null | undefined;
  recipientRef?: string | null | undefined;
  timezone?: string | null | undefined;
  drill: boolean;
  subject?: string | null | undefined;
  bodyText: string;
  bodyHtml?: string | null | undefined;
  metadata?: Record<string, unknown> | undefined;
}

export interface Attempt {
  id: string;
  messageId: string;
  at: number;
  provider: string;
  outcome: string;
  code: string | null;
  detail: string | null;
  durationMs: number;
}

export function toMessage(row: Row<'messages'>): Message {
  return {
    id: row.id,
    idempotencyKey: row.idempotency_key,
    incidentId: row.incident_id,
    channel: row.channel as OutboundChannel,
    purpose: row.purpose as Purpose,
    templateKey: row.template_key,
    templateVersionId: row.template_version_id,
    recipient: row.recipient,
    recipientName: row.recipient_name,
    recipientRef: row.recipient_ref,
    timezone: row.timezone,
    drill: fromDbBool(row.drill),
    subject: row.subject,
    bodyText: row.body_text,
    bodyHtml: row.body_html,
    status: row.status as MessageStatus,
    statusReason: row.status_reason,
    provider: row.provider,
    providerMessageId: row.provider_message_id,
    attempts: row.attempts,
    metadata: fromDbJson(row.metadata, {}),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    sentAt: row.sent_at,
    deliveredAt: row.delivered_at,
  };
}

/**
 * Insert messages; one whose idempotency key exists already is left as it is. Returns the ids
 * of the messages inserted now, by idempotency key. Multi-row statements in chunks.
 */
export async function insertMessages(ex: Executor, now: number, messages: readonly NewMessage[]): Promise<Map<string, string>> {
  const created = new Map<string, string>();
  for (let i = 0; i < messages.length; i += 200) {
    const chunk = messages.slice(i, i + 200);
    const rows = chunk.map((m) => ({
      id: newId(now),
      idempotency_key: m.idempotencyKey,
      incident_id: m.incidentId ?? null,
      channel: m.channel,
      purpose: m.purpose,
      template_key: m.templateKey ?? null,
      template_version_id: m.templateVersionId ?? null,
      recipient: m.recipient,
      recipient_name: m.recipientName ?? null,
      recipient_ref: m.recipientRef ?? null,
      timezone: m.timezone ?? null,
      drill: toDbBool(m.drill),
      subject: m.subject ?? null,
      body_text: m.bodyText,
      body_html: m.bodyHtml ?? null,
      status: 'queued',
      status_reason: null,
      provider: null,
      provider_message_id: null,
      attempts: 0,
      metadata: toDbJson(m.metadata ?? {}),
      created_at: now,
      updated_at: now,
      sent_at: null,
      delivered_at: null,
      provider_status_at: null,
    }));
    const inserted = await ex
      .insertInto('messages')
      .values(rows)
      .onConflict((oc) => oc.column('idempotency_key').doNothing())
      .returning(['id', 'idempotency_key'])
      .execute();
    for (const r of inserted) created.set(r.idempotency_key, r.id);
  }
  return created;
}

export async function findMessage(ex: Executor, id: string): Promise<Message | undefined> {
  const row = await ex.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst();
  return row ? toMessage(row) : undefined;
}

/**
 * Record sends of many messages in one statement: status, provider, its message id and the time.
 * Per-message values go through CASE on the id.
 */
export async function markSent(
  ex: Executor,
  sent: ReadonlyArray<{ id: string; status: 'sent' | 'delivered'; provider: string; providerMessageId: string }>,
  now: number,
): Promise<void> {
  for (let i = 0; i < sent.length; i += 200) {
    const chunk = sent.slice(i, i + 200);
    const byId = <K extends 'status' | 'provider' | 'providerMessageId'>(key: K) =>
      sql<string>`case id ${sql.join(
        chunk.map((m) => sql`when ${m.id} then ${m[key]}`),
        sql` `,
      )} end`;
    await ex
      .updateTable('messages')
      .set({
        status: byId('status'),
        provider: byId('provider'),
        provider_message_id: byId('providerMessageId'),
        status_reason: null,
        sent_at: now,
        updated_at: now,
      })
      .where(
        'id',
        'in',
        chunk.map((m) => m.id),
      )
      .execute();
    const delivered = chunk.filter((m) => m.status === 'delivered').map((m) => m.id);
    if (delivered.length > 0) await ex.updateTable('messages').set({ delivered_at: now }).where('id', 'in', delivered).execute();
  }
}

export async function findMessagesByIds(ex: Executor, ids: readonly string[]): Promise<Map<string, Message>> {
  const out = new Map<string, Message>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await ex
      .selectFrom('messages')
      .selectAll()
      .where('id', 'in', ids.slice(i, i + 500))
      .execute();
    for (const r of rows) out.set(r.id, toMessage(r));
  }
  return out;
}

/** Mark messages as being sent now (one statement for a batch). */
export async function markSending(ex: Executor, ids: readonly string[], now: number): Promise<void> {
  for (let i = 0; i < ids.length; i += 500) {
    await ex
      .updateTable('messages')
      .set((eb) => ({ status: 'sending', attempts: eb('attempts', '+', 1), updated_at: now }))
      .where('id', 'in', ids.slice(i, i + 500))
      .execute();
  }
}

export async function findMessageByKey(ex: Executor, key: string): Promise<Message | undefined> {
  const row = await ex.selectFrom('messages').selectAll().where('idempotency_key', '=', key).executeTakeFirst();
  return row ? toMessage(row) : undefined;
}

export async function findMessageByProviderId(ex: Executor, providerMessageId: string): Promise<Message | undefined> {
  const row = await ex.selectFrom('messages').selectAll().where('provider_message_id', '=', providerMessageId).executeTakeFirst();
  return row ? toMessage(row) : undefined;
}

export async function updateMessage(
  ex: Executor,
  id: string,
  patch: {
    status?: MessageStatus;
    statusReason?: string | null;
    provider?: string | null;
    providerMessageId?: string | null;
    attemptsDelta?: number;
    sentAt?: number;
    deliveredAt?: number;
    now: number;
  },
): Promise<void> {
  await ex
    .updateTable('messages')
    .set((eb) => ({
      updated_at: patch.now,
      ...(patch.status !== undefined && { status: patch.status }),
      ...(patch.statusReason !== undefined && { status_reason: patch.statusReason }),
      ...(patch.provider !== undefined && { provider: patch.provider }),
      ...(patch.providerMessageId !== undefined && { provider_message_id: patch.providerMessageId }),
      ...(patch.attemptsDelta !== undefined && { attempts: eb('attempts', '+', patch.attemptsDelta) }),
      ...(patch.sentAt !== undefined && { sent_at: patch.sentAt }),
      ...(patch.deliveredAt !== undefined && { delivered_at: patch.deliveredAt }),
    }))
    .where('id', '=', id)
    .execute();
}

export async function insertAttempt(ex: Executor, attempt: Omit<Attempt, 'id'>): Promise<void> {
  await ex
    .insertInto('message_attempts')
    .values({
      id: newId(attempt.at),
      message_id: attempt.messageId,
      at: attempt.at,
      provider: attempt.provider,
      outcome: attempt.outcome,
      code: attempt.code,
      detail: attempt.detail?.slice(0, 2000) ?? null,
      duration_ms: Math.round(attempt.durationMs),
    })
    .execute();
}

/** Attempt rows of many messages in multi-row statements. */
export async function insertAttempts(ex: Executor, attempts: ReadonlyArray<Omit<Attempt, 'id'>>): Promise<void> {
  for (let i = 0; i < attempts.length; i += 200) {
    await ex
      .insertInto('message_attempts')
      .values(
        attempts.slice(i, i + 200).map((a) => ({
          id: newId(a.at),
          message_id: a.messageId,
          at: a.at,
          provider: a.provider,
          outcome: a.outcome,
          code: a.code,
          detail: a.detail?.slice(0, 2000) ?? null,
          duration_ms: Math.round(a.durationMs),
        })),
      )
      .execute();
  }
}

export async function listAttempts(ex: Executor, messageId: string): Promise<Attempt[]> {
  const rows = await ex.selectFrom('message_attempts').selectAll().where('message_id', '=', messageId).orderBy('id').execute();
  return rows.map((r) => ({
    id: r.id,
    messageId: r.message_id,
    at: r.at,
    provider: r.provider,
    outcome: r.outcome,
    code: r.code,
    detail: r.detail,
    durationMs: r.duration_ms,
  }));
}

export interface MessageFilter {
  incidentId?: string | undefined;
  channel?: string | undefined;
  status?: string | undefined;
  recipient?: string | undefined;
  before?: string | undefined;
  limit: number;
}

export async function listMessages(ex: Executor, filter: MessageFilter): Promise<Message[]> {
  let q = ex.selectFrom('messages').selectAll().orderBy('id', 'desc').limit(filter.limit);
  if (filter.incidentId) q = q.where('incident_id', '=', filter.incidentId);
  if (filter.channel) q = q.where('channel', '=', filter.channel);
  if (filter.status) q = q.where('status', '=', filter.status);
  if (filter.recipient) q = q.where('recipient', '=', filter.recipient);
  if (filter.before) q = q.where('id', '<', filter.before);
  return (await q.execute()).map(toMessage);
}

export async function countMessages(
  ex: Executor,
  filter: { incidentId?: string | undefined },
): Promise<Array<{ channel: string; status: string; n: number }>> {
  let q = ex
    .selectFrom('messages')
    .select(['channel', 'status', sql<number>`count(*)`.as('n')])
    .groupBy(['channel', 'status']);
  if (filter.incidentId) q = q.where('incident_id', '=', filter.incidentId);
  return (await q.execute()).map((r) => ({ channel: r.channel, status: r.status, n: Number(r.n) }));
}

/**
 * A provider's delivery report (Twilio status callback, bounce). Idempotent and tolerant of
 * reordering: only forward moves are applied. Returns whether anything changed.
 */
export async function applyProviderStatus(
  ex: Executor,
  input: { providerMessageId: string; status: MessageStatus; reason?: string | null; at: number },
): Promise<{ message: Message; changed: boolean } | undefined> {
  const message = await findMessageByProviderId(ex, input.providerMessageId);
  if (!message) return undefined;
  if (!acceptsProviderStatus(message.status, input.status)) return { message, changed: false };
  const res = await ex
    .updateTable('messages')
    .set({
      status: input.status,
      status_reason: input.reason ?? null,
      provider_status_at: input.at,
      updated_at: input.at,
      ...(input.status === 'delivered' && { delivered_at: input.at }),
    })
    .where('id', '=', message.id)
    .where('status', '=', message.status)
    .executeTakeFirst();
  // Zero rows: another report changed the message between the read and this write.
  const changed = Number(res.numUpdatedRows) === 1;
  return { message: changed ? { ...message, status: input.status } : message, changed };
}
