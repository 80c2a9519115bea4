import type { Actor } from '../app/actor.js';
import { newId } from '../core/ids.js';
import { fromDbJson, toDbJson } from '../db/codec.js';
import type { Executor } from '../db/database.js';

export interface AuditEntry {
  id: string;
  at: number;
  actor: { type: string; id: string | null; role: string | null };
  action: string;
  target: { type: string; id: string } | null;
  ip: string | null;
  details: Record<string, unknown>;
}

/**
 * Append one entry, inside the transaction of the change it records. Entries hold ids, never
 * personal data (names, emails, phone numbers), so erasing a person leaves the log intact.
 */
export async function recordAudit(
  ex: Executor,
  input: {
    at: number;
    actor: Actor;
    action: string;
    target?: { type: string; id: string };
    details?: Record<string, unknown>;
  },
): Promise<void> {
  await ex
    .insertInto('audit_log')
    .values({
      id: newId(input.at),
      at: input.at,
      actor_type: input.actor.type,
      actor_id: input.actor.id,
      actor_role: input.actor.role,
      action: input.action,
      target_type: input.target?.type ?? null,
      target_id: input.target?.id ?? null,
      ip: input.actor.ip,
      details: toDbJson(input.details ?? {}),
    })
    .execute();
}

export async function listAudit(
  ex: Executor,
  filter: { before?: string; action?: string; targetType?: string; targetId?: string; actorId?: string; limit: number },
): Promise<AuditEntry[]> {
  let q = ex.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(filter.limit);
  if (filter.before) q = q.where('id', '<', filter.before);
  if (filter.action) q = q.where('action', '=', filter.action);
  if (filter.targetType) q = q.where('target_type', '=', filter.targetType);
  if (filter.targetId) q = q.where('target_id', '=', filter.targetId);
  if (filter.actorId) q = q.where('actor_id', '=', filter.actorId);
  const rows = await q.execute();
  return rows.map((r) => ({
    id: r.id,
    at: r.at,
    actor: { type: r.actor_type, id: r.actor_id, role: r.actor_role },
    action: r.action,
    target: r.target_type && r.target_id ? { type: r.target_type, id: r.target_id } : null,
    ip: r.ip,
    details: fromDbJson(r.details, {}),
  }));
}
